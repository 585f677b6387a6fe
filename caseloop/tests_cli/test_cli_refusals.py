"""The CLI's refusals (QA, 2026-11): checked before anything is asked for or written, one line, the right flag."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from caseloop import cli
from caseloop.cases.models import Case
from caseloop.channels.email.models import Mailbox
from caseloop.identity.actions import create_token
from caseloop.identity.models import ApiToken, User
from caseloop.testing.factories import make_agent
from caseloop.tests_cli.test_cli import Capture, run

pytestmark = pytest.mark.django_db


class Terminal(io.StringIO):
    """stdin as a terminal: the CLI asks with input() and getpass, which the tests replace."""

    def isatty(self) -> bool:
        return True


def answer(monkeypatch: Any, *, typed: list[str], passwords: list[str]) -> list[str]:
    """Answers to the prompts, in order; returns the prompts asked."""
    asked: list[str] = []

    def typed_answer(prompt: str) -> str:
        asked.append(prompt)
        return typed.pop(0)

    def password_answer(prompt: str) -> str:
        asked.append(prompt)
        return passwords.pop(0)

    monkeypatch.setattr(sys, "stdin", Terminal())
    monkeypatch.setattr("builtins.input", typed_answer)
    monkeypatch.setattr("getpass.getpass", password_answer)
    return asked


# --- createadmin ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--username", "a b/c", "--email", "q@example.com"],
            "A username may contain only letters, digits and the characters @.+-_",
        ),
        (["--username", "u" * 300, "--email", "q@example.com"], "A username has at most 150 characters."),
        (["--username", "qa4", "--email", "notanemail"], "'notanemail' is not an email address."),
    ],
)
def test_createadmin_refuses_a_username_or_email_the_model_forbids(capsys: Capture, argv: list[str],
                                                                   message: str) -> None:  # fmt: skip
    status, out, err = run(capsys, "createadmin", *argv, "--password", "a-long-pass-phrase-1")

    assert (status, out) == (1, "") and err == f"caseloop: {message}\n"
    assert not User.objects.exists()


def test_createadmin_with_an_empty_password_option_says_it_is_empty(capsys: Capture) -> None:
    status, out, err = run(capsys, "createadmin", "--username", "root", "--email", "", "--password", "")

    assert (status, out) == (2, "")
    assert err == "caseloop: The password given with --password is empty; nothing was changed.\n"
    assert not User.objects.exists()


def test_createadmin_refuses_an_empty_password_typed_at_the_prompt(capsys: Capture, monkeypatch: Any) -> None:
    answer(monkeypatch, typed=[], passwords=["", ""])

    status, out, err = run(capsys, "createadmin", "--username", "qa22", "--email", "qa22@example.com")

    assert (status, out) == (2, "") and err == "caseloop: A password is required; nothing was changed.\n"
    assert not User.objects.exists()


def test_createadmin_refuses_an_empty_username_before_asking_anything_else(capsys: Capture,
                                                                         monkeypatch: Any) -> None:  # fmt: skip
    asked = answer(monkeypatch, typed=["", "x@example.com"], passwords=["a-long-pass-phrase-1"] * 2)

    status, out, err = run(capsys, "createadmin")

    assert (status, out) == (1, "") and err == "caseloop: A username is required.\n"
    assert asked == ["Username: "]
    assert not User.objects.exists()


def test_createadmin_refuses_a_taken_username_before_asking_for_passwords(capsys: Capture, monkeypatch: Any) -> None:
    make_agent(username="boss")
    asked = answer(monkeypatch, typed=["BOSS"], passwords=["a-long-pass-phrase-1"] * 2)

    status, _, err = run(capsys, "createadmin", "--email", "")

    assert status == 1 and err == "caseloop: Username 'BOSS' is taken.\n" and asked == ["Username: "]


def test_createadmin_at_the_prompt_still_creates_an_administrator(capsys: Capture, monkeypatch: Any) -> None:
    answer(monkeypatch, typed=["root", "Root@Example.com"], passwords=["a-long-pass-phrase-1"] * 2)

    status, out, _ = run(capsys, "createadmin")

    assert (status, out) == (0, "Created administrator root.\n")
    assert User.objects.get().check_password("a-long-pass-phrase-1")


# --- mailbox add ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (["--imap-host", "127.0.0.1", "--imap-user", "u"], "",
         "Give --imap-password (or --imap-password-stdin), or run the command in a terminal to be asked for one."),
        (["--imap-user", "u"], "", "IMAP needs both --imap-host and --imap-user"),
        (["--imap-host", "127.0.0.1"], "", "IMAP needs both --imap-host and --imap-user"),
        (["--imap-host", "127.0.0.1", "--imap-user", "u", "--imap-password-stdin"], "",
         "The IMAP password read from stdin is empty; nothing was changed."),
        (["--imap-host", "127.0.0.1", "--imap-user", "u", "--imap-password", ""], "",
         "The password given with --imap-password is empty; nothing was changed."),
        (["--imap-password-stdin"], "pw\n", "An IMAP password needs --imap-host and --imap-user."),
        (["--imap-password", "pw"], "", "An IMAP password needs --imap-host and --imap-user."),
    ],
)  # fmt: skip
def test_mailbox_add_refusals_name_its_own_flags_and_change_nothing(capsys: Capture, monkeypatch: Any,
                                                                    argv: list[str], stdin: str,
                                                                    message: str) -> None:  # fmt: skip
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))  # not a terminal

    status, out, err = run(capsys, "mailbox", "add", "imap@example.com", *argv)

    assert (status, out) == (2, "") and err.startswith(f"caseloop: {message}") and err.count("\n") == 1
    assert not Mailbox.objects.exists()


def test_mailbox_add_says_a_password_was_stored_only_when_one_was(capsys: Capture, monkeypatch: Any) -> None:
    status, out, _ = run(capsys, "mailbox", "add", "support@example.com")
    assert (status, out) == (0, "Added mailbox support@example.com (received by SMTP).\n")

    monkeypatch.setattr(sys, "stdin", io.StringIO("pw\n"))
    status, out, _ = run(capsys, "mailbox", "add", "imap@example.com", "--imap-host", "127.0.0.1",
                         "--imap-user", "u", "--imap-password-stdin")  # fmt: skip
    assert status == 0
    assert out == "Added mailbox imap@example.com (fetched from u@127.0.0.1; password stored sealed).\n"


# --- tokens -----------------------------------------------------------------------------------------------------
def test_token_revoke_by_the_apis_id_and_a_second_time_says_already_revoked(capsys: Capture) -> None:
    issued = create_token(user=make_agent(username="bob"), name="ci")
    token = issued.token

    status, out, _ = run(capsys, "token", "revoke", str(token.pk))
    assert (status, out) == (0, f"Revoked token {token.pk} (prefix {token.prefix}, 'ci' of bob).\n")
    token.refresh_from_db()
    revoked_at = token.revoked_at
    assert revoked_at is not None

    status, out, _ = run(capsys, "token", "revoke", token.prefix)
    assert (status, out) == (0, f"Token {token.pk} (prefix {token.prefix}, 'ci' of bob) was already revoked.\n")
    token.refresh_from_db()
    assert token.revoked_at == revoked_at


def test_token_list_shows_the_apis_id_and_the_prefix(capsys: Capture) -> None:
    token = create_token(user=make_agent(username="bob"), name="ci").token

    status, out, _ = run(capsys, "token", "list")

    header, row = out.splitlines()
    assert status == 0 and header.split()[:3] == ["ID", "PREFIX", "USER"]
    assert row.split()[:4] == [str(token.pk), token.prefix, "bob", "ci"]


@pytest.mark.parametrize(("name", "message"), [("", "A token needs a name."),
                                               ("n" * 101, "A token's name has at most 100 characters.")])  # fmt: skip
def test_token_create_refuses_an_empty_or_too_long_name(capsys: Capture, name: str, message: str) -> None:
    make_agent(username="bob")

    status, out, err = run(capsys, "token", "create", "--user", "bob", "--name", name)

    assert (status, out, err) == (1, "", f"caseloop: {message}\n")
    assert not ApiToken.objects.exists()


# --- serve and quickstart on a port in use ----------------------------------------------------------------------
@pytest.fixture
def taken_port() -> Any:
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    yield holder.getsockname()[1]
    holder.close()


@pytest.mark.parametrize("command", [["serve"], ["quickstart", "--cases", "20"]])
def test_serving_on_a_port_in_use_is_one_line_before_anything_starts(
    capsys: Capture, monkeypatch: Any, taken_port: int, command: list[str]
) -> None:
    def must_not_run(**kwargs: Any) -> int:
        raise AssertionError("the server started")

    monkeypatch.setattr(cli, "_serve", must_not_run)

    status, out, err = run(capsys, *command, "--port", str(taken_port))

    assert (status, out) == (1, "")
    assert err == f"caseloop: 127.0.0.1:{taken_port} is already in use; pick another --port\n"
    assert not Case.objects.exists()  # quickstart loaded no demo data first


def test_a_free_port_is_free(taken_port: int) -> None:
    from caseloop.core.server import cannot_listen

    assert cannot_listen("127.0.0.1", taken_port) == "already in use"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    assert cannot_listen("127.0.0.1", free) is None


# --- a data folder that does not exist --------------------------------------------------------------------------
def test_a_command_on_a_missing_data_folder_says_so_and_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "nothing-here"
    code = "import sys; from caseloop.cli import main; sys.exit(main())"
    env = {**os.environ, "CASELOOP_DATA_DIR": str(missing), "CASELOOP_DATABASE_URL": ""}
    # this interpreter and fixed arguments: nothing untrusted reaches the command line
    result = subprocess.run([sys.executable, "-c", code, "token", "list"], env=env,  # noqa: S603
                            capture_output=True, text=True, timeout=60, check=False)  # fmt: skip

    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == (f"caseloop: no caseloop data in {missing}; "
                             "run `caseloop migrate` (or `caseloop quickstart`) first\n")  # fmt: skip
    assert not missing.exists()


def test_bench_help_names_the_caseloop_command(capfd: pytest.CaptureFixture[str]) -> None:
    status = cli.main(["bench", "--help"])

    out, _ = capfd.readouterr()
    assert status == 0 and out.startswith("usage: caseloop bench ")
    assert cli.BENCH_PROG_ENV not in os.environ  # set for the benchmark's process only
