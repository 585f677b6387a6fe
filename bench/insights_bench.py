"""The insights dashboard at scale: a year of cases and survey answers, the refresh, and the page's render time.

    python -m bench.insights_bench [--cases 1000000] [--answers 300000] [--requests 20]
    python -m bench.insights_bench --postgres postgres://postgres@127.0.0.1:5432/postgres

Generates its own data into a fresh database (a temporary SQLite folder, or a
throwaway PostgreSQL database `caseloop_insights_bench` created on the server
given and dropped afterwards): teams, people, partners, customers, a year of
cases (solved ones with tags), orders, and survey answers whose quality
differs by team (one team slipping over the last six weeks). Rows are written
with bulk inserts (generation is not what is measured). Then it measures:

- the full rebuild of the facts and daily sums (`refresh_insights(full=True)`);
- an incremental refresh after 1,000 cases changed and 500 answers arrived;
- the dashboard, its CSV export and the API, each request through Django's URL
  resolver and view as a signed-in manager (RequestFactory: no network):
  p50/p99/max over `--requests` requests after warm-up. Target: under 1 s.

Prints a table and, on the last line, one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import scratch_db

TARGET_MS = 1000.0
BENCH_DB = "caseloop_insights_bench"


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def _setup(postgres: str | None) -> Path | None:
    return scratch_db.set_up(postgres, name=BENCH_DB)


def _teardown(postgres: str | None, folder: Path | None) -> None:
    scratch_db.tear_down(postgres, folder, name=BENCH_DB)


def _generate(*, cases: int, answers: int, seed: int, now: dt.datetime) -> dict[str, Any]:
    """Bulk-insert a year of data; returns the manager and a few ids the requests need."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from caseloop.cases.models import Case, Tag
    from caseloop.customers.choices import OrganizationKind
    from caseloop.customers.models import Contact, Order, Organization
    from caseloop.feedback.models import Survey, SurveyAnswer, SurveyRule
    from caseloop.identity.choices import Role
    from caseloop.identity.models import Membership, Team, User

    rng = random.Random(seed)
    started = time.perf_counter()
    unusable = make_password(None)  # nobody signs in as these people
    start = now - dt.timedelta(days=365)
    teams = Team.objects.bulk_create([Team(name=f"Team {i + 1}", slug=f"team-{i + 1}") for i in range(12)])
    people = User.objects.bulk_create([User(username=f"rep{i}", display_name=f"Rep {i}", role=Role.AGENT,
                                            password=unusable) for i in range(150)])  # fmt: skip
    Membership.objects.bulk_create([Membership(team=teams[i % 12], user=p) for i, p in enumerate(people)])
    crew = {t.pk: [p for i, p in enumerate(people) if i % 12 == n] for n, t in enumerate(teams)}
    manager = User.objects.create(username="bench-manager", display_name="Bench Manager", role=Role.MANAGER,
                                  password=unusable)  # fmt: skip
    partners = Organization.objects.bulk_create([Organization(name=f"Partner {i}", kind=OrganizationKind.PARTNER)
                                                 for i in range(8)])  # fmt: skip
    tags = Tag.objects.bulk_create([Tag(name=f"topic{i}") for i in range(30)])
    n_contacts = max(10, cases // 4)
    Contact.objects.bulk_create((Contact(name=f"Customer {i}") for i in range(n_contacts)), batch_size=5000)
    contact_ids = list(Contact.objects.values_list("id", flat=True))
    channels = ["email"] * 50 + ["web"] * 15 + ["phone"] * 15 + ["chat"] * 12 + ["sms"] * 5 + ["portal"] * 3
    quality = {t.pk: 0.65 + 0.3 * rng.random() for t in teams}
    slipping = teams[0].pk  # this team's answers get worse over the last six weeks
    solved_rows: list[tuple[int, int, dt.datetime, int]] = []
    through = Case.tags.through
    chunk = 50_000
    # cases are numbered in the order they come in, as in a real installation
    opened = sorted(rng.random() * 365 * 86400 for _ in range(cases))
    for base in range(0, cases, chunk):
        batch = []
        for offset in opened[base : base + chunk]:
            created = start + dt.timedelta(seconds=offset)
            team = rng.choice(teams)
            solved = created + dt.timedelta(hours=rng.expovariate(1 / 20)) if rng.random() < 0.92 else None
            if solved is not None and solved > now:
                solved = None
            status = ("closed" if rng.random() < 0.75 else "solved") if solved else rng.choice(["open", "pending"])
            batch.append(Case(
                subject="Bench case", status=status, priority="normal", channel=rng.choice(channels),
                requester_id=rng.choice(contact_ids), team=team, assignee=rng.choice(crew[team.pk]),
                partner=rng.choice(partners) if rng.random() < 0.08 else None, custom_fields={},
                created_at=created, updated_at=solved or created, solved_at=solved,
            ))  # fmt: skip
        with transaction.atomic():
            made = Case.objects.bulk_create(batch, batch_size=5000)
            links = []
            for case in made:
                for tag in rng.sample(tags, rng.choice((1, 1, 2))):
                    links.append(through(case_id=case.pk, tag_id=tag.pk))
            through.objects.bulk_create(links, batch_size=10_000)
        solved_rows += [
            (c.pk, c.requester_id, c.solved_at, c.team_id)
            for c in made
            if c.solved_at is not None and c.team_id is not None
        ]
    orders = [Order(contact_id=rng.choice(contact_ids), reference=f"B-{i}",
                    ordered_at=start - dt.timedelta(days=90) + dt.timedelta(seconds=rng.random() * 455 * 86400))
              for i in range(int(cases * 0.4))]  # fmt: skip
    Order.objects.bulk_create(orders, batch_size=10_000)
    rule = SurveyRule.objects.first()
    picked = rng.sample(solved_rows, min(answers, len(solved_rows)))
    six_weeks_ago = now - dt.timedelta(weeks=6)
    for base in range(0, len(picked), chunk):
        part = picked[base : base + chunk]
        with transaction.atomic():
            surveys = Survey.objects.bulk_create([
                Survey(case_id=case_id, contact_id=contact_id, rule=rule, channel="email", state="answered",
                       scheduled_for=solved + dt.timedelta(hours=1), sent_at=solved + dt.timedelta(hours=1),
                       team_id=team_id, created_at=solved)
                for case_id, contact_id, solved, team_id in part
            ], batch_size=5000)  # fmt: skip
            made_answers = []
            for survey, (_, _, solved, team_id) in zip(surveys, part, strict=True):
                good = quality[team_id] - (0.35 if team_id == slipping and solved > six_weeks_ago else 0)
                roll = rng.random()
                expectations = "exceeded" if roll < good * 0.4 else "met" if roll < good else "failed"
                happy = expectations != "failed"
                nps = rng.choice((9, 10, 8, 10)) if expectations == "exceeded" else rng.randint(6, 9) if happy \
                    else rng.randint(0, 6)  # fmt: skip
                made_answers.append(SurveyAnswer(
                    survey=survey, expectations=expectations, nps=nps, ces=rng.randint(4, 7) if happy else
                    rng.randint(1, 4), csat=rng.randint(4, 5) if happy else rng.randint(1, 3), source="page",
                    answered_at=solved + dt.timedelta(hours=3), updated_at=solved + dt.timedelta(hours=3),
                ))  # fmt: skip
            SurveyAnswer.objects.bulk_create(made_answers, batch_size=5000)
    return {"manager": manager, "team": teams[0].pk, "person": people[0].pk, "seconds": time.perf_counter() - started,
            "solved": len(solved_rows), "answers": len(picked), "orders": len(orders)}  # fmt: skip


def _measure(*, cases: int, answers: int, requests: int, seed: int) -> dict[str, Any]:
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection
    from django.test import RequestFactory
    from django.test.utils import CaptureQueriesContext
    from django.urls import resolve

    from caseloop.cases.models import Case
    from caseloop.core import clock
    from caseloop.feedback.models import SurveyAnswer
    from caseloop.insights.actions import refresh_insights
    from caseloop.insights.models import CaseFact, DailySegmentStat

    now = clock.now().replace(microsecond=0)
    made = _generate(cases=cases, answers=answers, seed=seed, now=now)
    print(f"progress: generated in {made['seconds']:.0f} s", file=sys.stderr, flush=True)
    results: dict[str, Any] = {
        "database": connection.vendor, "cases": Case.objects.count(), "solved": made["solved"],
        "answers": made["answers"], "orders": made["orders"], "generate_s": round(made["seconds"], 1),
        "cpus": os.cpu_count(),
    }  # fmt: skip
    tick = time.perf_counter()
    full = refresh_insights(full=True)
    results["full_rebuild_s"] = round(time.perf_counter() - tick, 1)
    results["facts"] = full.facts
    results["daily_rows"] = DailySegmentStat.objects.count()
    print(f"progress: {json.dumps(results)}", file=sys.stderr, flush=True)
    # an ordinary few minutes: 1,000 cases changed, 500 answers arrived
    later = now + dt.timedelta(minutes=15)
    ids = list(Case.objects.filter(solved_at__isnull=False).order_by("?").values_list("id", flat=True)[:1000])
    Case.objects.filter(pk__in=ids).update(updated_at=later)
    answer_ids = list(SurveyAnswer.objects.order_by("?").values_list("id", flat=True)[:500])
    SurveyAnswer.objects.filter(pk__in=answer_ids).update(updated_at=later, expectations="failed")
    tick = time.perf_counter()
    with clock.frozen_at(later + dt.timedelta(minutes=1)):
        step = refresh_insights()
    results["incremental_refresh_s"] = round(time.perf_counter() - tick, 2)
    results["incremental_facts"] = step.facts
    assert CaseFact.objects.count() == full.facts

    manager, factory = made["manager"], RequestFactory()

    def call(path: str) -> tuple[float, int]:
        request = factory.get(path)
        request.user = manager
        request.session = SessionStore()
        request._messages = FallbackStorage(request)  # type: ignore[attr-defined]  # what MessageMiddleware sets
        match = resolve(request.path_info)
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = match.func(request, *match.args, **match.kwargs)
            if hasattr(response, "render"):
                response.render()
            elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}")
        return elapsed, len(queries)

    year = f"start={(now - dt.timedelta(days=364)).date()}&end={now.date()}"
    pages = {
        "dashboard: per team, 12 weeks": "/insights/",
        "dashboard: per person, 12 weeks": "/insights/?dimension=person",
        "dashboard: per case type, 12 weeks": "/insights/?dimension=case_type",
        "dashboard: per channel, a year": f"/insights/?dimension=channel&{year}",
        "dashboard: per partner, a year": f"/insights/?dimension=partner&{year}",
        "dashboard: one team's trend, a year": f"/insights/?dimension=team&key={made['team']}&{year}",
        "CSV: segments per person, a year": f"/insights/?dimension=person&{year}&format=csv&table=segments",
        "cases behind one team": f"/insights/cases/?dimension=team&key={made['team']}",
        "API: segments per team, a year": f"/api/v1/insights/segments?dimension=team&{year}",
    }
    results["pages"] = {}
    for name, path in pages.items():
        runner: Callable[[], tuple[float, int]]
        if path.startswith("/api/"):
            from caseloop.identity.actions import create_token

            token = create_token(user=manager, name="bench").plain

            def call_api(path: str = path, token: str = token) -> tuple[float, int]:
                from django.test import Client

                client = Client()
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    response = client.get(path, headers={"Authorization": f"Bearer {token}"})
                    elapsed = (time.perf_counter() - started) * 1000
                if response.status_code != 200:
                    raise SystemExit(f"{path} answered {response.status_code}: {response.content[:300]!r}")
                return elapsed, len(queries)

            runner = call_api
        else:

            def call_page(path: str = path) -> tuple[float, int]:
                return call(path)

            runner = call_page
        for _ in range(3):  # warm-up: the first requests fill the database's page cache
            runner()
        timings = [runner() for _ in range(requests)]
        ms = [t for t, _ in timings]
        results["pages"][name] = {"p50_ms": round(statistics.median(ms), 1), "p99_ms": round(_percentile(ms, 0.99), 1),
                                  "max_ms": round(max(ms), 1), "queries": timings[-1][1],
                                  "meets_target": max(ms) < TARGET_MS}  # fmt: skip
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--answers", type=int, default=300_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--postgres", help="a PostgreSQL server URL; the bench creates and drops its own database")
    args = parser.parse_args(argv)
    folder = _setup(args.postgres)
    try:
        results = _measure(cases=args.cases, answers=args.answers, requests=args.requests, seed=args.seed)
    finally:
        _teardown(args.postgres, folder)
    print(f"{results['database']}: {results['cases']:,} cases ({results['solved']:,} solved), {results['answers']:,} "
          f"survey answers, {results['orders']:,} orders; {results['cpus']} CPUs")  # fmt: skip
    print(f"generated in {results['generate_s']} s; full rebuild {results['full_rebuild_s']} s "
          f"({results['facts']:,} facts, {results['daily_rows']:,} daily rows); incremental refresh "
          f"{results['incremental_refresh_s']} s ({results['incremental_facts']:,} facts)")  # fmt: skip
    print(f"{'request':40} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'queries':>8}  target < {TARGET_MS:.0f} ms")
    for name, row in results["pages"].items():
        verdict = "ok" if row["meets_target"] else "MISSED"
        print(f"{name:40} {row['p50_ms']:8.1f} {row['p99_ms']:8.1f} {row['max_ms']:8.1f} {row['queries']:8}  {verdict}")
    print(json.dumps(results))
    return 0 if all(r["meets_target"] for r in results["pages"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
