"""What the benchmark asks of caseloop in-process, run as `python -m bench.inproc <command>`.

Run in a child process whose environment names the data folder (and database
URL), so the orchestrator never imports caseloop's settings itself. Each
command prints one JSON object on its last line of stdout.

- `count`: how many cases the database holds.
- `token`: a bench user (an agent) and a fresh API token for it.
- `picks`: the things to read: the team with the
  most open cases, cases with several messages and their requesters, existing
  customers' addresses, and a rare and a common word from the search index.
- `txcheck`: one create through the API in-process, counting its queries,
  BEGINs, savepoints and commits.
- `cost`: each measured operation replayed in-process (no HTTP, one thread):
  wall and CPU milliseconds and queries per request.
- `sqlcost`: a returning customer's create, in-process: its CPU per request,
  and its own SQL replayed on the database driver (bench.replay).
"""

from __future__ import annotations

import json
import os
import random
import re
import sys
from pathlib import Path
from typing import Any

# words nobody searches a help desk for, skipped when picking the "common word"
STOPWORDS = frozenset({
    "about", "also", "been", "could", "from", "hello", "into", "just", "please", "should", "thank", "thanks",
    "their", "them", "there", "they", "this", "what", "when", "which", "will", "with", "would", "your",
})  # fmt: skip


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseloop.config.settings")
    import django

    django.setup()


def count() -> dict[str, Any]:
    from caseloop.cases.models import Case, Message

    return {"cases": Case.objects.count(), "messages": Message.objects.count()}


def token() -> dict[str, Any]:
    from caseloop.identity.actions import create_token, create_user
    from caseloop.identity.choices import Role
    from caseloop.identity.models import User

    user = User.objects.filter(username="bench").first() or create_user(
        username="bench", email="bench@bench.example", role=Role.AGENT, display_name="Benchmark"
    )
    issued = create_token(user=user, name="bench")
    return {"user_id": user.pk, "token": issued.plain}


def _sample_cases(rng: random.Random, *, want: int, min_messages: int) -> list[dict[str, int]]:
    """Random cases with at least `min_messages` messages, found by probing random ids (no full scan)."""
    from django.db.models import Max, Min

    from caseloop.cases.models import Case

    bounds = Case.objects.aggregate(low=Min("id"), high=Max("id"))
    low, high = bounds["low"], bounds["high"]
    if low is None or high is None:
        return []
    found: dict[int, dict[str, int]] = {}
    for _ in range(want * 20):
        if len(found) >= want:
            break
        probe = rng.randint(low, high)
        row = (
            Case.objects.filter(pk__gte=probe, message_count__gte=min_messages)
            .order_by("pk")
            .values("id", "requester_id", "message_count")
            .first()
        )
        if row is not None:
            found[row["id"]] = {"case": row["id"], "contact": row["requester_id"], "messages": row["message_count"]}
    return list(found.values())


def _busiest_team() -> dict[str, Any]:
    from django.db.models import Count

    from caseloop.cases.models import Case

    row = Case.objects.open().filter(team__isnull=False).values("team").annotate(n=Count("id")).order_by("-n").first()
    if row is None:
        raise SystemExit("no team has open cases: is the data seeded?")
    return {"team": row["team"], "open_cases": row["n"]}


def _customer_emails(rng: random.Random, *, want: int) -> list[str]:
    from django.db.models import Max, Min

    from caseloop.customers.choices import IdentityKind
    from caseloop.customers.models import ContactIdentity

    emails = ContactIdentity.objects.filter(kind=IdentityKind.EMAIL)
    bounds = emails.aggregate(low=Min("id"), high=Max("id"))
    found: set[str] = set()
    for _ in range(want * 5):
        if len(found) >= want or bounds["low"] is None:
            break
        value = (
            emails.filter(pk__gte=rng.randint(bounds["low"], bounds["high"]))
            .order_by("pk")
            .values_list("value", flat=True)
            .first()
        )
        if value:
            found.add(value)
    return sorted(found)


SAMPLED_MESSAGES = 200_000  # PostgreSQL: about this many messages are read to pick the search words


def _plain_word(term: str) -> bool:
    return term.isalpha() and term.isascii() and len(term) >= 5 and term not in STOPWORDS


def _first_verbatim(cursor: Any, candidates: list[tuple[str, int]], match_sql: str) -> tuple[str, int] | None:
    """The first index term that is also a word as people write it.

    Index terms are stems ("servic"); a benchmark should search for what a user
    types, so a term counts only if a message holding it has it as a whole word.
    """
    for term, docs in candidates[:300]:
        cursor.execute(match_sql, [term])
        row = cursor.fetchone()
        if row is not None and re.search(rf"\b{re.escape(term)}\b", row[0], re.IGNORECASE):
            return term, int(docs)
    return None


def _words() -> dict[str, Any]:
    """A common and a rare word of the message index, with the number of messages holding each."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "CREATE VIRTUAL TABLE IF NOT EXISTS temp.bench_vocab USING fts5vocab(main, cases_message_fts, row)"
            )
            cursor.execute("SELECT term, doc FROM temp.bench_vocab ORDER BY doc DESC LIMIT 400")
            common = [(t, d) for t, d in cursor.fetchall() if _plain_word(t)]
            cursor.execute(
                "SELECT term, doc FROM temp.bench_vocab WHERE doc BETWEEN 2 AND 5 AND length(term) >= 5 "
                "AND term NOT GLOB '*[^a-z]*' LIMIT 5000"
            )
            rare = [(t, d) for t, d in cursor.fetchall() if _plain_word(t)]
            match_sql = (
                "SELECT body_text FROM cases_message WHERE id = "
                "(SELECT rowid FROM cases_message_fts WHERE cases_message_fts MATCH %s LIMIT 1)"
            )
        else:
            # ts_stat over a sample: exact statistics over millions of rows would take minutes; a small
            # table is read whole (2 % of 40,000 messages held too few rare words to find one reliably)
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'cases_message'")
            rows = max(float(cursor.fetchone()[0]), 1.0)
            percent = min(100.0, max(2.0, 100.0 * SAMPLED_MESSAGES / rows))
            sample = f"SELECT search_vector FROM cases_message TABLESAMPLE SYSTEM ({percent:.3f})"  # noqa: S608  (a number computed here)
            cursor.execute("SELECT word, ndoc FROM ts_stat(%s) ORDER BY ndoc DESC LIMIT 400", [sample])
            common = [(t, d) for t, d in cursor.fetchall() if _plain_word(t)]
            cursor.execute("SELECT word, ndoc FROM ts_stat(%s) WHERE ndoc <= 5 LIMIT 5000", [sample])
            rare = []
            for term, _ in cursor.fetchall():
                if not _plain_word(term):
                    continue
                cursor.execute(
                    "SELECT count(*) FROM (SELECT 1 FROM cases_message "
                    "WHERE search_vector @@ to_tsquery('english', %s) LIMIT 6) hits",
                    [term],
                )
                n = cursor.fetchone()[0]
                if 2 <= n <= 5:
                    rare.append((term, n))
                if len(rare) >= 20:
                    break
            match_sql = "SELECT body_text FROM cases_message WHERE search_vector @@ to_tsquery('english', %s) LIMIT 1"
        common_word = _first_verbatim(cursor, common, match_sql)
        rare_word = _first_verbatim(cursor, rare, match_sql)
        if common_word is not None and connection.vendor == "postgresql":
            # the sample's count is a fraction of the real one; count the real one once
            cursor.execute(
                "SELECT count(*) FROM cases_message WHERE search_vector @@ to_tsquery('english', %s)", [common_word[0]]
            )
            common_word = (common_word[0], int(cursor.fetchone()[0]))
    if common_word is None or rare_word is None:
        raise SystemExit("could not pick search words from the index: is the data seeded?")
    # the most frequent word is the worst case for ranking; the rare one is what people look up
    return {"common_word": common_word[0], "common_docs": common_word[1],
            "rare_word": rare_word[0], "rare_docs": rare_word[1]}  # fmt: skip


def picks() -> dict[str, Any]:
    rng = random.Random(7)
    cases = _sample_cases(rng, want=50, min_messages=4)
    if not cases:
        raise SystemExit("no case has 4 or more messages: is the data seeded?")
    return {
        **_busiest_team(),
        "cases": cases,
        "emails": _customer_emails(rng, want=200),
        **_words(),
    }


def txcheck(token: str) -> dict[str, Any]:
    """Create one case through the API in-process and count what reached the database."""
    from unittest import mock

    from django.db import connection
    from django.test import Client

    from caseloop.core import clock
    from caseloop.identity.actions import TOKEN_PREFIX
    from caseloop.identity.models import ApiToken

    client = Client()
    auth = {"Authorization": f"Bearer {token}"}
    client.get("/api/v1/cases?limit=1", headers=auth)  # the process's first request loads what it needs
    # the token's last_used_at is written at most once a minute, by whichever request finds it older; a
    # first call alone left a race (a 1M run's check once crossed the minute between it and the create),
    # so the stamp is made fresh here: that bookkeeping write is not part of a create
    prefix = token.removeprefix(TOKEN_PREFIX).split("_", 1)[0]
    ApiToken.objects.filter(prefix=prefix).update(last_used_at=clock.now())
    statements: list[str] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statements.append(sql)
        return execute(sql, params, many, context)

    payload = {
        "subject": "Benchmark: transaction check",
        "requester": {"email": "txcheck@bench.example", "name": "Transaction Check"},
        "message": {"body_text": "One case, one message, one transaction."},
    }
    counting = mock.patch.object(connection, "commit", wraps=connection.commit)
    with counting as commits, connection.execute_wrapper(record):
        response = client.post("/api/v1/cases", data=json.dumps(payload), content_type="application/json", headers=auth)
    upper = [s.lstrip().upper() for s in statements]
    begins = sum(1 for s in upper if s.startswith("BEGIN"))
    savepoints = sum(1 for s in upper if s.startswith("SAVEPOINT"))
    writes = sum(1 for s in upper if s.startswith(("INSERT", "UPDATE", "DELETE")))
    return {
        "status": response.status_code,
        "queries": len(statements) - begins - savepoints - sum(1 for s in upper if s.startswith("RELEASE")),
        "writes": writes,
        "begins": begins,
        "savepoints": savepoints,
        "commits": commits.call_count,
        "statements": statements,
    }


def cost(plan_path: str) -> dict[str, Any]:
    """Each operation's cost inside Django, one thread, no HTTP: wall and CPU time, and queries, per request.

    The plan (written by bench.run) lists, per operation, the requests to replay.
    CPU time is counted for this thread only, so it shows the work one request
    makes, and varies less with the machine's other load than wall time does.
    """
    import time

    from django.db import connection
    from django.test import Client

    from bench.stats import percentile

    plan = json.loads(Path(plan_path).read_text())
    client = Client()
    results = {}
    queries = [0]

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        queries[0] += 1
        return execute(sql, params, many, context)

    def send(request: dict[str, Any]) -> int:
        headers = {"Authorization": f"Bearer {plan['token']}"}
        if request["method"] == "GET":
            return client.get(request["path"], headers=headers).status_code
        return client.post(request["path"], data=request["body"], content_type="application/json",
                           headers=headers).status_code  # fmt: skip

    for item in plan["operations"]:
        requests = item["requests"]
        for request in requests[:5]:  # warm caches and compiled templates of this path
            send(request)
        walls, cpus, counts, statuses = [], [], [], set()
        with connection.execute_wrapper(count):
            for request in requests[5:]:
                queries[0] = 0
                wall, cpu = time.perf_counter(), time.thread_time()
                statuses.add(send(request))
                cpus.append((time.thread_time() - cpu) * 1000)
                walls.append((time.perf_counter() - wall) * 1000)
                counts.append(queries[0])
        results[item["operation"]] = {
            "requests": len(walls),
            "wall_p50_ms": percentile(walls, 50),
            "cpu_mean_ms": sum(cpus) / len(cpus),
            "queries_mean": sum(counts) / len(counts),
            "statuses": sorted(statuses),
        }
    return results


PAGE_SAMPLES = 100  # creates whose pages written are counted


def pages(token: str) -> dict[str, Any]:
    """SQLite: database pages a returning customer's create writes (WAL frames appended), median of 100.

    Every page is written at commit and read back by the next request of every
    other server process (SQLite drops a connection's page cache when another
    one has committed), so this counts what a create costs the storage beyond
    its statements. Checkpoints are off meanwhile, so the log only grows.
    """
    import statistics

    from django.conf import settings
    from django.db import connection
    from django.test import Client

    if connection.vendor != "sqlite":
        return {"pages": None}
    settings.CASELOOP_WAL_CHECKPOINT_SECONDS = 0  # no background checkpoint thread in this process
    client = Client()
    auth = {"Authorization": f"Bearer {token}"}
    body = json.dumps({
        "subject": "Benchmark: pages written by a create",
        "requester": {"email": "pages@bench.example", "name": "Page Count"},
        "message": {"body_text": "Hello, the left torsion spring broke this morning and the door is stuck half "
                                 "open. The label says 0.250 x 2 x 32. Can you send someone tomorrow?"},
    })  # fmt: skip

    def create() -> None:
        response = client.post("/api/v1/cases", data=body, content_type="application/json", headers=auth)
        assert response.status_code == 201, response.content[:300]

    create()  # makes the customer; the next ones find them, as 3 in 4 of the benchmark's creates do
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.execute("PRAGMA page_size")
        frame = int(cursor.fetchone()[0]) + 24  # each WAL frame: a 24-byte header and one page
    wal = Path(str(connection.settings_dict["NAME"]) + "-wal")
    written = []
    for _ in range(PAGE_SAMPLES):
        before = wal.stat().st_size if wal.exists() else 0
        create()
        written.append((wal.stat().st_size - before) // frame)
    return {"pages": statistics.median(written), "min": min(written), "max": max(written), "samples": len(written)}


REPLAYS = 500  # creates timed in-process, and replays of their SQL on the driver


def sqlcost(token: str) -> dict[str, Any]:
    """A returning customer's create: its CPU in-process, and the CPU of its own statements on the driver.

    The first create makes the customer; the next ones (the bench's common
    case, 3 in 4) find them. One of those is captured and replayed.
    """
    from django.db import connection
    from django.test import Client

    from bench.replay import measure_request

    client = Client()
    auth = {"Authorization": f"Bearer {token}"}
    payload = {
        "subject": "Benchmark: storage cost of a create",
        "requester": {"email": "sqlcost@bench.example", "name": "Storage Cost"},
        "message": {"body_text": "Hello, the left torsion spring broke this morning and the door is stuck half "
                                 "open. The label says 0.250 x 2 x 32. Can you send someone tomorrow?"},
    }  # fmt: skip
    body = json.dumps(payload)

    def create() -> int:
        response = client.post("/api/v1/cases", data=body, content_type="application/json", headers=auth)
        return int(response.status_code)

    return measure_request(create, connection=connection, times=REPLAYS)  # warm-up makes the customer first


def main(argv: list[str]) -> None:
    _setup()
    command = argv[0] if argv else ""
    if command == "count":
        result = count()
    elif command == "token":
        result = token()
    elif command == "picks":
        result = picks()
    elif command == "txcheck" and len(argv) == 2:
        result = txcheck(argv[1])
    elif command == "cost" and len(argv) == 2:
        result = cost(argv[1])
    elif command == "sqlcost" and len(argv) == 2:
        result = sqlcost(argv[1])
    elif command == "pages" and len(argv) == 2:
        result = pages(argv[1])
    else:
        raise SystemExit(
            "usage: python -m bench.inproc count | token | picks | txcheck TOKEN | cost PLAN.json | sqlcost TOKEN "
            "| pages TOKEN"
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
