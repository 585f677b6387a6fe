"""CASELOOP_TRUSTED_PROXIES is parsed once, at start: a value that does not parse stops every process with the
reason, and `caseloop check` says it in one line. Settings are read once per process, so each case runs in a
fresh interpreter."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
CHECK = "import sys; from caseloop.cli import main; sys.exit(main(['check']))"


def _check(tmp_path: Path, trusted: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "caseloop.sqlite3").touch()  # a data folder `check` will look at
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CASELOOP_", "DJANGO_"))}
    env.update(CASELOOP_DATA_DIR=str(tmp_path), CASELOOP_SECRET_KEY="test-only-key", CASELOOP_TRUSTED_PROXIES=trusted)
    # this interpreter running the command above: no outside input
    return subprocess.run([sys.executable, "-c", CHECK], cwd=REPO, env=env, capture_output=True,  # noqa: S603
                          text=True, check=False, timeout=120)  # fmt: skip


def test_check_says_which_entry_of_the_setting_is_wrong(tmp_path: Path) -> None:
    result = _check(tmp_path, "10.0.0.0/8, proxy.internal")
    assert result.returncode == 1
    assert result.stderr.startswith("caseloop: configuration error: CASELOOP_TRUSTED_PROXIES: 'proxy.internal' is "
                                    "not an IP address or network")  # fmt: skip
    assert "Traceback" not in result.stderr


def test_a_good_value_starts(tmp_path: Path) -> None:
    result = _check(tmp_path, "10.0.0.0/8, 192.0.2.10, fd00::/8")
    assert "configuration error" not in result.stderr and "caseloop      " in result.stdout
