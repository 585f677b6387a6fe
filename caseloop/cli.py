"""The `caseloop` command: run, set up and look after a caseloop installation.

    caseloop quickstart        migrate, load demo data once, print how to sign in, serve
    caseloop serve             the production server (gunicorn) on 127.0.0.1:8000
    caseloop migrate           create or update the database tables
    caseloop check             configuration, database, migrations and Django's checks
    caseloop worker            run background tasks
    caseloop createadmin       add an administrator
    caseloop token create      issue an API token (printed once, on the last line)
    caseloop import-orders     import orders from a shop's CSV export (for "did they come back?")
    caseloop mailbox add       add a support address (and its IMAP account); list, disable, rekey
    caseloop webhooks list     the provider's webhook requests as kept (calls and texts); retry failed ones, purge
    caseloop demo              load a year of demo data (up to a million cases)
    caseloop bench             run the benchmarks in the repository's bench/ folder

A mistake (an unknown user, a bad argument, a database that cannot be reached)
ends with one line on stderr and a non-zero exit, never a traceback; set
CASELOOP_DEBUG=1 to see the traceback of an unexpected failure.
"""

from __future__ import annotations

import argparse
import getpass
import hashlib
import ipaddress
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, TextIO

SETTINGS_MODULE = "caseloop.config.settings"
REPO_DIR = Path(__file__).resolve().parent.parent
BENCH_PROG_ENV = "CASELOOP_BENCH_PROG"  # bench/run.py's usage line names this command instead of `python -m bench`


class CommandFailed(Exception):
    """A user-facing failure: the message is printed as is, the exit status is `status`."""

    def __init__(self, message: str, *, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def _version() -> str:
    try:
        return version("caseloop")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "0+unknown"


# --- the production server ------------------------------------------------------------
def default_workers() -> int:
    """Worker processes for this machine: one more than the cores, at least three, at most nine.

    Measured on 2 cores with SQLite (docs/performance.md, ADR 0011): creates at
    concurrency 8 ran 205/s (p99 250-310 ms) with 3 processes x 2 threads
    against 162/s (p99 450-650 ms) with 2 x 4. A request's Python holds its
    process's GIL, and a thread inside a write transaction gives the GIL up at
    every statement; with fewer threads per process it gets it back sooner, so
    SQLite's one write lock is held for less time. The spare process keeps a
    core busy while another waits for that lock or on a slow request.
    """
    return max(3, min(9, (os.cpu_count() or 2) + 1))


SQLITE_THREADS = 1
POSTGRES_THREADS = 2


def default_threads(database_url: str | None = None) -> int:
    """Threads per worker: one on SQLite, two on PostgreSQL (ADR 0011, second amendment).

    On SQLite a request never waits on the network, so a second thread in a
    process only competes for its GIL: measured on 2 cores with 10,000 cases,
    3 x 1 served 528 creates/s at concurrency 8 where 3 x 2 served 324, and the
    reads and the bare framework endpoint were as fast or faster. On PostgreSQL
    every query waits for a round trip, and a second thread fills that wait
    (327-357 creates/s with 3 x 2 against 280-296 with 3 x 1). `database_url`
    defaults to CASELOOP_DATABASE_URL, as in the settings.
    """
    url = os.environ.get("CASELOOP_DATABASE_URL", "") if database_url is None else database_url
    url = url.strip().lower()
    return POSTGRES_THREADS if url and not url.startswith("sqlite") else SQLITE_THREADS


def server_settings(
    *,
    host: str,
    port: int,
    workers: int | None = None,
    threads: int | None = None,
    access_log: bool = False,
    database_url: str | None = None,
) -> dict[str, Any]:
    """gunicorn's settings for `caseloop serve`; `gunicorn_options` gives the same as command-line flags."""
    bind_host = f"[{host}]" if ":" in host and not host.startswith("[") else host
    settings: dict[str, Any] = {
        "bind": f"{bind_host}:{port}",
        "workers": workers or default_workers(),
        # threaded workers: keep-alive connections wait in the main loop, not in a request thread
        "worker_class": "gthread",
        "threads": threads or default_threads(database_url),
        "timeout": 60,
        "graceful_timeout": 20,
        "keepalive": 5,
        # the longest request line gunicorn allows (its default is 4094): a search of 200 characters, each
        # percent-encoded UTF-8, and a cursor fit; longer is gunicorn's own plain 414, before Django
        "limit_request_line": 8190,
        # Django is imported once, before the workers fork: less memory, faster start
        "preload_app": True,
        "proc_name": "caseloop",
        # gunicorn's control socket lives at one path per user: two servers on a machine would fight over it
        "control_socket_disable": True,
    }
    if access_log:
        settings["accesslog"] = "-"
    return settings


def gunicorn_options(
    *, host: str, port: int, workers: int | None = None, threads: int | None = None, database_url: str | None = None
) -> list[str]:
    """`caseloop serve`'s settings as gunicorn command-line flags (the benchmark serves other apps alike)."""
    from gunicorn.config import KNOWN_SETTINGS

    flags = {setting.name: setting for setting in KNOWN_SETTINGS}
    options: list[str] = []
    chosen = server_settings(host=host, port=port, workers=workers, threads=threads, database_url=database_url)
    for name, value in chosen.items():
        flag = flags[name].cli[-1]
        if value is True:
            options.append(flag)
        elif value is not False:
            options += [flag, str(value)]
    return options


def _install_write_gate() -> bool:
    """SQLite: the workers' shared queue for the write lock (core.writegate), made before they are forked."""
    from django.conf import settings
    from django.db import connection

    from caseloop.core import writegate

    if connection.vendor != "sqlite":
        return False
    return writegate.install(float(settings.CASELOOP_WRITE_GATE_SECONDS))


def _release_gate_of_exited_worker(server: Any, worker: Any) -> None:
    """gunicorn's child_exit hook, run in the master: a worker killed mid-transaction must not keep the gate."""
    from caseloop.core import writegate

    writegate.release_for_exited(worker.pid)


def _before_fork(server: Any, worker: Any) -> None:
    """gunicorn's pre_fork hook, run in the master: no database connection may cross into a worker.

    The master opened the database while starting (the migrations check, the
    static files), and with it a WAL checkpoint thread with its own connection
    (core.checkpoint). The master serves no request, so it needs neither.
    """
    from caseloop.core.processes import close_databases_before_fork

    close_databases_before_fork()


def _serve(*, host: str, port: int, workers: int | None, threads: int | None, access_log: bool,
           every_second: Callable[[], None] | None = None) -> int:  # fmt: skip
    """Run gunicorn in this process; `every_second` runs in its master's loop (it must not raise)."""
    from django.db import connections
    from gunicorn.app.base import BaseApplication
    from gunicorn.arbiter import Arbiter

    from caseloop.core import server

    settings = server_settings(host=host, port=port, workers=workers, threads=threads, access_log=access_log)

    gated = _install_write_gate()
    # the workers inherit it: a chat stream holds a thread, and must leave one for everything else
    server.announce_threads(int(settings["threads"]))

    class CaseloopServer(BaseApplication):  # type: ignore[misc]  # gunicorn is untyped
        def load_config(self) -> None:
            for name, value in settings.items():
                self.cfg.set(name, value)
            self.cfg.set("pre_fork", _before_fork)
            if gated:
                self.cfg.set("child_exit", _release_gate_of_exited_worker)

        def load(self) -> Any:
            from caseloop.config.wsgi import application

            return application

        def run(self) -> None:
            if every_second is None:
                super().run()
                return
            looking_after = every_second

            class LookingAfterArbiter(Arbiter):  # type: ignore[misc]  # gunicorn is untyped
                def manage_workers(self) -> None:
                    # the master's loop: after waiting up to a second for signals, it keeps its workers
                    super().manage_workers()
                    looking_after()

            try:  # as gunicorn's own BaseApplication.run, with this arbiter
                LookingAfterArbiter(self).run()
            except RuntimeError as error:
                print(f"\nError: {error}\n", file=sys.stderr, flush=True)
                sys.exit(1)

    # the workers are forked from this process: none may inherit an open database connection (and
    # _before_fork closes any opened since, with the checkpoint thread's, before each fork)
    connections.close_all()
    threads = int(settings["threads"])
    print(f"Serving caseloop on http://{settings['bind']}/ with {settings['workers']} workers x {threads} "
          f"thread{'s' if threads != 1 else ''} each (Ctrl-C stops)", flush=True)  # fmt: skip
    CaseloopServer().run()
    return 0


def _collect_static(out: TextIO) -> None:
    """Copy static files to STATIC_ROOT when they changed since the last copy (WhiteNoise serves them from there)."""
    from django.conf import settings
    from django.contrib.staticfiles.finders import get_finders
    from django.core.management import call_command

    fingerprint = hashlib.sha256()
    for finder in get_finders():
        for path, storage in finder.list(["CVS", ".*", "*~"]):
            stat = Path(storage.path(path)).stat()
            fingerprint.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    root = Path(settings.STATIC_ROOT)
    stamp = root / ".caseloop-collected"
    if stamp.exists() and stamp.read_text() == fingerprint.hexdigest():
        return
    out.write("Collecting static files …\n")
    call_command("collectstatic", interactive=False, verbosity=0)
    stamp.write_text(fingerprint.hexdigest())


# --- database state -------------------------------------------------------------------
def _pending_migrations() -> list[str]:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


def _require_migrated() -> None:
    pending = _pending_migrations()
    if pending:
        raise CommandFailed(f"The database needs {len(pending)} migration(s); run `caseloop migrate` first.")


def _database_description() -> str:
    from django.db import connection

    if connection.vendor == "sqlite":
        return f"SQLite {connection.settings_dict['NAME']}"
    params = connection.settings_dict
    where = f"{params.get('HOST') or 'local socket'}:{params.get('PORT') or 'default port'}/{params.get('NAME')}"
    return f"{connection.vendor} {where}"


def _migrate(*, verbosity: int, out: TextIO, only_if_pending: bool = False) -> int:
    from django.core.management import call_command

    pending = _pending_migrations()
    if pending or not only_if_pending:
        call_command("migrate", interactive=False, verbosity=verbosity, stdout=out)
    if pending:
        out.write(f"Applied {len(pending)} migration(s); the database is up to date.\n")
    else:
        out.write("The database is up to date.\n")
    return len(pending)


# --- commands ------------------------------------------------------------------------
def _require_free_address(host: str, port: int) -> None:
    """One line, before anything starts, rather than gunicorn's retries and a screenful of errors."""
    from caseloop.core.server import cannot_listen

    problem = cannot_listen(host, port)
    if problem is not None:
        where = f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"
        if problem == "already in use":
            raise CommandFailed(f"{where} is already in use; pick another --port")
        raise CommandFailed(f"cannot listen on {where}: {problem}")


def cmd_serve(args: argparse.Namespace) -> int:
    _require_migrated()
    _require_free_address(args.host, args.port)
    _collect_static(sys.stdout)
    return _serve(host=args.host, port=args.port, workers=args.workers, threads=args.threads,
                  access_log=args.access_log)  # fmt: skip


def cmd_migrate(args: argparse.Namespace) -> int:
    _migrate(verbosity=args.verbosity, out=sys.stdout)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from django.conf import settings
    from django.core import checks
    from django.db import connection

    problems = 0
    out = sys.stdout
    data_dir = Path(settings.DATA_DIR)
    writable = os.access(data_dir, os.W_OK)
    out.write(f"caseloop      {_version()}\n")
    out.write(f"data dir      {data_dir}{'' if writable else '  (NOT WRITABLE)'}\n")
    problems += not writable
    out.write(f"secret key    {_secret_key_source(data_dir)}\n")
    out.write(f"database      {_database_description()}\n")
    try:
        connection.ensure_connection()
    except Exception as exc:  # any driver error means the same here: no database to check
        out.write(f"              cannot connect: {_first_line(exc)}\n")
        return 1
    pending = _pending_migrations()
    if pending:
        problems += 1
        out.write(f"migrations    {len(pending)} pending: {', '.join(pending[:5])}{' …' if len(pending) > 5 else ''}\n"
                  "              run `caseloop migrate`\n")  # fmt: skip
    else:
        out.write("migrations    up to date\n")
        from caseloop.cases.models import Case
        from caseloop.core.stamps import missing_triggers, watched

        unwatched = missing_triggers(connection)
        if unwatched:  # a cached definition table would go stale in other processes
            problems += 1
            out.write(f"caches        no change triggers on {', '.join(unwatched)}\n"
                      "              run `caseloop migrate` (it puts them back)\n")  # fmt: skip
        else:
            out.write(f"caches        {len(watched())} definition tables watched\n")
        out.write(f"cases         {Case.objects.count():,}\n")
    issues = [i for i in checks.run_checks(include_deployment_checks=args.deploy) if not i.is_silenced()]
    serious = [i for i in issues if i.level >= checks.WARNING]
    out.write(f"system checks {'no issues' if not serious else f'{len(serious)} issue(s)'}\n")
    for issue in serious:
        out.write(f"              {issue}\n")
    problems += len(serious)
    out.write("OK\n" if not problems else f"{problems} problem(s)\n")
    return 0 if not problems else 1


def _secret_key_source(data_dir: Path) -> str:
    """Where the key signing sessions and links comes from: every server and worker must use the same one."""
    if os.environ.get("CASELOOP_SECRET_KEY"):
        return "from CASELOOP_SECRET_KEY"
    return (f"generated in {data_dir / 'secret_key'}; servers and workers with another data folder "
            "need CASELOOP_SECRET_KEY set to one value for all")  # fmt: skip


def cmd_worker(args: argparse.Namespace) -> int:
    from django.core.management import call_command

    from caseloop.core.background import ParentWatch, Ticker, run_task_worker

    _require_migrated()
    if args.exit_with is not None:
        ParentWatch(args.exit_with).start()
    ticker = Ticker(args.tick) if args.tick is not None else None
    if ticker is not None:
        ticker.start()
    # --batch drains the queue now: no start-up delay (which only spreads many workers' first polls)
    options: dict[str, Any] = {"queue_name": args.queue, "interval": args.interval, "batch": args.batch,
                               "reload": False, "startup_delay": not args.batch}  # fmt: skip
    if args.max_tasks is not None:
        options["max_tasks"] = args.max_tasks
    try:
        run_task_worker(lambda: call_command("db_worker", **options))
    finally:
        if ticker is not None:
            ticker.stop()
            ticker.join(timeout=30)  # a round under way ends first
    return 0


def cmd_smtpd(args: argparse.Namespace) -> int:
    from django.core.management import call_command

    _require_migrated()
    call_command("smtpd", host=args.host, port=args.port, queue=args.queue)
    return 0


def cmd_fetchmail(args: argparse.Namespace) -> int:
    from django.core.management import call_command

    _require_migrated()
    call_command("fetchmail", once=args.once, idle=args.idle, queue=args.queue)
    return 0


def cmd_tick(args: argparse.Namespace) -> int:
    """The time-driven checks: approvals due or missed, SLA targets missed, promises due or broken; old
    processed webhook requests forgotten."""
    import time

    from caseloop.core.background import run_checks

    _require_migrated()
    while True:
        started = time.monotonic()
        run_checks()
        if args.every is None:
            return 0
        time.sleep(max(0.0, args.every - (time.monotonic() - started)))


def _read_password(given: str | None, *, stdin: TextIO, flags: str = "--password") -> str:
    """The password given with `flags` (named in the messages), or asked for twice in a terminal; never empty."""
    if given is not None:
        if not given:
            raise CommandFailed(f"The password given with {flags.split()[0]} is empty; nothing was changed.", status=2)
        return given
    if not stdin.isatty():
        raise CommandFailed(f"Give {flags}, or run the command in a terminal to be asked for one.", status=2)
    first = getpass.getpass("Password: ")
    if not first:
        raise CommandFailed("A password is required; nothing was changed.", status=2)
    if first != getpass.getpass("Password (again): "):
        raise CommandFailed("The two passwords differ; nothing was changed.")
    return first


def cmd_createadmin(args: argparse.Namespace) -> int:
    from caseloop.identity.actions import check_new_email, check_new_username, create_user
    from caseloop.identity.choices import Role

    _require_migrated()
    # each answer is checked as it is given: a refused username is said before the email and passwords are asked
    username = check_new_username(args.username if args.username is not None else _ask("Username: "))
    email = check_new_email(args.email if args.email is not None else _ask("Email (may be empty): ", optional=True))
    password = _read_password(args.password, stdin=sys.stdin)
    user = create_user(username=username, email=email, password=password, role=Role.ADMIN)
    print(f"Created administrator {user.username}.")
    return 0


def _ask(prompt: str, *, optional: bool = False) -> str:
    if not sys.stdin.isatty():
        if optional:
            return ""
        raise CommandFailed(f"Missing {prompt.strip(': ').lower()}: give it as an option.", status=2)
    return input(prompt).strip()


def _user(username: str) -> Any:
    from caseloop.identity.models import User

    user = User.objects.filter(username__iexact=username.strip()).first()
    if user is None:
        raise CommandFailed(f"There is no user named {username!r}.")
    if not user.is_active:
        raise CommandFailed(f"User {user.username!r} is deactivated; its tokens would not work.")
    return user


def cmd_token_create(args: argparse.Namespace) -> int:
    from caseloop.identity.actions import create_token

    _require_migrated()
    user = _user(args.user)
    issued = create_token(user=user, name=args.name)
    token = issued.token
    print(f"API token {token.name!r} for {user.username} (id {token.pk}, prefix {token.prefix}); "
          "it is shown only now:")  # fmt: skip
    print(issued.plain)
    return 0


def cmd_import_orders(args: argparse.Namespace) -> int:
    from caseloop.customers.imports import import_orders

    _require_migrated()
    user = _user(args.user)
    try:
        text = Path(args.file).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandFailed(f"cannot read {args.file}: {_first_line(exc)}") from exc
    report = import_orders(actor=user, text=text)
    for line, message in report.errors:
        print(f"{args.file}:{line}: {message}", file=sys.stderr)
    print(f"{report.created} orders imported, {report.already_there} already there, {len(report.errors)} refused.")
    return 1 if report.errors else 0


def cmd_token_list(args: argparse.Namespace) -> int:
    from caseloop.identity.models import ApiToken

    _require_migrated()
    tokens = ApiToken.objects.select_related("user").order_by("user__username", "created_at")
    if args.user:
        tokens = tokens.filter(user=_user(args.user))
    rows = [("ID", "PREFIX", "USER", "NAME", "CREATED", "LAST USED", "STATE")]
    for token in tokens:
        state = "revoked" if token.revoked_at else "active"
        used = token.last_used_at.strftime("%Y-%m-%d %H:%M") if token.last_used_at else "never"
        created = token.created_at.strftime("%Y-%m-%d %H:%M")
        rows.append((str(token.pk), token.prefix, token.user.username, token.name, created, used, state))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0


def cmd_token_revoke(args: argparse.Namespace) -> int:
    from caseloop.identity.actions import TOKEN_PREFIX, revoke_token
    from caseloop.identity.models import ApiToken

    _require_migrated()
    ident = args.id.strip()
    if ident.startswith(TOKEN_PREFIX):  # a whole token was pasted: its prefix is the part after cl_
        ident = ident[len(TOKEN_PREFIX) :].split("_", 1)[0]
    tokens = ApiToken.objects.select_related("user")
    # all digits: the id the API uses; a 12-digit prefix (all its hex digits decimal) is tried next
    token = tokens.filter(pk=int(ident)).first() if ident.isdigit() else None
    if token is None:
        token = tokens.filter(prefix=ident).first()
    if token is None:
        raise CommandFailed(f"There is no token with id {ident!r} (give an ID or PREFIX of `caseloop token list`).")
    what = f"{token.pk} (prefix {token.prefix}, {token.name!r} of {token.user.username})"
    if token.revoked_at is not None:
        print(f"Token {what} was already revoked.")
        return 0
    revoke_token(token=token)
    print(f"Revoked token {what}.")
    return 0


def _mailbox(address: str) -> Any:
    from caseloop.channels.email.models import Mailbox

    mailbox = Mailbox.objects.filter(address=address.strip().lower()).first()
    if mailbox is None:
        raise CommandFailed(f"There is no mailbox {address!r} (see `caseloop mailbox list`).")
    return mailbox


def cmd_mailbox_add(args: argparse.Namespace) -> int:
    from caseloop.channels.email.actions import create_mailbox
    from caseloop.identity.models import Team

    _require_migrated()
    team = None
    if args.team:
        team = Team.objects.filter(slug=args.team).first()
        if team is None:
            raise CommandFailed(f"There is no team {args.team!r} (give its slug).")
    imap_host, imap_user = (args.imap_host or "").strip(), (args.imap_user or "").strip()
    # the settings are checked before a password is asked for: no one types a password for a refused command
    if bool(imap_host) != bool(imap_user):
        raise CommandFailed("IMAP needs both --imap-host and --imap-user (neither: mail is received by SMTP only).",
                            status=2)  # fmt: skip
    if not imap_host and (args.imap_password is not None or args.imap_password_stdin):
        raise CommandFailed("An IMAP password needs --imap-host and --imap-user.", status=2)
    password = ""
    if imap_host:
        if args.imap_password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
            if not password:
                raise CommandFailed("The IMAP password read from stdin is empty; nothing was changed.", status=2)
        else:
            password = _read_password(args.imap_password, stdin=sys.stdin,
                                      flags="--imap-password (or --imap-password-stdin)")  # fmt: skip
    mailbox = create_mailbox(actor=None, address=args.address, name=args.name, team=team,
                             acknowledge=not args.no_acknowledge, imap_host=imap_host,
                             imap_port=args.imap_port, imap_username=imap_user, imap_password=password,
                             imap_folder=args.imap_folder, imap_archive_folder=args.archive_folder or "",
                             poll_seconds=args.poll_seconds)  # fmt: skip
    how = f"fetched from {mailbox.imap_username}@{mailbox.imap_host}" if mailbox.uses_imap else "received by SMTP"
    print(f"Added mailbox {mailbox.address} ({how}{'; password stored sealed' if password else ''}).")
    return 0


def cmd_mailbox_list(args: argparse.Namespace) -> int:
    from caseloop.channels.email.models import Mailbox

    _require_migrated()
    rows = [("ADDRESS", "TEAM", "RECEIVES BY", "STATE", "LAST FETCH", "LAST ERROR")]
    for m in Mailbox.objects.select_related("team").order_by("-active", "address"):
        how = f"IMAP {m.imap_username}@{m.imap_host}:{m.imap_port}/{m.imap_folder}" if m.uses_imap else "SMTP"
        polled = m.imap_last_polled_at.strftime("%Y-%m-%d %H:%M") if m.imap_last_polled_at else "-"
        rows.append((m.address, m.team.slug if m.team else "-", how, "active" if m.active else "disabled",
                     polled if m.uses_imap else "-", m.imap_last_error[:60] or "-"))  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0


def cmd_mailbox_active(args: argparse.Namespace) -> int:
    from caseloop.channels.email.actions import set_mailbox_active

    _require_migrated()
    active = args.mailbox_command == "enable"
    mailbox = set_mailbox_active(actor=None, mailbox=_mailbox(args.address), active=active)
    print(f"{mailbox.address} is {'enabled' if active else 'disabled: it receives no more mail'}.")
    return 0


def cmd_mailbox_rekey(args: argparse.Namespace) -> int:
    from caseloop.channels.email.actions import reseal_mailbox_passwords

    _require_migrated()
    result = reseal_mailbox_passwords(actor=None)
    print(f"Sealed {result.resealed} IMAP password(s) with the current key.")
    if result.unreadable:
        raise CommandFailed(f"No configured key opens the password of {', '.join(result.unreadable)}: "
                            "enter it again on the mailbox page.")  # fmt: skip
    return 0


def cmd_webhooks_list(args: argparse.Namespace) -> int:
    from caseloop.channels.phone.choices import WebhookState
    from caseloop.channels.phone.selectors import webhooks_for_admin

    _require_migrated()
    rows = [("ID", "RECEIVED", "ENDPOINT", "STATE", "ATTEMPTS", "ERROR")]
    kept = webhooks_for_admin(None, state=WebhookState.FAILED if args.failed else None)
    for kept_row in kept[: args.limit]:
        error = f"{kept_row.error_type.rsplit('.', 1)[-1]}: {kept_row.error}" if kept_row.error_type else ""
        rows.append((str(kept_row.pk), kept_row.received_at.strftime("%Y-%m-%d %H:%M:%S"), kept_row.endpoint,
                     kept_row.state, str(kept_row.attempts), " ".join(error.split())[:80] or "-"))  # fmt: skip
    if len(rows) == 1:
        print("No failed webhook requests." if args.failed else "No webhook requests are kept.")
        return 0
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0


def cmd_webhooks_retry(args: argparse.Namespace) -> int:
    from caseloop.channels.phone.choices import WebhookState
    from caseloop.channels.phone.models import WebhookDelivery
    from caseloop.channels.phone.selectors import webhooks_for_admin
    from caseloop.channels.phone.webhooks import is_replayable, replay_webhook

    _require_migrated()
    if args.all_failed:
        failed = list(webhooks_for_admin(None, state=WebhookState.FAILED).order_by("id"))
        ids = [row.pk for row in failed if is_replayable(row)]
        if len(ids) < len(failed):
            print(f"{len(failed) - len(ids)} failed step(s) of live calls skipped: they cannot be replayed.")
        if not ids:
            print("No failed webhook requests to retry.")
            return 0
    else:
        if not WebhookDelivery.objects.filter(pk=args.id).exists():
            raise CommandFailed(f"There is no webhook request {args.id} (see `caseloop webhooks list`).")
        ids = [args.id]
    still_failing = 0
    for ident in ids:
        row = replay_webhook(actor=None, delivery_id=ident)
        if row.state == WebhookState.PROCESSED:
            print(f"Webhook request {row.pk} ({row.endpoint}) processed (answer {row.response_status}).")
        else:
            still_failing += 1
            print(f"Webhook request {row.pk} ({row.endpoint}) failed again: {row.error_type}: {row.error}",
                  file=sys.stderr)  # fmt: skip
    return 1 if still_failing else 0


def cmd_webhooks_purge(args: argparse.Namespace) -> int:
    from caseloop.channels.phone.actions import purge_webhooks

    _require_migrated()
    purged = purge_webhooks(keep_days=args.days, failed=args.failed)
    print(f"Purged {purged} webhook request{'' if purged == 1 else 's'}.")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from caseloop.demo.loader import load_demo

    _require_migrated()
    report = load_demo(cases=args.cases, seed=args.seed, append=args.append,
                       progress=not args.quiet and sys.stderr.isatty(), on_stage=_stage)  # fmt: skip
    print(report.summary())
    return 0


def _stage(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cmd_quickstart(args: argparse.Namespace) -> int:
    from caseloop.cases.models import Case
    from caseloop.demo.loader import load_demo
    from caseloop.demo.people import DEMO_PASSWORD, STAFF_EMAIL_DOMAIN, ensure_demo_staff
    from caseloop.identity.actions import create_token, revoke_token
    from caseloop.identity.models import User

    if not args.no_serve:
        _require_free_address(args.host, args.port)
    _migrate(verbosity=0, out=sys.stdout, only_if_pending=True)
    if not Case.objects.exists():
        print(f"Loading {args.cases:,} demo cases (once; later starts reuse them) …", flush=True)
        report = load_demo(cases=args.cases, seed=1, progress=sys.stderr.isatty(), on_stage=_stage)
        print(report.summary())
    host = args.host
    url = f"http://{f'[{host}]' if ':' in host else host}:{args.port}/"
    # demo accounts have a public password: they are (re)made only in a database of demo data
    if User.objects.filter(username="admin", email=f"admin@{STAFF_EMAIL_DOMAIN}").exists():
        admin = ensure_demo_staff().admin
        # one quickstart token at a time: the previous one is revoked, as it can no longer be shown
        for old in admin.api_tokens.filter(name="quickstart", revoked_at__isnull=True):
            revoke_token(token=old)
        token = create_token(user=admin, name="quickstart").plain
        password = DEMO_PASSWORD if admin.check_password(DEMO_PASSWORD) else "(the password you set)"
        print()
        print("caseloop is ready.")
        print(f"  Open       {url}")
        print(f"  Sign in    {admin.username} / {password}")
        print("             agents alice, bob …, manager maria, technician tom, customer carla (same password)")
        print(f"  API        curl -H 'Authorization: Bearer {token}' {url}api/v1/cases")
        print(f"  API token  {token}")
        if not _is_loopback(host):
            print(f"  Warning    {host} is reachable from other machines and the demo password is public.")
    else:
        print()
        print("caseloop is ready. This database has its own data, so no demo accounts were added.")
        print(f"  Open       {url}")
        print("  Sign in    with your own account (`caseloop createadmin` adds one)")
    print(flush=True)
    if args.no_serve:
        return 0
    _collect_static(sys.stdout)
    with _links_to_served_address(host, args.port):
        if args.no_worker:
            return _serve(host=host, port=args.port, workers=args.workers, threads=None, access_log=False)
        return _serve_with_worker(host=host, port=args.port, workers=args.workers)


@contextmanager
def _links_to_served_address(host: str, port: int) -> Iterator[None]:
    """Links in emails (portal sign-in, surveys) point at the address served, unless CASELOOP_SITE_URL says otherwise.

    Without it they would name the default http://127.0.0.1:8000 whatever `--port` was given. The server's
    workers are forked from this process (they read `settings`); the task worker is started with its
    environment. Both are put back when the server ends.
    """
    from django.conf import settings

    if os.environ.get("CASELOOP_SITE_URL"):
        yield
        return
    if host in ("0.0.0.0", "::", "[::]", ""):  # noqa: S104 -- every interface: a link needs one address
        host = "127.0.0.1"
    site_url = f"http://{f'[{host}]' if ':' in host and not host.startswith('[') else host}:{port}"
    previous = settings.SITE_URL
    settings.SITE_URL = site_url
    os.environ["CASELOOP_SITE_URL"] = site_url
    try:
        yield
    finally:
        settings.SITE_URL = previous
        os.environ.pop("CASELOOP_SITE_URL", None)


def _serve_with_worker(*, host: str, port: int, workers: int | None) -> int:
    """The server with a task worker beside it (surveys, notifications, the minute checks), stopped with it."""
    from django.conf import settings

    from caseloop.core import background

    data_dir = Path(settings.DATA_DIR)
    # the server's master starts it again should it end (killed, a crash): its loop calls check() each second
    keeper = background.WorkerKeeper(lambda: background.start_worker(data_dir))
    started = keeper.current
    assert started is not None
    print(f"Background tasks and the minute checks run in process {started.process.pid} (log: {started.log}).",
          flush=True)  # fmt: skip
    try:
        return _serve(host=host, port=port, workers=workers, threads=None, access_log=False,
                      every_second=keeper.check)  # fmt: skip
    finally:
        if keeper.current is not None:  # in the process that started it only, not in a forked server worker
            background.stop_worker(keeper.current)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def cmd_bench(args: argparse.Namespace, extra: Sequence[str]) -> int:
    if not (REPO_DIR / "bench" / "__main__.py").exists():
        raise CommandFailed("The benchmarks live in the repository's bench/ folder, which this installation lacks; "
                            "run `caseloop bench` from a checkout.")  # fmt: skip
    # its --help names the command typed; set for the child only (this process may go on, as in tests)
    previous = os.environ.get(BENCH_PROG_ENV)
    os.environ[BENCH_PROG_ENV] = "caseloop bench"
    try:
        return subprocess.run([sys.executable, "-m", "bench", *extra], cwd=REPO_DIR, check=False).returncode
    finally:
        if previous is None:
            del os.environ[BENCH_PROG_ENV]
        else:
            os.environ[BENCH_PROG_ENV] = previous


# --- parsing and running -------------------------------------------------------------
def _positive(text: str) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


def _port(text: str) -> int:
    value = _positive(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"{text} is not a port number (1-65535)")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="caseloop", description="Run and look after caseloop, the self-hosted customer service platform.",
        epilog="Configuration is read from CASELOOP_* environment variables; see README.md.",
    )  # fmt: skip
    parser.add_argument("--version", action="version", version=f"caseloop {_version()}")
    parser.add_argument("--data-dir", type=Path, help="where caseloop keeps its data (sets CASELOOP_DATA_DIR)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, handler: Callable[..., int], help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    def server_args(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        sub.add_argument("--port", type=_port, default=8000, help="port (default 8000)")
        sub.add_argument("--workers", type=_positive, help=f"worker processes (default {default_workers()})")

    serve = command("serve", cmd_serve, "Serve caseloop with gunicorn (the production server).")
    server_args(serve)
    threads_help = f"threads per worker (default {SQLITE_THREADS} on SQLite, {POSTGRES_THREADS} on PostgreSQL)"
    serve.add_argument("--threads", type=_positive, help=threads_help)
    serve.add_argument("--access-log", action="store_true", help="log every request to stdout")

    migrate = command("migrate", cmd_migrate, "Create or update the database tables.")
    migrate.add_argument("-v", "--verbosity", type=int, choices=[0, 1, 2, 3], default=0)

    check = command("check", cmd_check, "Show the configuration and check it; exit 1 on problems.")
    check.add_argument("--deploy", action="store_true", help="also run Django's deployment checks")

    worker = command("worker", cmd_worker, "Run background tasks (the django-tasks database worker).")
    worker.add_argument("--queue", default="*", help="queues to process, comma-separated (default: all)")
    worker.add_argument("--interval", type=float, default=1.0, help="seconds between polls when idle (default 1)")
    worker.add_argument("--batch", action="store_true", help="process what is queued, then exit")
    worker.add_argument("--max-tasks", type=_positive, help="exit after this many tasks")
    worker.add_argument("--tick", type=_positive, metavar="SECONDS",
                        help="also run `caseloop tick`'s checks every SECONDS (e.g. 60), in this process")  # fmt: skip
    worker.add_argument("--exit-with", type=_positive, metavar="PID", help="stop when process PID ends")

    smtpd = command("smtpd", cmd_smtpd, "Receive email over SMTP for the support addresses (docs/channels/email.md).")
    smtpd.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    smtpd.add_argument("--port", type=_port, default=2525, help="port (default 2525)")
    smtpd.add_argument("--queue", action="store_true", help="file messages through the task queue")
    fetchmail = command("fetchmail", cmd_fetchmail, "Fetch email from the IMAP mailboxes over TLS (polling or IDLE).")
    fetchmail.add_argument("--once", action="store_true", help="fetch once and exit")
    fetchmail.add_argument("--idle", action="store_true", help="wait for new mail with IMAP IDLE")
    fetchmail.add_argument("--queue", action="store_true", help="file messages through the task queue")

    tick = command("tick", cmd_tick, "Remind and escalate approvals, mark missed SLA targets, check promises, and "
                   "forget processed webhook requests past CASELOOP_WEBHOOK_KEEP_DAYS.")  # fmt: skip
    tick.add_argument("--every", type=_positive, metavar="SECONDS", help="repeat every SECONDS (e.g. 60) until stopped")

    admin = command("createadmin", cmd_createadmin, "Create an administrator account.")
    admin.add_argument("--username")
    admin.add_argument("--email")
    admin.add_argument("--password", help="asked for when omitted (never shown)")

    orders = command(
        "import-orders",
        cmd_import_orders,
        "Import orders from a shop's CSV export (columns: docs/api.md); a stored reference is skipped.",
    )
    orders.add_argument("file", help="the CSV file (UTF-8, first line names the columns)")
    orders.add_argument("--user", required=True, help="the staff member the import is recorded as")

    token = commands.add_parser("token", help="Create, list and revoke API tokens.", description="API tokens.")
    token_commands = token.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    create = token_commands.add_parser("create", help="Issue a token; it is printed once, on the last line.")
    create.set_defaults(handler=cmd_token_create)
    create.add_argument("--user", required=True, help="username the token acts as")
    create.add_argument("--name", default="cli", help="a label to recognise it by, 1-100 characters (default 'cli')")
    listing = token_commands.add_parser("list", help="List tokens (never their secrets).")
    listing.set_defaults(handler=cmd_token_list)
    listing.add_argument("--user", help="only this user's tokens")
    revoke_help = "Revoke a token by its id, its prefix or the whole token; exits 0 if it was already revoked."
    revoke = token_commands.add_parser("revoke", help=revoke_help, description=revoke_help)
    revoke.set_defaults(handler=cmd_token_revoke)
    revoke.add_argument("id", help="the token's id (a number, as in the API's /tokens/ID), its 12-character prefix "
                        "(both shown by `token list`), or the whole token")  # fmt: skip

    mailbox = commands.add_parser("mailbox", help="Add, list, disable and rekey the support mailboxes.",
                                  description="Support mailboxes (docs/channels/email.md).")  # fmt: skip
    mailbox_commands = mailbox.add_subparsers(dest="mailbox_command", metavar="ACTION", required=True)
    add = mailbox_commands.add_parser("add", help="Add a support address, optionally with its IMAP account.")
    add.set_defaults(handler=cmd_mailbox_add)
    add.add_argument("address", help="e.g. support@example.com")
    add.add_argument("--name", default="", help="display name replies are sent from")
    add.add_argument("--team", help="slug of the team new cases go to")
    add.add_argument("--no-acknowledge", action="store_true", help="do not confirm new cases to their senders")
    add.add_argument("--imap-host", help="IMAP server (TLS); omit to receive by SMTP only")
    add.add_argument("--imap-port", type=_port, default=993, help="default 993")
    add.add_argument("--imap-user", help="IMAP user name")
    imap_password = add.add_mutually_exclusive_group()
    imap_password.add_argument("--imap-password", help="asked for when omitted (never shown); stored sealed")
    imap_password.add_argument("--imap-password-stdin", action="store_true",
                               help="read the password from stdin's first line")  # fmt: skip
    add.add_argument("--imap-folder", default="INBOX", help="default INBOX")
    add.add_argument("--archive-folder", help="move fetched mail there (default: mark it read)")
    add.add_argument("--poll-seconds", type=_positive, help="poll interval (default CASELOOP_EMAIL_POLL_SECONDS)")
    mailbox_list = mailbox_commands.add_parser("list", help="List the mailboxes (never their passwords).")
    mailbox_list.set_defaults(handler=cmd_mailbox_list)
    for action, what in (("disable", "Stop receiving mail for an address."), ("enable", "Receive for it again.")):
        toggle = mailbox_commands.add_parser(action, help=what)
        toggle.set_defaults(handler=cmd_mailbox_active)
        toggle.add_argument("address")
    rekey = mailbox_commands.add_parser("rekey", help="Re-seal every IMAP password with the first key of "
                                        "CASELOOP_SECRETS_KEY (after adding a new key).")  # fmt: skip
    rekey.set_defaults(handler=cmd_mailbox_rekey)

    webhooks = commands.add_parser("webhooks", help="List, retry and purge the provider's webhook requests as kept.",
                                   description="Provider webhook requests (calls and texts), kept as they arrived "
                                   "(docs/channels/sms.md).")  # fmt: skip
    webhook_commands = webhooks.add_subparsers(dest="webhooks_command", metavar="ACTION", required=True)
    webhook_list = webhook_commands.add_parser("list", help="List kept webhook requests, newest first.")
    webhook_list.set_defaults(handler=cmd_webhooks_list)
    webhook_list.add_argument("--failed", action="store_true", help="only those whose processing failed")
    webhook_list.add_argument("--limit", type=_positive, default=50, help="at most this many (default 50)")
    retry = webhook_commands.add_parser("retry", help="Process a kept request again (texts, call status and "
                                        "recording callbacks; steps of live calls cannot be).")  # fmt: skip
    retry.set_defaults(handler=cmd_webhooks_retry)
    which = retry.add_mutually_exclusive_group(required=True)
    which.add_argument("id", nargs="?", type=_positive, help="the request's ID (see `webhooks list`)")
    which.add_argument("--all-failed", action="store_true", help="every failed request that can be replayed")
    purge = webhook_commands.add_parser("purge", help="Delete processed requests older than "
                                        "CASELOOP_WEBHOOK_KEEP_DAYS (the minute checks do it too).")  # fmt: skip
    purge.set_defaults(handler=cmd_webhooks_purge)
    purge.add_argument("--days", type=int, help="older than this many days instead (0: all)")
    purge.add_argument("--failed", action="store_true", help="failed ones too (they are kept otherwise)")

    demo = command("demo", cmd_demo, "Load a year of demo data into an empty database.")
    demo.add_argument("--cases", type=_positive, default=3000, help="how many cases (default 3000, at most 1000000)")
    demo.add_argument("--seed", type=int, default=1, help="the same seed gives the same data (default 1)")
    demo.add_argument("--append", action="store_true", help="add to a database that already has cases")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")

    quick = command("quickstart", cmd_quickstart,
                    "Migrate, load demo data if the database is empty, print how to sign in, and serve.")  # fmt: skip
    server_args(quick)
    quick.add_argument("--cases", type=_positive, default=3000, help="demo cases to load (default 3000)")
    quick.add_argument("--no-serve", action="store_true", help="set up and print, but do not start the server")
    quick.add_argument("--no-worker", action="store_true",
                       help="do not start a task worker with the minute checks beside the server")  # fmt: skip

    bench = commands.add_parser("bench", help="Run the benchmarks (python -m bench); options go to it.",
                                add_help=False)  # fmt: skip
    bench.set_defaults(handler=cmd_bench)
    return parser


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def _setup(data_dir: Path | None) -> None:
    if data_dir is not None:
        os.environ["CASELOOP_DATA_DIR"] = str(data_dir.expanduser().resolve())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
    import django

    django.setup()


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status (the console script exits with it)."""
    parser = build_parser()
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        args, extra = parser.parse_known_args(arguments)
        if extra and getattr(args, "handler", None) is not cmd_bench:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as exc:  # argparse has printed the usage and the problem (or the help)
        return exc.code if isinstance(exc.code, int) else 2
    if getattr(args, "handler", None) is None:
        parser.print_help()
        return 2
    if args.handler is cmd_bench:
        return cmd_bench(args, extra)
    return _run(args)


def _missing_data_dir(args: argparse.Namespace) -> Path | None:
    """The data folder this command would use when it holds no SQLite database yet (else None).

    Only `migrate` and `quickstart` make a database; any other command would create the folder, an empty
    database and a secret key on loading the settings, and then fail for want of tables. Known only
    before the settings are loaded, and only for the default SQLite database.
    """
    from django.conf import settings

    if args.handler in (cmd_migrate, cmd_quickstart) or settings.configured:
        return None
    if os.environ.get("CASELOOP_DATABASE_URL", "").strip():
        return None
    given = args.data_dir or os.environ.get("CASELOOP_DATA_DIR") or REPO_DIR / "var"  # as the settings read it
    data_dir = Path(given).expanduser().resolve()
    return None if (data_dir / "caseloop.sqlite3").exists() else data_dir


def _run(args: argparse.Namespace) -> int:
    from django.core.exceptions import ImproperlyConfigured

    missing = _missing_data_dir(args)
    if missing is not None:
        print(f"caseloop: no caseloop data in {missing}; run `caseloop migrate` (or `caseloop quickstart`) first",
              file=sys.stderr)  # fmt: skip
        return 1
    try:
        _setup(args.data_dir)
    except (ImproperlyConfigured, ValueError, OSError) as exc:
        if os.environ.get("CASELOOP_DEBUG"):
            raise
        print(f"caseloop: configuration error: {_first_line(exc)}", file=sys.stderr)
        return 1
    from django.core.management.base import CommandError
    from django.db import DatabaseError, InterfaceError

    from caseloop.core.errors import DomainError
    from caseloop.demo.sink import WriteFailed

    try:
        status: int = args.handler(args)
        return status
    except CommandFailed as exc:
        print(f"caseloop: {exc}", file=sys.stderr)
        return exc.status
    except DomainError as exc:
        print(f"caseloop: {exc.message}", file=sys.stderr)
        return 1
    except (CommandError, WriteFailed) as exc:
        print(f"caseloop: {_first_line(exc)}", file=sys.stderr)
        return 1
    except (DatabaseError, InterfaceError) as exc:
        if os.environ.get("CASELOOP_DEBUG"):
            raise
        print(f"caseloop: database error ({_database_description()}): {_first_line(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("caseloop: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
