"""The storage limit: single-row INSERT transactions per second, straight on the database driver.

No Django, no HTTP: one `INSERT` and one `COMMIT` per transaction, from 1 or
more processes (processes, not threads, because gunicorn's workers are
processes and Python threads would measure the GIL instead of the database).
SQLite gets exactly the pragmas caseloop's settings give its connections.
"""

from __future__ import annotations

import multiprocessing
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.stats import Summary, summarise

# The same as caseloop.config.settings gives every SQLite connection, plus the
# IMMEDIATE transaction mode (BEGIN IMMEDIATE) it configures for Django.
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=20000",
    "PRAGMA cache_size=-64000",
    "PRAGMA mmap_size=268435456",
    "PRAGMA temp_store=MEMORY",
)
# a row about the size of a case's subject plus a short first message
SUBJECT = "Garage door spring snapped, door will not open"
BODY = "Hello, the left torsion spring broke this morning and the door is stuck half open. " * 3


@dataclass(frozen=True, slots=True)
class Target:
    """Where the rows go: a SQLite file, or a PostgreSQL URL (psycopg)."""

    sqlite_path: str | None = None
    postgres_url: str | None = None

    def describe(self) -> str:
        return "sqlite3 INSERT+COMMIT" if self.sqlite_path else "psycopg INSERT+COMMIT"


def _sqlite_connect(path: str) -> sqlite3.Connection:
    # isolation_level=None: no implicit transactions; we issue BEGIN IMMEDIATE / COMMIT ourselves
    conn = sqlite3.connect(path, timeout=20, isolation_level=None)
    for pragma in SQLITE_PRAGMAS:
        conn.execute(pragma)
    return conn


def prepare(target: Target) -> None:
    """Create an empty table for the rows (dropping the previous run's)."""
    if target.sqlite_path:
        conn = _sqlite_connect(target.sqlite_path)
        conn.execute("DROP TABLE IF EXISTS bench_storage_row")
        conn.execute(
            "CREATE TABLE bench_storage_row (id INTEGER PRIMARY KEY AUTOINCREMENT, subject TEXT NOT NULL, "
            "body TEXT NOT NULL, created_at TEXT NOT NULL)"
        )
        conn.close()
        return
    import psycopg

    assert target.postgres_url is not None
    with psycopg.connect(target.postgres_url, autocommit=True) as pg:
        pg.execute("DROP TABLE IF EXISTS bench_storage_row")
        pg.execute(
            "CREATE TABLE bench_storage_row (id bigserial PRIMARY KEY, subject text NOT NULL, "
            "body text NOT NULL, created_at timestamptz NOT NULL)"
        )


def _worker(target: Target, duration_s: float, max_rows: int, start_at: float) -> tuple[list[float], int, float]:
    """Insert rows until the deadline or `max_rows`; returns (latencies in ms, errors, seconds run)."""
    latencies: list[float] = []
    errors = 0
    if target.sqlite_path:
        conn = _sqlite_connect(target.sqlite_path)

        def insert() -> None:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "INSERT INTO bench_storage_row (subject, body, created_at) VALUES (?, ?, datetime('now'))",
                (SUBJECT, BODY),
            )
            conn.execute("COMMIT")

        close = conn.close
    else:
        import psycopg

        assert target.postgres_url is not None
        pg = psycopg.connect(target.postgres_url)  # psycopg opens a transaction; commit() ends it

        def insert() -> None:
            pg.execute(
                "INSERT INTO bench_storage_row (subject, body, created_at) VALUES (%s, %s, now())", (SUBJECT, BODY)
            )
            pg.commit()

        close = pg.close
    # every process starts at the same moment, so the concurrency is real from the first row
    time.sleep(max(0.0, start_at - time.time()))
    started = time.perf_counter()
    deadline = started + duration_s
    try:
        while len(latencies) < max_rows and time.perf_counter() < deadline:
            began = time.perf_counter()
            try:
                insert()
            except Exception:  # counted and reported; the measurement goes on
                errors += 1
            latencies.append((time.perf_counter() - began) * 1000)
        ran = time.perf_counter() - started
    finally:
        close()
    return latencies, errors, ran


def measure(*, target: Target, processes: int, duration_s: float, max_rows: int) -> Summary:
    """Insert transactions per second from `processes` processes, each one row per transaction."""
    prepare(target)
    per_process = max(1, max_rows // processes)
    context = multiprocessing.get_context("spawn")
    start_at = time.time() + 1.5  # time for the spawned interpreters to start
    with context.Pool(processes) as pool:
        args: list[tuple[Any, ...]] = [(target, duration_s, per_process, start_at)] * processes
        results = pool.starmap(_worker, args)
    latencies = [ms for rows, _, _ in results for ms in rows]
    errors = sum(e for _, e, _ in results)
    elapsed = max(ran for _, _, ran in results)  # they start together, so the longest run is the wall time
    return summarise(latencies, errors=errors, elapsed_s=elapsed)


def sqlite_target(directory: Path) -> Target:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "storage.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return Target(sqlite_path=str(path))
