"""Background work of insights: the refresh, which queues the next one itself where the backend can defer.

Where it cannot (the in-process backends), run `manage.py insights_refresh`
from cron every few minutes instead; the dashboard says how fresh it is.
"""

from __future__ import annotations

import datetime as dt

from django_tasks import task


@task()
def refresh() -> dict[str, int | bool]:
    from caseloop.insights.actions import refresh_insights, schedule_next_refresh

    result = refresh_insights()
    schedule_next_refresh()
    return {"facts": result.facts, "days": result.days, "ms": result.duration_ms, "skipped": result.skipped}


def enqueue_refresh(when: dt.datetime | None) -> None:
    if when is None or not refresh.get_backend().supports_defer:
        refresh.enqueue()
    else:
        refresh.using(run_after=when).enqueue()
