"""Each benchmark run starts from the seeded data as it was seeded, on PostgreSQL as on SQLite."""

from __future__ import annotations

import os
import uuid

import pytest

from bench.run import copy_postgres_database, run_database_url

SERVER_URL = os.environ.get("CASELOOP_DATABASE_URL", "")


def test_the_run_database_sits_beside_the_seed() -> None:
    assert run_database_url("postgres://postgres@127.0.0.1:5432/caseloop_bench") == (
        "postgres://postgres@127.0.0.1:5432/caseloop_bench_run"
    )
    assert run_database_url("postgresql://u:p@localhost/seed?sslmode=disable") == (
        "postgresql://u:p@localhost/seed_run?sslmode=disable"
    )
    with pytest.raises(SystemExit):
        run_database_url("postgres://postgres@127.0.0.1:5432/")


@pytest.mark.skipif(not SERVER_URL.startswith("postgres"), reason="needs a PostgreSQL server")
def test_each_run_gets_a_fresh_copy_of_the_seeded_database_unless_kept() -> None:
    import psycopg

    name = f"bench_copy_test_{uuid.uuid4().hex[:8]}"
    server = SERVER_URL.rsplit("/", 1)[0]
    seed_url = f"{server}/{name}"
    run_url = run_database_url(seed_url)

    def rows(url: str) -> int:
        with psycopg.connect(url) as conn:
            found = conn.execute("SELECT count(*) FROM seeded").fetchone()
            return int(found[0]) if found else -1

    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        with psycopg.connect(seed_url, autocommit=True) as conn:
            conn.execute("CREATE TABLE seeded (id int)")
            conn.execute("INSERT INTO seeded VALUES (1), (2)")
        leftover = psycopg.connect(seed_url)  # a session an interrupted run left on the seed
        copy_postgres_database(seed_url, run_url)
        assert leftover.closed or leftover.broken or _ended(leftover)
        assert rows(run_url) == 2
        with psycopg.connect(run_url, autocommit=True) as conn:
            conn.execute("INSERT INTO seeded VALUES (3)")  # what a run's creates do
        copy_postgres_database(seed_url, run_url, keep=True)
        assert rows(run_url) == 3
        copy_postgres_database(seed_url, run_url)
        assert rows(run_url) == 2 and rows(seed_url) == 2
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            for db in (name, f"{name}_run"):
                admin.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")


def _ended(conn: object) -> bool:
    import psycopg

    assert isinstance(conn, psycopg.Connection)
    try:
        conn.execute("SELECT 1")
    except psycopg.OperationalError:
        return True
    return False
