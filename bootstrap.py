#!/usr/bin/env python3
"""Set up caseloop from a fresh checkout with nothing but python3 (>= 3.11) and git.

    python3 bootstrap.py start   install, create the embedded database, load demo data, serve
    python3 bootstrap.py test    install what the tests need, then run the whole suite

Both create ./.venv and install the pinned versions in requirements/; a second
run reinstalls only when those files changed. Extra arguments after `test` go
to pytest; after `start` to `caseloop quickstart`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / "bin"
PYTHON = BIN / "python"


def run(*args: str | Path, env: dict[str, str] | None = None) -> None:
    subprocess.run([str(a) for a in args], check=True, cwd=ROOT, env=env)


def ensure_venv(requirements: str) -> None:
    if not PYTHON.exists():
        print("Creating .venv …", flush=True)
        try:
            venv.EnvBuilder(with_pip=True).create(VENV)
        except subprocess.CalledProcessError:
            # a half-made .venv without pip would make every later run fail the same way
            shutil.rmtree(VENV, ignore_errors=True)
            print("Could not create .venv with pip in it. On Debian or Ubuntu: apt install python3-venv", flush=True)
            raise
    lock = ROOT / "requirements" / requirements
    digest = hashlib.sha256()
    for path in [*sorted((ROOT / "requirements").glob("*.txt")), ROOT / "pyproject.toml"]:
        digest.update(path.read_bytes())
    stamp = VENV / f".installed-{requirements}"
    if stamp.exists() and stamp.read_text() == digest.hexdigest():
        return
    print(f"Installing pinned dependencies from requirements/{requirements} …", flush=True)
    run(PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", lock)
    run(
        PYTHON,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-deps",
        "-e",
        ".",
    )
    stamp.write_text(digest.hexdigest())


# Debian packages the tests drive: the binary that shows one is installed, and what it serves.
TEST_PACKAGES = {
    "chromium": ("/usr/bin/chromium", "browser tests"),
    "dovecot-imapd": ("/usr/sbin/dovecot", "IMAP (fetchmail) tests"),
}


def ensure_debian_packages() -> None:
    """Install with apt the Debian packages the tests need (Chromium, Dovecot) when missing."""
    missing = [name for name, (binary, _) in TEST_PACKAGES.items() if not Path(binary).exists()]
    if not missing:
        return
    if shutil.which("apt-get") and os.geteuid() == 0:
        print(f"Installing Debian's {', '.join(missing)} for the tests …", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        run("apt-get", "update", "-qq", env=env)
        run("apt-get", "install", "-y", "-qq", *missing, env=env)
    else:
        for name in missing:
            binary, purpose = TEST_PACKAGES[name]
            print(f"Note: {binary} is missing ({name}); {purpose} will be skipped.", flush=True)


def main(argv: list[str]) -> int:
    if sys.version_info < (3, 11):  # noqa: UP036  (this file runs on whatever python3 is)
        print("caseloop needs Python 3.11 or newer.")
        return 2
    if not argv or argv[0] not in {"start", "test"}:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    os.chdir(ROOT)
    try:
        return _run(command, rest)
    except subprocess.CalledProcessError as exc:
        print(f"bootstrap: `{' '.join(map(str, exc.cmd))}` failed with exit status {exc.returncode}; see above.")
        return exc.returncode or 1


def _run(command: str, rest: list[str]) -> int:
    if command == "start":
        ensure_venv("app.txt")
        os.execv(BIN / "caseloop", [str(BIN / "caseloop"), "quickstart", *rest])
    ensure_venv("test.txt")
    ensure_debian_packages()
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run([str(PYTHON), "-m", "pytest", "-n", "auto", *rest], cwd=ROOT, env=env, check=False)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
