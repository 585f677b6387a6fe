"""`python -m caseloop …` is the `caseloop` console script (used to start child processes with this interpreter)."""

import sys

from caseloop.cli import main

if __name__ == "__main__":
    sys.exit(main())
