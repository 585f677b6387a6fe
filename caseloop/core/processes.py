"""Whether a process is still there, for the write gate's holder and a worker's parent."""

from __future__ import annotations

import os


def alive(pid: int) -> bool:
    """True while `pid` is a running process (a zombie, dead but not yet reaped, counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:  # no /proc here: kill's answer is all there is
        return True
