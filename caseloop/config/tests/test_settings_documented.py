"""Every environment variable the settings read is documented, in the README or in docs/.

A setting nobody can find is a setting nobody can use; one documented but
never read misleads. Names are matched whole, and a table's shorthand
(`CASELOOP_EMAIL_HOST`, `_PORT`, `_USER`) counts for the names it abbreviates.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
SETTINGS = REPO / "caseloop" / "config" / "settings.py"
NAME = re.compile(r"\bCASELOOP_[A-Z0-9_]*[A-Z0-9]")
SHORTHAND = re.compile(r"(?<![A-Za-z0-9_])_([A-Z][A-Z0-9_]*[A-Z0-9])\b")


def read_by_settings() -> set[str]:
    # the settings module reads the environment with quoted names; its own attributes are bare identifiers
    return set(re.findall(r"[\"'](CASELOOP_[A-Z0-9_]+)[\"']", SETTINGS.read_text()))


def documented(*, with_decisions: bool = True) -> tuple[set[str], set[str]]:
    """The names the docs spell out, and those their shorthand may stand for.

    Decision records (docs/adr/) are history: they may name a setting since removed.
    """
    names: set[str] = set()
    shorthand: set[str] = set()
    pages = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
    for page in pages if with_decisions else [p for p in pages if "adr" not in p.relative_to(REPO).parts]:
        for line in page.read_text().splitlines():
            full = NAME.findall(line)
            names.update(full)
            for rest in SHORTHAND.findall(line) if full else ():
                # "CASELOOP_EMAIL_HOST, _PORT" replaces the last word; "CASELOOP_LOGIN_MAX_FAILURES, _PER_IP" adds
                shorthand.update({f"{full[0].rsplit('_', 1)[0]}_{rest}", f"{full[0]}_{rest}"})
    return names, shorthand


def test_every_variable_the_settings_read_is_documented() -> None:
    read = read_by_settings()
    assert len(read) > 50  # the reading above still finds them
    names, shorthand = documented()
    missing = sorted(read - names - shorthand)
    assert not missing, f"read by caseloop/config/settings.py but in no doc: {missing}"


def test_every_documented_variable_is_read_somewhere() -> None:
    # tests count: some variables steer only them (refreshing the README's screenshots, a mail corpus)
    source = "\n".join(p.read_text() for p in [*(REPO / "caseloop").rglob("*.py"), REPO / "bootstrap.py"])
    unknown = sorted(n for n in documented(with_decisions=False)[0] if n not in source)
    assert not unknown, f"documented but read nowhere: {unknown}"
