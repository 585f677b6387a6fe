"""`python -m bench`: seed, serve as in production, measure, compare with the raw limits, report.

Steps (each bounded in requests and time, everything on 127.0.0.1):
1. seed N cases with `caseloop demo --cases N` into bench/data/<db>-<N>/seed
   (kept and reused: seeding a million cases takes a long while), copy them to
   a fresh working copy, and pick what to read (a team, cases with several
   messages, a rare and a common word) and a bench API token;
2. start `caseloop serve` (gunicorn, as the README runs it) and measure the reads
   over HTTP; then, with the framework limit's server (a bare django-ninja
   insert endpoint under the same gunicorn configuration) up beside it,
   measure the create and that limit back to back in `--rounds` rounds, so the
   machine's drift falls on both alike;
3. check in-process that one create is one transaction, measure each request's
   cost in-process, and split the create's into its SQL (replayed alone on the
   driver), the framework's request and its own Python work;
4. measure the storage limit (single-row INSERT transactions on the database
   driver);
5. print one table with targets and ratios, and write it as JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import json
import math
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from bench import storage
from bench.loadgen import LoadResult, Request, RequestFactory, get, json_request, run_load
from bench.replay import ceiling, python_budget
from bench.report import (
    CREATE_SHARE_OF_FRAMEWORK,
    READ_P99_MS,
    SEARCH_P99_MS,
    Report,
    Row,
    format_report,
    latency_target,
    median,
    ratio,
    write_json,
)
from bench.servers import HOST, caseloop_command, free_port, process_tree_cpu_seconds, running
from bench.stats import Summary, pooled

REPO = Path(__file__).resolve().parent.parent
DATA_ROOT = REPO / "bench" / "data"
RESULTS = REPO / "bench" / "results"
SEED_MARKER = "seeded.json"
CREATE = "create case + first message"
FRAMEWORK = "framework limit: bare ninja insert"


@dataclass(frozen=True, slots=True)
class Options:
    cases: int
    data_dir: Path
    duration_s: float
    max_requests: int
    database_url: str
    read_concurrency: tuple[int, ...]
    create_concurrency: tuple[int, ...]
    skip_limits: bool
    keep_run_copy: bool
    quiet_wait_s: float
    seed_only: bool
    rounds: int = 3

    @property
    def postgres(self) -> bool:
        return self.database_url.startswith(("postgres://", "postgresql://"))


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog=os.environ.get("CASELOOP_BENCH_PROG", "python -m bench"),
        description=__doc__.split("\n\n")[0] if __doc__ else "",
    )
    parser.add_argument("--cases", type=int, default=10_000, help="cases to seed (10000, 100000, 1000000)")
    parser.add_argument("--data-dir", type=Path, help="where seeded data is kept (default bench/data/<db>-<N>)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement (default 10)")
    parser.add_argument("--max-requests", type=int, default=20_000, help="requests per measurement at most")
    parser.add_argument("--database-url", default="", help="postgres://… to seed and serve PostgreSQL instead")
    parser.add_argument("--read-concurrency", default="1,4", help="comma-separated, default 1,4")
    parser.add_argument("--create-concurrency", default="1,8", help="comma-separated, default 1,8")
    parser.add_argument("--skip-limits", action="store_true", help="do not measure the framework/storage limits")
    parser.add_argument(
        "--keep-run-copy",
        action="store_true",
        help="reuse the working copy of the previous run instead of copying the seeded data afresh",
    )
    parser.add_argument(
        "--quiet-wait", type=float, default=120, help="seconds to wait at most for a load average below 1"
    )
    parser.add_argument("--seed-only", action="store_true", help="seed (or check the seed) and stop")
    parser.add_argument(
        "--rounds", type=int, default=3,
        help="creates and the framework limit are measured back to back this many times, the order swapped each "
             "round, so the machine's drift falls on both alike (default 3)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if not 1 <= args.rounds <= 10:
        parser.error("--rounds is 1 to 10")
    if not 1 <= args.cases <= 1_000_000:
        parser.error("--cases is 1 to 1,000,000")
    database_url = args.database_url or os.environ.get("CASELOOP_DATABASE_URL", "")
    if database_url and not database_url.startswith(("postgres://", "postgresql://")):
        parser.error("--database-url must be a postgres:// URL (SQLite is the default)")
    if database_url and urlsplit(database_url).hostname not in (None, "", "localhost", "127.0.0.1", "::1"):
        parser.error("the benchmark runs against a local database only (loopback host or socket)")
    kind = "pg" if database_url else "sqlite"
    data_dir = (args.data_dir or DATA_ROOT / f"{kind}-{args.cases}").resolve()

    def numbers(raw: str) -> tuple[int, ...]:
        values = tuple(int(x) for x in raw.split(",") if x.strip())
        if not values or any(not 1 <= v <= 64 for v in values):
            parser.error(f"concurrency must be 1 to 64: {raw!r}")
        return values

    return Options(
        cases=args.cases,
        data_dir=data_dir,
        duration_s=args.duration,
        max_requests=args.max_requests,
        database_url=database_url,
        read_concurrency=numbers(args.read_concurrency),
        create_concurrency=numbers(args.create_concurrency),
        skip_limits=args.skip_limits,
        keep_run_copy=args.keep_run_copy,
        quiet_wait_s=args.quiet_wait,
        seed_only=args.seed_only,
        rounds=args.rounds,
    )


def wait_until_quiet(limit_s: float, *, threshold: float = 1.0) -> float:
    """Wait (bounded) until the 1-minute load average drops: on 2 cores any other job skews every figure."""
    deadline = time.monotonic() + limit_s
    load = os.getloadavg()[0]
    if load > threshold:
        say(f"load average {load:.2f}: waiting up to {limit_s:.0f} s for the machine to be quiet …")
    while load > threshold and time.monotonic() < deadline:
        time.sleep(5)
        load = os.getloadavg()[0]
    return load


def say(message: str) -> None:
    print(f"[bench {dt.datetime.now(dt.UTC).astimezone().strftime('%H:%M:%S')}] {message}", flush=True)


# --- the data ---------------------------------------------------------------------------
def caseloop_env(options: Options, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASELOOP_")}
    env["CASELOOP_DATA_DIR"] = str(data_dir)
    env["CASELOOP_LOG_LEVEL"] = "WARNING"
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    if options.database_url:
        env["CASELOOP_DATABASE_URL"] = options.database_url
    return env


def inproc(options: Options, data_dir: Path, *args: str) -> Any:
    """Run a `bench.inproc` command against `data_dir` and return its JSON answer."""
    result = subprocess.run(
        [sys.executable, "-m", "bench.inproc", *args],
        env=caseloop_env(options, data_dir),
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    if result.returncode != 0:
        raise RuntimeError(f"bench.inproc {args[0]} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def seed(options: Options) -> dict[str, Any]:
    """Seeded data for N cases in <data dir>/seed, made once and reused; returns the seed marker."""
    seed_dir = options.data_dir / "seed"
    marker = seed_dir / SEED_MARKER
    if marker.exists():
        info: dict[str, Any] = json.loads(marker.read_text())
        if info.get("cases") == options.cases and info.get("database_url", "") == options.database_url:
            say(f"reusing {info['cases']:,} seeded cases in {seed_dir} (seeded in {info['seconds']:.0f} s)")
            return info
        raise SystemExit(f"{seed_dir} holds another seed ({info}); give another --data-dir or delete it")
    if options.postgres:
        seed_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run(caseloop_command("migrate"), env=caseloop_env(options, seed_dir), cwd=REPO, check=True,
                       timeout=3600, stdout=subprocess.DEVNULL)  # fmt: skip
        existing = inproc(options, seed_dir, "count")["cases"]
        if existing:
            raise SystemExit(
                f"the database at {options.database_url} already has {existing:,} cases; give an empty database"
            )
    elif seed_dir.exists():
        shutil.rmtree(seed_dir)  # an interrupted seeding: start again
    seed_dir.mkdir(parents=True, exist_ok=True)
    env = caseloop_env(options, seed_dir)
    say(f"seeding {options.cases:,} cases into {seed_dir} with `caseloop demo` …")
    started = time.perf_counter()
    subprocess.run(caseloop_command("migrate"), env=env, cwd=REPO, check=True, timeout=3600)
    subprocess.run(caseloop_command("demo", "--cases", str(options.cases), "--quiet"), env=env, cwd=REPO,
                   check=True, timeout=6 * 3600)  # fmt: skip
    seconds = time.perf_counter() - started
    say(f"seeded in {seconds:.0f} s; picking what to read …")
    picks = inproc(options, seed_dir, "picks")
    picks.pop("token", None)  # tokens are made per run, in the working copy
    if not options.postgres:
        _checkpoint(seed_dir / "caseloop.sqlite3")
    info = {"cases": options.cases, "seconds": seconds, "database_url": options.database_url, "picks": picks,
            "command": f"caseloop migrate && caseloop demo --cases {options.cases} --quiet",
            "at": dt.datetime.now(dt.UTC).isoformat()}  # fmt: skip
    marker.write_text(json.dumps(info, indent=2))
    return info


def _checkpoint(database: Path) -> None:
    """Fold the WAL into the database file, so the file alone is the whole data set."""
    conn = sqlite3.connect(database)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def run_database_url(seed_url: str) -> str:
    """The working copy's database beside the seeded one: the same server, the seed's name + `_run`."""
    parts = urlsplit(seed_url)
    name = parts.path.lstrip("/")
    if not name:
        raise SystemExit(f"{seed_url} names no database")
    return parts._replace(path=f"/{name}_run").geturl()


def _database_name(url: str) -> str:
    return unquote(urlsplit(url).path.lstrip("/"))


def copy_postgres_database(seed_url: str, run_url: str, *, keep: bool = False) -> None:
    """Make `run_url`'s database a fresh copy of `seed_url`'s (PostgreSQL's `CREATE DATABASE … TEMPLATE`).

    A template may have no other session while it is copied; the seed's own
    sessions are the benchmark's (a server or worker of an interrupted run),
    so they are ended first. With `keep`, an existing copy is used as it is.
    """
    import psycopg
    from psycopg import sql

    seed, run = _database_name(seed_url), _database_name(run_url)
    with psycopg.connect(seed_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [run]).fetchone() is not None
        if keep and exists:
            return
        for name in (seed, run):
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE datname = %s AND pid <> pg_backend_pid()", [name])  # fmt: skip
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(run)))
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(run), sql.Identifier(seed)))


def working_copy(options: Options) -> tuple[Path, Options]:
    """The data the run writes to, a fresh copy of the seed, and the options that point at it.

    SQLite: the database file copied into <data dir>/run. PostgreSQL: the seeded
    database copied into a database of its own (`run_database_url`), so every run
    starts from the same N cases instead of the seed growing by each run's creates.
    """
    seed_dir = options.data_dir / "seed"
    # the code moves on while a seed is kept: bring its schema up to date once, before copying it
    started = time.perf_counter()
    subprocess.run(caseloop_command("migrate"), env=caseloop_env(options, seed_dir), cwd=REPO, check=True,
                   timeout=3600, stdout=subprocess.DEVNULL)  # fmt: skip
    say(f"seed schema up to date ({time.perf_counter() - started:.0f} s)")
    run_dir = options.data_dir / "run"
    if options.postgres:
        run_options = dataclasses.replace(options, database_url=run_database_url(options.database_url))
        say(f"copying the seeded database to {_database_name(run_options.database_url)} …")
        copy_postgres_database(options.database_url, run_options.database_url, keep=options.keep_run_copy)
    else:
        run_options = options
        if options.keep_run_copy and (run_dir / "caseloop.sqlite3").exists():
            return run_dir, run_options
        say("copying the seeded database to a fresh working copy …")
    # SQLite reaches here only for a fresh copy: its old folder goes, -wal and -shm files included (beside a
    # new database file they would corrupt it); a kept PostgreSQL copy keeps its folder (attachments) too
    if run_dir.exists() and not (options.keep_run_copy and options.postgres):
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    if not options.postgres:
        _checkpoint(seed_dir / "caseloop.sqlite3")
        shutil.copy2(seed_dir / "caseloop.sqlite3", run_dir / "caseloop.sqlite3")
    shutil.copy2(seed_dir / "secret_key", run_dir / "secret_key")
    return run_dir, run_options


# --- measuring ---------------------------------------------------------------------------
def measure(
    options: Options,
    port: int,
    make: Callable[[int], Request],
    concurrency: int,
    *,
    warmup: int,
    server_pid: int | None = None,
) -> LoadResult:
    result = run_load(
        host=HOST,
        port=port,
        make_request=make,
        concurrency=concurrency,
        max_requests=options.max_requests,
        duration_s=options.duration_s,
        warmup_requests=warmup,
        cpu_clock=(lambda: process_tree_cpu_seconds(server_pid)) if server_pid is not None else None,
    )
    s = result.summary
    say(
        f"  c={concurrency}: {s.requests:,} requests, {s.throughput:,.0f}/s, p50 {s.p50_ms:.1f} ms, "
        f"p99 {s.p99_ms:.1f} ms, errors {s.errors}" + (f" (first: {result.first_error})" if result.first_error else "")
    )
    return result


def read_measurements(picks: dict[str, Any], token: str) -> list[tuple[str, Callable[[int], Request], float]]:
    """(operation, request factory, p99 target) for each read; the factories rotate over the sampled cases."""
    cases = picks["cases"]

    def pick(n: int) -> dict[str, int]:
        item: dict[str, int] = cases[n % len(cases)]
        return item

    team = picks["team"]
    return [
        ("inbox: open cases of a team", lambda n: get(f"/api/v1/cases?team={team}&open=true&limit=25", token=token),
         READ_P99_MS),
        ("case", lambda n: get(f"/api/v1/cases/{pick(n)['case']}", token=token), READ_P99_MS),
        ("case messages", lambda n: get(f"/api/v1/cases/{pick(n)['case']}/messages", token=token), READ_P99_MS),
        ("timeline of a contact", lambda n: get(f"/api/v1/timeline?subject=contact:{pick(n)['contact']}",
                                                token=token), READ_P99_MS),
        ("timeline of a case", lambda n: get(f"/api/v1/timeline?subject=case:{pick(n)['case']}", token=token),
         READ_P99_MS),
        (f"search rare word '{picks['rare_word']}' ({picks['rare_docs']} msgs)",
         lambda n: get(f"/api/v1/search?q={quote(picks['rare_word'])}", token=token), SEARCH_P99_MS),
        (f"search common word '{picks['common_word']}' ({picks['common_docs']:,} msgs)",
         lambda n: get(f"/api/v1/search?q={quote(picks['common_word'])}", token=token), SEARCH_P99_MS),
    ]  # fmt: skip


def create_request(picks: dict[str, Any], token: str, run_id: str) -> Callable[[int], Request]:
    """A case with its first message; 3 in 4 from an existing customer's address, 1 in 4 from a new one."""
    emails = picks["emails"]

    def make(n: int) -> Request:
        if n % 4 == 0 or not emails:
            requester = {"email": f"bench-{run_id}-{n}@bench.example", "name": f"Bench Customer {n}"}
        else:
            requester = {"email": emails[n % len(emails)], "name": "Bench Returning Customer"}
        return json_request("POST", "/api/v1/cases", {
            "subject": f"Garage door spring snapped ({n})",
            "requester": requester,
            "message": {"body_text": "Hello, the left torsion spring broke this morning and the door is stuck "
                                     "half open. The label says 0.250 x 2 x 32. Can you send someone tomorrow?"},
        }, token=token)  # fmt: skip

    return make


def measure_caseloop(options: Options, report: Report, run_dir: Path, picks: dict[str, Any], token: str) -> None:
    port = free_port()
    env = caseloop_env(options, run_dir)
    log = run_dir / "server.log"
    # other work may have added migrations while the run waited for a quiet machine
    subprocess.run(caseloop_command("migrate"), env=env, cwd=REPO, check=True, timeout=3600,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    command = caseloop_command("serve", "--host", HOST, "--port", str(port))
    say(f"starting {' '.join(command[-5:])} on {HOST}:{port} (log: {log}) …")
    with running(command, port=port, env=env, log=log, ready_path="/api/v1/health", cwd=REPO) as server:
        for operation, make, limit in read_measurements(picks, token):
            for concurrency in options.read_concurrency:
                say(f"{operation} …")
                result = measure(options, port, make, concurrency, warmup=30, server_pid=server.pid)
                target, met = latency_target(result.summary, p99_limit_ms=limit)
                passed: bool | None = met
                if concurrency > 1:
                    # the targets are one user's wait; with more requests in flight than cores the
                    # p99 includes queueing, shown for information
                    target, passed = "(c=1 target)", None
                row = Row(operation=operation, concurrency=concurrency, summary=result.summary, target=target,
                          passed=passed)  # fmt: skip
                report.add(with_cpu(row, [result]))
        with framework_server(options, run_dir) as framework:
            measure_writes(options, report, (port, server.pid), framework, picks, token)


def measure_writes(options: Options, report: Report, server: tuple[int, int], framework: tuple[int, int] | None,
                   picks: dict[str, Any], token: str) -> None:  # fmt: skip
    """Creates, and the framework limit beside them, in rounds measured back to back.

    The machine's speed drifts by tens of percent over minutes (other tenants,
    frequency), so a create rate and a framework rate measured minutes apart
    do not make a fair ratio. Each round measures the two one after the other
    (the order swaps every round); the table shows each side pooled over the
    rounds, and the target is judged on the median of the rounds' ratios.
    `server` and `framework` are each a (port, process id).
    """
    run_id = dt.datetime.now(dt.UTC).astimezone().strftime("%H%M%S")

    def framework_request(n: int) -> Request:
        return json_request("POST", "/rows", {"subject": storage.SUBJECT, "body": storage.BODY})

    for concurrency in options.create_concurrency:
        creates: list[LoadResult] = []
        bare: list[LoadResult] = []
        for round_number in range(options.rounds):
            steps: list[tuple[str, tuple[int, int], RequestFactory, list[LoadResult]]] = [
                ("create a case with its first message", server,
                 create_request(picks, token, f"{run_id}c{concurrency}r{round_number}"), creates),
            ]  # fmt: skip
            if framework is not None:
                steps.append(("framework limit: bare insert", framework, framework_request, bare))
            if round_number % 2:
                steps.reverse()
            for what, (target_port, pid), make, results in steps:
                say(f"{what} (round {round_number + 1} of {options.rounds}) …")
                results.append(measure(options, target_port, make, concurrency, warmup=10, server_pid=pid))
        report.add(with_cpu(Row(operation=CREATE, concurrency=concurrency, summary=_pool(creates)), creates))
        if bare:
            report.add(with_cpu(Row(operation=FRAMEWORK, concurrency=concurrency, summary=_pool(bare)), bare))
            report.paired_ratios[concurrency] = [
                ratio(c.summary, f.summary) for c, f in zip(creates, bare, strict=True)
            ]


def with_cpu(row: Row, results: list[LoadResult]) -> Row:
    """`row` with the server's and the load generator's CPU milliseconds per request over `results` (NaN: unknown)."""
    requests = sum(r.summary.requests for r in results)

    def per_request(spent: list[float | None]) -> float:
        if not requests or any(s is None for s in spent):
            return math.nan
        return sum(s for s in spent if s is not None) / requests * 1000

    return dataclasses.replace(row, server_cpu_ms=per_request([r.server_cpu_s for r in results]),
                               client_cpu_ms=per_request([r.client_cpu_s for r in results]))  # fmt: skip


def _pool(results: list[LoadResult]) -> Summary:
    return pooled([r.latencies_ms for r in results], errors=sum(r.summary.errors for r in results),
                  elapsed_s=[r.summary.elapsed_s for r in results])  # fmt: skip


def measure_cost(options: Options, report: Report, run_dir: Path, picks: dict[str, Any], token: str) -> None:
    """Replay every operation in-process (bench.inproc cost) for the server-side cost per request."""
    operations = [(operation, make) for operation, make, _ in read_measurements(picks, token)]
    operations.append((CREATE, create_request(picks, token, "cost")))
    plan = {
        "token": token,
        "operations": [
            {"operation": operation, "requests": [
                {"method": r.method, "path": r.path, "body": r.body.decode() if r.body else None}
                for r in (make(n) for n in range(105))
            ]}
            for operation, make in operations
        ],
    }  # fmt: skip
    plan_path = run_dir / "cost-plan.json"
    plan_path.write_text(json.dumps(plan))
    say("server-side cost per request, in-process (no HTTP, one thread) …")
    report.costs = inproc(options, run_dir, "cost", str(plan_path))


def measure_split(options: Options, report: Report, run_dir: Path, token: str) -> None:
    """The create's and the framework request's CPU in-process, each beside its own SQL replayed on the driver."""
    say("where a create's cost goes: in-process, and its SQL alone on the driver …")
    split: dict[str, Any] = {"create": inproc(options, run_dir, "sqlcost", token)}
    if not options.skip_limits:
        result = subprocess.run([sys.executable, "-m", "bench.framework.sqlcost"],
                                env=caseloop_env(options, run_dir / "framework"), cwd=REPO, capture_output=True,
                                text=True, check=False, timeout=600)  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"bench.framework.sqlcost failed:\n{result.stderr[-3000:]}")
        framework = json.loads(result.stdout.strip().splitlines()[-1])
        split["framework"] = framework
        create = split["create"]
        split["python_ms"] = (create["request_cpu_ms"] - create["sql_cpu_ms"]
                              - (framework["request_cpu_ms"] - framework["sql_cpu_ms"]))  # fmt: skip
    report.split = split


def framework_command(port: int, database_url: str) -> list[str]:
    """gunicorn serving the bare project with `caseloop serve`'s own worker settings for that database."""
    from caseloop.cli import gunicorn_options  # the CLI's single source of the production settings

    return [
        str(Path(sys.executable).parent / "gunicorn"),
        "bench.framework.wsgi:application",
        *gunicorn_options(host=HOST, port=port, database_url=database_url),
    ]


@contextlib.contextmanager
def framework_server(options: Options, run_dir: Path) -> Iterator[tuple[int, int] | None]:
    """The bare framework project served beside caseloop (its port and process id), or None with --skip-limits."""
    if options.skip_limits:
        yield None
        return
    port = free_port()
    directory = run_dir / "framework"
    directory.mkdir(parents=True, exist_ok=True)
    env = caseloop_env(options, directory)
    subprocess.run([sys.executable, "-m", "bench.framework.create_table"], env=env, cwd=REPO, check=True, timeout=120)
    log = directory / "server.log"
    say(f"framework limit: bare django-ninja insert endpoint on {HOST}:{port}, beside caseloop …")
    command = framework_command(port, options.database_url)
    with running(command, port=port, env=env, log=log, ready_path="/health", cwd=REPO) as process:
        yield port, process.pid


def measure_storage(options: Options, report: Report, run_dir: Path) -> None:
    target = (
        storage.Target(postgres_url=options.database_url)
        if options.postgres
        else storage.sqlite_target(run_dir / "storage")
    )
    for concurrency in options.create_concurrency:
        say(f"storage limit: {target.describe()}, {concurrency} process(es) …")
        summary = storage.measure(target=target, processes=concurrency, duration_s=options.duration_s,
                                  max_rows=1_000_000)  # fmt: skip
        report.add(Row(operation=f"storage limit: {target.describe()}", concurrency=concurrency,
                       summary=summary))  # fmt: skip


def _storage_row(report: Report, concurrency: int) -> Row | None:
    return next((r for r in report.rows if r.operation.startswith("storage") and r.concurrency == concurrency), None)


def judge(options: Options, report: Report) -> None:
    """Targets and ratios that compare rows with each other."""
    top = max(options.create_concurrency)
    for concurrency in options.create_concurrency:
        create = report.find(CREATE, concurrency)
        framework = report.find(FRAMEWORK, concurrency)
        storage_row = _storage_row(report, concurrency)
        share = ratio(create.summary if create else None, framework.summary if framework else None)
        report.ratios[f"create/framework at c={concurrency}"] = share
        report.ratios[f"create/storage at c={concurrency}"] = ratio(
            create.summary if create else None, storage_row.summary if storage_row else None
        )
        if create is not None and concurrency == top and framework is not None:
            paired = report.paired_ratios.get(concurrency)
            judged = median(paired) if paired else share  # rounds measured back to back, when there are some
            passed = create.summary.errors == 0 and judged >= CREATE_SHARE_OF_FRAMEWORK
            report.rows[report.rows.index(create)] = dataclasses.replace(
                create, target=f">= {CREATE_SHARE_OF_FRAMEWORK:.0%} of framework", passed=passed
            )
    framework_top = report.find(FRAMEWORK, top)
    if framework_top is not None and "framework" in report.split and framework_top.summary.throughput > 0:
        cores = os.cpu_count() or 1
        rate = framework_top.summary.throughput
        report.split.update(
            target=CREATE_SHARE_OF_FRAMEWORK, concurrency=top, framework_rate=rate, cores=cores,
            machine_ms=cores / rate * 1000,
            budget_ms=python_budget(framework_rate=rate, cores=cores, target=CREATE_SHARE_OF_FRAMEWORK,
                                    create_sql_ms=report.split["create"]["sql_cpu_ms"],
                                    row_sql_ms=report.split["framework"]["sql_cpu_ms"]),
            ceiling=ceiling(framework_rate=rate, cores=cores, create_sql_ms=report.split["create"]["sql_cpu_ms"],
                            row_sql_ms=report.split["framework"]["sql_cpu_ms"]),
        )  # fmt: skip
    create_top = report.find(CREATE, top)
    if (create_top is not None and framework_top is not None and "framework" in report.split
            and not math.isnan(create_top.server_cpu_ms) and not math.isnan(framework_top.server_cpu_ms)):  # fmt: skip
        report.split["over_http"] = {
            "concurrency": top, "create_ms": create_top.server_cpu_ms, "framework_ms": framework_top.server_cpu_ms,
            "framework_inproc_ms": report.split["framework"]["request_cpu_ms"],
        }  # fmt: skip
    storage_top = _storage_row(report, top)
    if framework_top is not None and storage_top is not None:
        report.ratios[f"framework/storage at c={top}"] = ratio(framework_top.summary, storage_top.summary)


def machine_context(options: Options, counts: dict[str, int], seed_info: dict[str, Any]) -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cases_seeded": options.cases,
        "cases_at_start": counts["cases"],
        "messages_at_start": counts["messages"],
        "seed_seconds": round(seed_info["seconds"], 1),
        "database": "PostgreSQL" if options.postgres else f"SQLite {sqlite3.sqlite_version} (WAL)",
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "python": platform.python_version(),
        "server": "caseloop serve (gunicorn)",
        "duration_s": options.duration_s,
        "max_requests": options.max_requests,
    }


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    stamp = dt.datetime.now(dt.UTC).astimezone().strftime("%Y%m%d-%H%M%S")
    seed_info = seed(options)
    if options.seed_only:
        return 0
    picks = seed_info["picks"]
    run_dir, options = working_copy(options)
    token = inproc(options, run_dir, "token")["token"]
    counts = inproc(options, run_dir, "count")
    report = Report(context=machine_context(options, counts, seed_info))
    report.context["picks"] = {k: v for k, v in picks.items() if k not in ("cases", "emails")}
    load = wait_until_quiet(options.quiet_wait_s)
    report.context["load_average_at_start"] = load
    say(f"{counts['cases']:,} cases, {counts['messages']:,} messages; load average {load:.2f}")
    measure_caseloop(options, report, run_dir, picks, token)
    tx = inproc(options, run_dir, "txcheck", token)
    one_transaction = tx["status"] == 201 and tx["commits"] == 1
    report.checks["one transaction per create"] = (
        f"{'pass' if one_transaction else 'FAIL'}: status {tx['status']}, {tx['commits']} commit(s), "
        f"{tx['begins']} BEGIN, {tx['savepoints']} savepoint(s), {tx['queries']} queries ({tx['writes']} writes)"
    )
    report.context["create_statements"] = tx["statements"]
    written = inproc(options, run_dir, "pages", token)
    if written["pages"] is not None:
        report.checks["pages written per create"] = (
            f"{written['pages']:g} (median of {written['samples']} returning customers' creates, "
            f"{written['min']}-{written['max']})"
        )
    measure_cost(options, report, run_dir, picks, token)
    measure_split(options, report, run_dir, token)
    if not options.skip_limits:
        measure_storage(options, report, run_dir)
    judge(options, report)
    print()
    print(format_report(report))
    path = write_json(report, RESULTS, stamp)
    print(f"\nResults written to {path.relative_to(REPO)}")
    failed = [r for r in report.rows if r.passed is False] + ([] if one_transaction else ["transaction"])
    return 1 if failed else 0
