"""The README's table of `caseloop` commands names only commands and options the CLI has, and all its commands."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from caseloop import cli

README = Path(__file__).resolve().parents[2] / "README.md"


def _rows() -> list[str]:
    text = README.read_text()
    table = text.split("## The `caseloop` command", 1)[1].split("\n## ", 1)[0]
    return [line for line in table.splitlines() if line.startswith("| `caseloop ")]


def _usages() -> list[tuple[list[str], list[str]]]:
    """(command words, options) for each usage in the table's first column (a cell may hold several, split by /)."""
    usages = []
    for row in _rows():
        cell = row.split(" | ")[0]
        for usage in re.findall(r"`(caseloop [^`]*)`", cell):
            words = usage.split()[1:]
            command = [w for w in words if re.fullmatch(r"[a-z][a-z-]*", w)]
            command = command[:2] if command[:1] in (["token"], ["mailbox"], ["webhooks"]) else command[:1]
            usages.append((command, re.findall(r"--[a-z][a-z-]*", usage)))
    return usages


def _help(capsys: pytest.CaptureFixture[str], *words: str) -> str:
    with pytest.raises(SystemExit) as exited:
        cli.build_parser().parse_args([*words, "--help"])
    assert exited.value.code == 0
    return capsys.readouterr().out


def test_each_command_and_option_in_the_readme_exists(capsys: pytest.CaptureFixture[str]) -> None:
    usages = _usages()
    assert len(usages) >= 12
    for command, options in usages:
        if command == ["bench"]:
            continue  # passes everything on to `python -m bench`
        shown = _help(capsys, *command)
        for option in options:
            found = re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", shown)
            assert found, f"caseloop {' '.join(command)} has no {option}"


def test_the_readme_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    listed = {command[0] for command, _ in _usages()}
    commands = set(re.findall(r"^    ([a-z][a-z-]+) ", _help(capsys), re.MULTILINE))
    assert len(commands) >= 12
    assert not commands - listed, f"not in the README's table: {sorted(commands - listed)}"
