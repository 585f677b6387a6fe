"""The SQL replay and the Python budget of bench.replay, and how the report shows them."""

import sqlite3
from pathlib import Path

import pytest

from bench.replay import Statement, ceiling, python_budget, replay, writes_of
from bench.report import Report, format_report, to_json

PARENT = Statement('INSERT INTO "parent" ("subject") VALUES (%s)', ["Spring snapped"])
CHILD = Statement('INSERT INTO "child" ("case_id", "note", "pct") VALUES (%s, %s, \'100%%\')', [1, "first"])
ONE_PER_PARENT = Statement('INSERT INTO "sla" ("due", "case_id") VALUES (%s, %s)', ["2026-11-25", 1])
EVENTS = Statement('INSERT INTO "event" ("kind", "case_id") VALUES (%s, %s)', [["a", 1], ["b", 1]], many=True)


def _database(tmp_path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(tmp_path / "replay.sqlite3", isolation_level=None)
    conn.executescript(
        """
        CREATE TABLE parent (id INTEGER PRIMARY KEY, subject TEXT NOT NULL);
        CREATE TABLE child (id INTEGER PRIMARY KEY, case_id INTEGER NOT NULL REFERENCES parent, note TEXT, pct TEXT);
        CREATE TABLE sla (id INTEGER PRIMARY KEY, due TEXT, case_id INTEGER NOT NULL UNIQUE REFERENCES parent);
        CREATE TABLE event (id INTEGER PRIMARY KEY, kind TEXT, case_id INTEGER NOT NULL);
        """
    )
    return conn


def test_only_writes_are_replayed() -> None:
    captured = [Statement("SELECT 1", []), Statement("BEGIN IMMEDIATE", []), PARENT, Statement(" update x", []),
                Statement("SAVEPOINT s1", [])]  # fmt: skip
    assert [s.sql for s in writes_of(captured)] == [PARENT.sql, " update x"]
    assert CHILD.columns == ("case_id", "note", "pct")
    assert Statement("UPDATE child SET note = %s", ["x"]).columns == ()


def test_each_replay_is_one_transaction_whose_children_point_at_its_own_parent(tmp_path: Path) -> None:
    conn = _database(tmp_path)
    cpu_ms = replay(conn, [PARENT, CHILD, ONE_PER_PARENT, EVENTS], vendor="sqlite", times=5, warmup=2)
    assert cpu_ms > 0
    assert conn.execute("SELECT count(*) FROM parent").fetchone() == (7,)
    # the one-per-parent row stayed unique: each replay's rows carry that replay's new parent id
    assert conn.execute("SELECT count(DISTINCT case_id) FROM sla").fetchone() == (7,)
    assert conn.execute("SELECT count(*) FROM event e JOIN parent p ON p.id = e.case_id").fetchone() == (14,)
    assert conn.execute("SELECT DISTINCT pct FROM child").fetchall() == [("100%",)]  # a literal %% is one %
    assert not conn.in_transaction


def test_a_failing_replay_rolls_back_and_says_so(tmp_path: Path) -> None:
    conn = _database(tmp_path)
    broken = Statement('INSERT INTO "child" ("note") VALUES (%s)', ["no parent"])  # case_id NOT NULL
    with pytest.raises(sqlite3.IntegrityError):
        replay(conn, [PARENT, broken], vendor="sqlite", times=1, warmup=0)
    assert conn.execute("SELECT count(*) FROM parent").fetchone() == (0,)
    assert not conn.in_transaction
    with pytest.raises(ValueError, match="nothing to replay"):
        replay(conn, [], vendor="sqlite", times=1)


def test_python_budget_is_what_is_left_after_the_framework_request_and_the_create_sql() -> None:
    # 2 CPUs at 1,000/s: 2 ms of the machine per framework request; at 60 % a create may take 3.333 ms,
    # of which the framework's request besides its row (2 - 0.05) and the create's SQL (0.5) are fixed
    assert python_budget(framework_rate=1000, cores=2, target=0.6, create_sql_ms=0.5, row_sql_ms=0.05) == (
        pytest.approx(2000 / 600 - 1.95 - 0.5)
    )
    assert python_budget(framework_rate=1000, cores=2, target=1.0, create_sql_ms=0.5, row_sql_ms=0.05) < 0
    with pytest.raises(ValueError, match="positive"):
        python_budget(framework_rate=0, cores=2, target=0.6, create_sql_ms=0.5, row_sql_ms=0.05)


def test_ceiling_is_the_ratio_with_only_the_create_sql_added() -> None:
    # 2 ms per framework request, of which 0.05 is its row: 2 / (2 - 0.05 + 0.5)
    assert ceiling(framework_rate=1000, cores=2, create_sql_ms=0.5, row_sql_ms=0.05) == pytest.approx(2 / 2.45)
    assert ceiling(framework_rate=1000, cores=2, create_sql_ms=0.05, row_sql_ms=0.05) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="positive"):
        ceiling(framework_rate=-1, cores=2, create_sql_ms=0.5, row_sql_ms=0.05)


def test_report_shows_where_a_create_cost_goes() -> None:
    report = Report(context={"cases_at_start": 10_000, "database": "SQLite", "cpus": 2, "server": "gunicorn"})
    report.split = {
        "create": {"request_cpu_ms": 3.5, "sql_cpu_ms": 0.6, "writes": ["INSERT INTO a", "INSERT INTO b"]},
        "framework": {"request_cpu_ms": 0.6, "sql_cpu_ms": 0.03},
        "python_ms": 2.33, "target": 0.6, "concurrency": 8, "framework_rate": 1542.0, "cores": 2,
        "machine_ms": 1.297, "budget_ms": 0.29, "ceiling": 0.695,
    }  # fmt: skip
    text = format_report(report)
    assert "its 2 writes replayed on the driver: 0.60 ms" in text
    assert "own Python work, beyond the framework's request and its SQL: 2.33 ms" in text
    assert "to reach 60% of the framework at c=8 (1,542/s on 2 CPUs: 1.30 ms" in text
    assert "that work could take 0.29 ms" in text
    assert "a create could reach 0.69 of the framework" in text
    assert to_json(report)["split"]["budget_ms"] == 0.29
    assert "PostgreSQL's own work" not in text
    report.split["create"]["vendor"] = "postgresql"
    assert "the driver's side only: PostgreSQL's own work runs in its server processes" in format_report(report)
