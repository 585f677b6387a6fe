"""Server-side render time of the workspace's hot pages: the inbox and the case page.

    python -m bench.web_render --data bench/data/sqlite-100000/seed [--requests 300]
    CASELOOP_DATABASE_URL=postgres://… python -m bench.web_render [--requests 300]

For SQLite the seeded data folder is copied first (the copy is migrated, the
seed is never touched). Each request goes through Django's URL resolver and the
view as a signed-in agent (RequestFactory: no network, no session writes), so
the numbers are the view's own queries plus template rendering. The agent is
the person with the most open cases, in the team with the most open cases.
Target: p99 under 100 ms for each page.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

TARGET_P99_MS = 100.0


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def _prepare(data: Path | None) -> Path | None:
    if data is None or os.environ.get("CASELOOP_DATABASE_URL"):
        return None
    copy = Path(tempfile.mkdtemp(prefix="caseloop-web-bench-")) / "data"
    shutil.copytree(data, copy)
    os.environ["CASELOOP_DATA_DIR"] = str(copy)
    return copy


def _measure(requests: int, seed: int) -> dict[str, Any]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseloop.config.settings")
    import django

    django.setup()
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command
    from django.db.models import Count, Max, Min
    from django.test import RequestFactory
    from django.urls import resolve

    from caseloop.cases.choices import OPEN_STATUSES
    from caseloop.cases.models import Case
    from caseloop.identity.models import User

    call_command("migrate", verbosity=0)
    busiest = (
        Case.objects.filter(status__in=list(OPEN_STATUSES), assignee__isnull=False)
        .values("assignee_id").annotate(n=Count("id")).order_by("-n").first()
    )  # fmt: skip
    if busiest is None:
        raise SystemExit("No assigned open case in this database: seed it with `caseloop demo` first.")
    user = User.objects.get(pk=busiest["assignee_id"])
    bounds = Case.objects.aggregate(low=Min("id"), high=Max("id"))
    total = Case.objects.count()
    rng = random.Random(seed)
    case_ids: list[int] = []
    while len(case_ids) < 50:
        probe = Case.objects.filter(id__gte=rng.randint(bounds["low"], bounds["high"])).order_by("id").first()
        if probe is not None:
            case_ids.append(probe.pk)
    factory = RequestFactory()

    def call(path: str) -> float:
        request = factory.get(path)
        request.user = user
        request.session = SessionStore()
        request._messages = FallbackStorage(request)  # type: ignore[attr-defined]  # what MessageMiddleware sets
        match = resolve(request.path_info)
        started = time.perf_counter()
        response = match.func(request, *match.args, **match.kwargs)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}")
        return elapsed

    pages: dict[str, Callable[[int], str]] = {
        "inbox: mine": lambda i: "/inbox/?view=mine",
        "inbox: my team": lambda i: "/inbox/?view=team",
        "inbox: all open": lambda i: "/inbox/?view=open",
        "inbox: all open by last update": lambda i: "/inbox/?view=open&sort=updated",
        "case page": lambda i: f"/cases/{case_ids[i % len(case_ids)]}/",
    }
    results: dict[str, Any] = {"cases": total, "agent": user.username, "requests_per_page": requests, "pages": {}}
    for name, path_for in pages.items():
        for i in range(5):  # warm the caches the first requests would pay for
            call(path_for(i))
        timings = [call(path_for(i)) for i in range(requests)]
        p99 = _percentile(timings, 0.99)
        results["pages"][name] = {
            "p50_ms": round(statistics.median(timings), 2),
            "p99_ms": round(p99, 2),
            "max_ms": round(max(timings), 2),
            "meets_target": p99 < TARGET_P99_MS,
        }
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, help="a seeded SQLite data folder (copied, never changed)")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if args.data is None and not os.environ.get("CASELOOP_DATABASE_URL"):
        parser.error("give --data for SQLite, or set CASELOOP_DATABASE_URL")
    copy = _prepare(args.data)
    try:
        results = _measure(args.requests, args.seed)
    finally:
        if copy is not None:
            shutil.rmtree(copy.parent, ignore_errors=True)
    print(f"{results['cases']:,} cases, as {results['agent']}, {results['requests_per_page']} requests per page")
    print(f"{'page':34} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}  target p99 < {TARGET_P99_MS:.0f} ms")
    for name, row in results["pages"].items():
        verdict = "ok" if row["meets_target"] else "MISSED"
        print(f"{name:34} {row['p50_ms']:8.2f} {row['p99_ms']:8.2f} {row['max_ms']:8.2f}  {verdict}")
    print(json.dumps(results))
    return 0 if all(r["meets_target"] for r in results["pages"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
