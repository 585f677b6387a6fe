"""`caseloop …` run in-process through `caseloop.cli.main`, plus two runs in a fresh interpreter for setup errors."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.test import override_settings
from django_tasks import task

from caseloop import cli
from caseloop.cases.models import Case
from caseloop.identity.actions import authenticate_token, create_token, create_user
from caseloop.identity.choices import Role
from caseloop.identity.models import ApiToken, User
from caseloop.testing.factories import make_agent, make_case

pytestmark = pytest.mark.django_db

Capture = pytest.CaptureFixture[str]


def run(capsys: Capture, *argv: str) -> tuple[int, str, str]:
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_token_create_prints_a_working_token_alone_on_the_last_line(capsys: Capture) -> None:
    agent = make_agent(username="alice")

    status, out, err = run(capsys, "token", "create", "--user", "ALICE", "--name", "laptop")

    assert (status, err) == (0, "")
    token = out.strip().splitlines()[-1]
    assert " " not in token and authenticate_token(token) == agent
    assert list(ApiToken.objects.values_list("user__username", "name")) == [("alice", "laptop")]


def test_token_for_an_unknown_user_is_one_line_on_stderr_and_makes_nothing(capsys: Capture) -> None:
    status, out, err = run(capsys, "token", "create", "--user", "nobody")

    assert status == 1 and out == ""
    assert err == "caseloop: There is no user named 'nobody'.\n"
    assert not ApiToken.objects.exists()


def test_token_list_shows_ids_never_secrets_and_revoke_stops_the_token(capsys: Capture) -> None:
    issued = create_token(user=make_agent(username="bob"), name="ci")

    status, out, _ = run(capsys, "token", "list")
    assert status == 0
    assert issued.token.prefix in out and issued.plain not in out and "active" in out

    status, out, _ = run(capsys, "token", "revoke", issued.plain)  # the whole token works as well as its id
    assert status == 0 and issued.token.prefix in out
    assert authenticate_token(issued.plain) is None
    status, _, err = run(capsys, "token", "revoke", "ffffffffffff")
    assert status == 1 and "no token with id 'ffffffffffff'" in err


def test_createadmin_makes_an_administrator_who_can_sign_in(capsys: Capture) -> None:
    status, out, _ = run(capsys, "createadmin", "--username", "root", "--email", "Root@Example.com",
                         "--password", "a-long-pass-phrase-1")  # fmt: skip

    assert status == 0 and out == "Created administrator root.\n"
    user = User.objects.get(username="root")
    assert (user.role, user.email, user.is_superuser) == (Role.ADMIN, "root@example.com", True)
    assert authenticate(username="root", password="a-long-pass-phrase-1") == user  # noqa: S106


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--username", "root", "--password", "short"], "too short"),
        (["--username", "boss", "--password", "a-long-pass-phrase-1"], "Username 'boss' is taken"),
    ],
)
def test_createadmin_refusals_change_nothing(capsys: Capture, argv: list[str], message: str) -> None:
    make_agent(username="boss")
    before = list(User.objects.values_list("username", flat=True))

    status, out, err = run(capsys, "createadmin", "--email", "", *argv)

    assert status == 1 and out == "" and message in err and err.count("\n") == 1
    assert list(User.objects.values_list("username", flat=True)) == before


def test_createadmin_without_a_password_and_no_terminal_says_what_to_do(capsys: Capture, monkeypatch: Any) -> None:
    monkeypatch.setattr(sys, "stdin", open(os.devnull))  # noqa: SIM115  (closed by pytest's monkeypatch undo)

    status, _, err = run(capsys, "createadmin", "--username", "root", "--email", "")

    assert status == 2 and "Give --password" in err
    assert not User.objects.filter(username="root").exists()


def test_check_reports_the_setup_and_passes(capsys: Capture) -> None:
    make_case()

    status, out, _ = run(capsys, "check")

    assert status == 0
    assert "migrations    up to date" in out and "cases         1" in out and out.endswith("OK\n")


def test_check_says_where_the_secret_key_comes_from(capsys: Capture, monkeypatch: Any) -> None:
    # several servers and workers sign alike only with one key: the generated one is the data folder's own
    monkeypatch.delenv("CASELOOP_SECRET_KEY", raising=False)
    status, out, _ = run(capsys, "check")
    assert status == 0 and "secret key    generated in " in out and "need CASELOOP_SECRET_KEY set" in out
    monkeypatch.setenv("CASELOOP_SECRET_KEY", "set-by-the-deployer")
    status, out, _ = run(capsys, "check")
    assert status == 0 and "secret key    from CASELOOP_SECRET_KEY\n" in out


def test_check_fails_when_a_cached_tables_change_triggers_are_gone(capsys: Capture) -> None:
    from django.db import connection

    status, out, _ = run(capsys, "check")
    assert status == 0 and "definition tables watched" in out
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER core_stamp_sla_slapolicy_u")
        else:
            cursor.execute("DROP TRIGGER core_table_stamp ON sla_slapolicy")

    status, out, _ = run(capsys, "check")

    assert status == 1 and "no change triggers on sla_slapolicy" in out and "run `caseloop migrate`" in out


def test_check_fails_when_migrations_are_pending(capsys: Capture, monkeypatch: Any) -> None:
    monkeypatch.setattr(cli, "_pending_migrations", lambda: ["cases.0099_future"])

    status, out, _ = run(capsys, "check")

    assert status == 1 and "1 pending: cases.0099_future" in out and "run `caseloop migrate`" in out


def test_commands_refuse_an_unmigrated_database(capsys: Capture, monkeypatch: Any) -> None:
    monkeypatch.setattr(cli, "_pending_migrations", lambda: ["cases.0099_future"])
    make_agent(username="alice")

    status, _, err = run(capsys, "token", "create", "--user", "alice")

    assert status == 1 and "run `caseloop migrate` first" in err
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["demo", "--cases", "lots"], "'lots' is not a whole number"),
        (["serve", "--port", "70000"], "70000 is not a port number"),
        (["demo", "--nonsense"], "unrecognized arguments: --nonsense"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["token"], "the following arguments are required"),
    ],
)
def test_bad_arguments_exit_2_with_usage_and_no_traceback(capsys: Capture, argv: list[str], message: str) -> None:
    status, _, err = run(capsys, *argv)

    assert status == 2 and message in err and "Traceback" not in err


def test_no_command_prints_help(capsys: Capture) -> None:
    status, out, _ = run(capsys)
    assert status == 2 and "quickstart" in out and "createadmin" in out


def test_demo_loads_into_an_empty_database_and_refuses_a_second_time(capsys: Capture) -> None:
    status, out, _ = run(capsys, "demo", "--cases", "25", "--quiet")
    assert status == 0 and out.startswith("Loaded 25 cases")

    status, out, err = run(capsys, "demo", "--cases", "25", "--quiet")
    assert status == 1 and "already has cases" in err and "--append" in err
    assert Case.objects.count() == 25


def test_quickstart_without_serving_prints_sign_in_and_a_working_token(capsys: Capture) -> None:
    status, out, _ = run(capsys, "quickstart", "--cases", "20", "--no-serve", "--port", "8123")

    assert status == 0 and Case.objects.count() == 20
    assert "Open       http://127.0.0.1:8123/" in out and "Sign in    admin / caseloop-demo" in out
    token = next(line.split()[-1] for line in out.splitlines() if line.strip().startswith("API token"))
    assert authenticate_token(token) == User.objects.get(username="admin")

    # a second start reuses the data and replaces the token it can no longer show
    status, out, _ = run(capsys, "quickstart", "--no-serve")
    assert status == 0 and Case.objects.count() == 20 and "Loading" not in out
    assert authenticate_token(token) is None
    assert ApiToken.objects.filter(name="quickstart", revoked_at__isnull=True).count() == 1


def test_quickstart_on_a_database_with_its_own_cases_adds_no_demo_accounts(capsys: Capture) -> None:
    make_case()

    status, out, _ = run(capsys, "quickstart", "--no-serve")

    assert status == 0 and "has its own data, so no demo accounts were added" in out
    assert not User.objects.filter(username__in=["admin", "alice"]).exists()
    assert not ApiToken.objects.exists() and Case.objects.count() == 1


@task()
def make_user_in_background(username: str) -> None:
    create_user(username=username)


@pytest.mark.django_db(transaction=True)  # the worker closes its database connection between tasks
def test_worker_runs_what_is_queued_and_exits_in_batch_mode(capsys: Capture) -> None:
    with override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}):
        make_user_in_background.enqueue(username="queued")
        assert not User.objects.filter(username="queued").exists()

        status, _, err = run(capsys, "worker", "--batch")

    assert status == 0, err
    assert User.objects.filter(username="queued").exists()


def test_gunicorn_flags_say_what_serve_uses() -> None:
    from gunicorn.config import Config

    config = Config()
    parsed = config.parser().parse_args(cli.gunicorn_options(host="127.0.0.1", port=8765, workers=3, threads=2))
    for name, value in vars(parsed).items():
        if value is not None and name in config.settings:
            config.set(name, value)

    assert config.bind == ["127.0.0.1:8765"] and config.workers == 3 and config.threads == 2
    assert config.worker_class_str == "gthread" and config.preload_app is True
    assert config.limit_request_line == 8190  # a 200-character search, percent-encoded, fits


@pytest.mark.parametrize(("cores", "workers"), [(1, 3), (2, 3), (4, 5), (16, 9)])
def test_serve_defaults_to_a_worker_more_than_the_cores(monkeypatch: Any, cores: int, workers: int) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: cores)
    settings = cli.server_settings(host="127.0.0.1", port=8000)
    assert settings["workers"] == workers
    assert cli.server_settings(host="127.0.0.1", port=8000, workers=2, threads=4)["threads"] == 4


@pytest.mark.parametrize(("url", "threads"), [
    ("", 1), ("sqlite:////tmp/caseloop.sqlite3", 1),
    ("postgres://postgres@127.0.0.1:5432/caseloop", 2), ("postgresql://db.internal/caseloop", 2),
])  # fmt: skip
def test_serve_uses_one_thread_per_worker_on_sqlite_and_two_on_postgresql(monkeypatch: Any, url: str,
                                                                         threads: int) -> None:  # fmt: skip
    # SQLite never waits on the network, so a second thread only competes for the GIL; PostgreSQL's round trips
    # leave a thread waiting that a second one fills (ADR 0011, second amendment)
    monkeypatch.setenv("CASELOOP_DATABASE_URL", url)
    assert cli.server_settings(host="127.0.0.1", port=8000)["threads"] == threads
    assert cli.default_threads(database_url=url) == threads
    flags = cli.gunicorn_options(host="127.0.0.1", port=8000, database_url=url)
    assert flags[flags.index("--threads") + 1] == str(threads)


def test_serve_makes_the_write_gate_before_forking_and_frees_it_for_a_dead_worker(monkeypatch: Any,
                                                                                   settings: Any) -> None:  # fmt: skip
    from django.db import connection
    from gunicorn.app.base import BaseApplication

    from caseloop.core import server, writegate

    started: list[Any] = []
    monkeypatch.setattr(BaseApplication, "run", lambda self: started.append(self.cfg))
    monkeypatch.delenv(server.THREADS_ENV, raising=False)  # serve announces it; put back as it was afterwards
    settings.CASELOOP_WRITE_GATE_SECONDS = 2
    try:
        assert cli._serve(host="127.0.0.1", port=8765, workers=3, threads=2, access_log=False) == 0
        assert server.request_threads() == 2  # what the workers it forks read (chat streams leave one free)
        if connection.vendor != "sqlite":  # PostgreSQL locks rows, not the database: no gate
            assert not writegate.installed()
            return
        assert writegate.installed()
        hook = started[0].child_exit
        assert writegate.acquire()
        hook(None, type("Worker", (), {"pid": os.getpid()})())  # as if this process had died holding it
        assert writegate.acquire()  # freed by the hook
        writegate.release()
        settings.CASELOOP_WRITE_GATE_SECONDS = 0
        cli._serve(host="127.0.0.1", port=8765, workers=3, threads=2, access_log=False)
        assert not writegate.installed()  # the setting's off switch
    finally:
        writegate.uninstall()


def test_serve_calls_every_second_from_the_masters_loop(monkeypatch: Any) -> None:
    # the quickstart's worker keeper runs in gunicorn's main loop, after it keeps its own workers
    from gunicorn.arbiter import Arbiter

    from caseloop.core import server, writegate

    calls: list[str] = []
    monkeypatch.setattr(Arbiter, "manage_workers", lambda self: calls.append("workers"))

    def run(self: Any) -> None:  # one turn of the master's loop, then leave as on Ctrl-C
        self.manage_workers()

    monkeypatch.setattr(Arbiter, "run", run)
    monkeypatch.delenv(server.THREADS_ENV, raising=False)  # serve announces it; put back as it was afterwards
    try:
        assert cli._serve(host="127.0.0.1", port=8765, workers=1, threads=1, access_log=False,
                          every_second=lambda: calls.append("keeper")) == 0  # fmt: skip
    finally:
        writegate.uninstall()
    assert calls == ["workers", "keeper"]


def test_serve_closes_every_sqlite_connection_before_each_fork(monkeypatch: Any, tmp_path: Any) -> None:
    # SQLite forbids carrying a connection across fork(): the master's own connections and its WAL
    # checkpoint thread's are closed before every worker is forked (the first ones and any replacement)
    from django.db import connections
    from gunicorn.app.base import BaseApplication

    from caseloop.core import checkpoint

    started: list[Any] = []
    monkeypatch.setattr(BaseApplication, "run", lambda self: started.append(self.cfg))
    assert cli._serve(host="127.0.0.1", port=8765, workers=3, threads=1, access_log=False) == 0
    hook = started[0].pre_fork
    checkpoint.stop_checkpointers()
    path = str(tmp_path / "master.sqlite3")
    sqlite3.connect(path).execute("PRAGMA journal_mode=WAL").fetchall()
    assert checkpoint.ensure_checkpointer(path, 60)
    thread, _stop = checkpoint._threads[path]
    closed: list[str] = []
    monkeypatch.setattr(connections, "close_all", lambda: closed.append("all"))
    hook(None, None)
    assert closed == ["all"]
    assert not thread.is_alive() and path not in checkpoint._running


def test_server_settings_bracket_ipv6_hosts() -> None:
    assert cli.server_settings(host="::1", port=80)["bind"] == "[::1]:80"
    assert cli.server_settings(host="0.0.0.0", port=80, workers=5)["workers"] == 5  # noqa: S104


def test_bench_runs_the_repository_benchmarks_with_every_option_passed_on(monkeypatch: Any) -> None:
    calls: list[tuple[list[str], Any]] = []

    def fake_run(command: list[str], *, cwd: Any, check: bool) -> subprocess.CompletedProcess[str]:
        calls.append((command, cwd))
        return subprocess.CompletedProcess(command, 3)

    monkeypatch.setattr(subprocess, "run", fake_run)

    assert cli.main(["bench", "--cases", "1000", "--help"]) == 3
    assert calls == [([sys.executable, "-m", "bench", "--cases", "1000", "--help"], cli.REPO_DIR)]


def _fresh(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    code = "import sys; from caseloop.cli import main; sys.exit(main())"
    # this interpreter and fixed arguments: nothing untrusted reaches the command line
    return subprocess.run([sys.executable, "-c", code, *argv], env={**os.environ, **env},  # noqa: S603
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip


def test_an_unreachable_database_is_one_clear_line(tmp_path: Any) -> None:
    result = _fresh({"CASELOOP_DATABASE_URL": "postgres://nobody@127.0.0.1:9/nowhere",
                     "CASELOOP_DATA_DIR": str(tmp_path)}, "token", "create", "--user", "x")  # fmt: skip

    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("caseloop: database error (postgresql 127.0.0.1:9/nowhere):")


def test_a_malformed_database_url_is_a_configuration_error(tmp_path: Any) -> None:
    result = _fresh({"CASELOOP_DATABASE_URL": "nosuchdb://x", "CASELOOP_DATA_DIR": str(tmp_path)}, "check")

    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("caseloop: configuration error:")


def test_the_wsgi_module_loads_the_url_configuration_before_the_workers_fork(tmp_path: Any) -> None:
    # gunicorn preloads the module in its master: routes and API schemas are built once, not per worker
    code = ("import caseloop.config.wsgi; from django.urls import get_resolver; "
            "print('url_patterns' in vars(get_resolver()))")  # fmt: skip
    result = subprocess.run([sys.executable, "-c", code], env={**os.environ, "CASELOOP_DATA_DIR": str(tmp_path)},  # noqa: S603
                            capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def test_quickstart_serves_with_a_task_worker_beside_it_and_stops_it_after(capsys: Capture, monkeypatch: Any,
                                                                          tmp_path: Any) -> None:  # fmt: skip
    from caseloop.core import background

    events: list[str] = []
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    fake = background.StartedWorker(process=child, owner_pid=os.getpid(), log=tmp_path / "w")

    def start_worker(data_dir: Any) -> background.StartedWorker:
        events.append(f"start {data_dir}")
        return fake

    def stop_worker(started: background.StartedWorker) -> bool:
        events.append("stop")
        return True

    monkeypatch.setattr(background, "start_worker", start_worker)
    monkeypatch.setattr(background, "stop_worker", stop_worker)
    monkeypatch.setattr(cli, "_collect_static", lambda out: None)

    def serve(**options: Any) -> int:
        events.append("serve")
        raise SystemExit(0)  # how gunicorn's master leaves

    monkeypatch.setattr(cli, "_serve", serve)
    with override_settings(DATA_DIR=tmp_path), pytest.raises(SystemExit):
        cli.cmd_quickstart(cli.build_parser().parse_args(["quickstart", "--cases", "5"]))
    assert events == [f"start {tmp_path}", "serve", "stop"]
    assert f"run in process {fake.process.pid}" in capsys.readouterr().out
    fake.process.wait()

    events.clear()

    def serve_and_return(**options: Any) -> int:
        events.append("serve")
        return 0

    monkeypatch.setattr(cli, "_serve", serve_and_return)
    assert cli.cmd_quickstart(cli.build_parser().parse_args(["quickstart", "--no-worker"])) == 0
    assert events == ["serve"]


def test_quickstart_on_another_port_sends_links_to_that_port(capsys: Capture, monkeypatch: Any) -> None:
    """A sign-in link mailed by the worker beside `quickstart --port 8765` must not name port 8000."""
    from django.conf import settings

    monkeypatch.delenv("CASELOOP_SITE_URL", raising=False)
    monkeypatch.setattr(cli, "_collect_static", lambda out: None)
    monkeypatch.setattr(cli, "_require_free_address", lambda host, port: None)  # nothing listens
    seen: list[tuple[str, str | None]] = []

    def serve(**options: Any) -> int:
        seen.append((settings.SITE_URL, os.environ.get("CASELOOP_SITE_URL")))  # forked workers; the task worker
        return 0

    monkeypatch.setattr(cli, "_serve", serve)
    before = settings.SITE_URL
    for host in ("127.0.0.1", "0.0.0.0", "::1"):  # noqa: S104
        args = ["quickstart", "--cases", "5", "--no-worker", "--host", host, "--port", "8765"]
        assert cli.cmd_quickstart(cli.build_parser().parse_args(args)) == 0
    assert seen == [("http://127.0.0.1:8765",) * 2, ("http://127.0.0.1:8765",) * 2, ("http://[::1]:8765",) * 2]
    assert before == settings.SITE_URL and "CASELOOP_SITE_URL" not in os.environ

    # an address set by the operator is theirs: it is kept
    seen.clear()
    monkeypatch.setenv("CASELOOP_SITE_URL", "https://help.example.com")
    assert cli.cmd_quickstart(cli.build_parser().parse_args(["quickstart", "--no-worker", "--port", "8765"])) == 0
    assert seen == [(before, "https://help.example.com")]


@pytest.mark.django_db(transaction=True)  # the ticker's thread has a connection of its own
def test_worker_with_tick_runs_the_checks_beside_its_tasks_and_stops_them(capsys: Capture, monkeypatch: Any) -> None:
    from django.core import management

    from caseloop.core import background

    ticked = threading.Event()
    monkeypatch.setattr(background, "run_checks", ticked.set)
    seen: dict[str, Any] = {}

    def db_worker(name: str, **options: Any) -> None:
        assert name == "db_worker"
        seen["ticked"] = ticked.wait(5)
        seen["threads"] = {t.name for t in threading.enumerate()}

    monkeypatch.setattr(management, "call_command", db_worker)
    status, _, err = run(capsys, "worker", "--tick", "60", "--exit-with", str(os.getpid()))

    assert status == 0, err
    assert seen["ticked"] and {"caseloop-tick", "caseloop-exit-with"} <= seen["threads"]
    assert "caseloop-tick" not in {t.name for t in threading.enumerate()}  # stopped with the worker
