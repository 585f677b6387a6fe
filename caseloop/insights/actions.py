"""Refreshing the precomputed figures: incrementally every few minutes, or rebuilt from scratch.

Incremental: the facts of every case touched since the last refresh are
computed again — cases updated since (a solve, a reopen, a reassignment), cases
whose survey answer changed, cases of customers who opened a new case (a
repeat contact), bought something or were merged since — and the days those facts belong
to are summed again, with the days whose 7/30/90/180-day windows closed since.
Watermarks overlap by five minutes so a transaction still open at the last
refresh is not missed. A full rebuild (`manage.py insights_refresh --full`)
recomputes everything, a batch at a time, and also picks up what no
watermark sees (an order cancelled after import). See ADR 0045.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from caseloop.cases.models import Case
from caseloop.core import clock
from caseloop.core.events import on_commit
from caseloop.customers.models import Contact, Order
from caseloop.feedback.models import SurveyAnswer
from caseloop.identity.choices import Role
from caseloop.identity.models import User
from caseloop.identity.selectors import require_role
from caseloop.insights import tasks
from caseloop.insights.counting import COUNTERS, REPEAT_DAYS, RETENTION_DAYS, DailySums
from caseloop.insights.facts import (
    FACT_COLUMNS,
    FACT_FIELDS,
    TagNames,
    case_type_field,
    compute_facts,
    fact_of,
    survivors_of,
)
from caseloop.insights.models import CaseFact, DailySegmentStat, RefreshState
from caseloop.insights.process import settled_since
from caseloop.insights.rows import insert_rows

OVERLAP = dt.timedelta(minutes=5)
STALE_LEASE = dt.timedelta(hours=1)
BATCH = 2000
DAYS_PER_PASS = 31
LONGEST_WINDOW = dt.timedelta(days=max(RETENTION_DAYS))


@dataclass(frozen=True, slots=True)
class RefreshResult:
    full: bool
    facts: int  # fact rows written
    removed: int  # fact rows removed (cases no longer solved)
    days: int  # days summed again
    duration_ms: int
    skipped: bool = False  # another refresh was running


def _state() -> RefreshState:
    state, _ = RefreshState.objects.get_or_create(pk=1)
    return state


def _take_lease(now: dt.datetime) -> bool:
    """One refresh at a time across every worker: a conditional update is the lock."""
    _state()
    free = Q(running_since__isnull=True) | Q(running_since__lt=now - STALE_LEASE)
    return RefreshState.objects.filter(free, pk=1).update(running_since=now) == 1


def refresh_insights(*, full: bool = False) -> RefreshResult:
    """Bring the facts and daily sums up to date; the first refresh is a full one."""
    started = clock.now()
    tick = time.perf_counter()
    if not _take_lease(started):
        return RefreshResult(full=full, facts=0, removed=0, days=0, duration_ms=0, skipped=True)
    try:
        state = _state()
        full = full or state.refreshed_at is None
        if full:
            written, removed, days, order_mark = _rebuild(started)
        else:
            written, removed, days, order_mark = _incremental(state, started)
        duration = round((time.perf_counter() - tick) * 1000)
        RefreshState.objects.filter(pk=1).update(
            refreshed_at=started, case_watermark=started, answer_watermark=started, order_watermark=order_mark,
            last_duration_ms=duration, last_cases=written, running_since=None,
            **({"last_full_at": started} if full else {}),
        )  # fmt: skip
    except BaseException:
        RefreshState.objects.filter(pk=1).update(running_since=None)
        raise
    return RefreshResult(full=full, facts=written, removed=removed, days=days, duration_ms=duration)


def _write_facts(case_ids: Sequence[int], *, tags: TagNames, type_field: str | None, now: dt.datetime,
                 deltas: DailySums, whole_days: set[dt.date]) -> tuple[int, int]:  # fmt: skip
    """Compute and store the facts of these cases, and note how each changed its days' sums.

    The old fact's counters are taken away and the new one's added (in
    `deltas`), except on `whole_days`, which are summed again from scratch.
    """
    old = [fact_of(row) for row in CaseFact.objects.filter(case_id__in=list(case_ids)).values_list(*FACT_FIELDS)]
    computed, _ = compute_facts(case_ids, tags=tags, type_field=type_field)
    with transaction.atomic():
        CaseFact.objects.filter(case_id__in=list(case_ids)).delete()
        insert_rows(CaseFact, FACT_COLUMNS, (c.row(now) for c in computed))
    for day, fact in old:
        if day not in whole_days:
            deltas.add(day, fact, sign=-1)
    for c in computed:
        if c.day not in whole_days:
            deltas.add(c.day, c.fact)
    return len(computed), max(0, len(old) - len(computed))


def _touched_cases(state: RefreshState) -> set[int]:
    """Ids of the solved cases whose facts may have changed since the last refresh."""
    assert state.case_watermark is not None
    since = state.case_watermark - OVERLAP
    changed = list(Case.objects.filter(updated_at__gte=since).values_list("id", "requester_id", "created_at"))
    touched = {case_id for case_id, _, _ in changed}
    # a new case may be a repeat contact about a case solved in the 7 days before it
    opened = [(requester, created) for _, requester, created in changed if created >= since]
    if opened:
        survivors = survivors_of(r for r, _ in opened)
        customers = set(survivors.values())
        earliest = min(c for _, c in opened) - dt.timedelta(days=REPEAT_DAYS)
        touched |= set(CaseFact.objects.filter(customer_id__in=list(customers), solved_at__gte=earliest)
                       .values_list("case_id", flat=True))  # fmt: skip
    touched |= settled_since(since)
    # contacts merged since: their cases and orders are now the survivor's (one customer for repeats and
    # retention); few rows, found through the merged_into index
    merged = list(Contact.objects.filter(merged_into__isnull=False, updated_at__gte=since).values_list("id", flat=True))
    if merged:
        customers = set(merged) | set(survivors_of(merged).values())
        touched |= set(CaseFact.objects.filter(customer_id__in=list(customers)).values_list("case_id", flat=True))
    answered_since = (state.answer_watermark or state.case_watermark) - OVERLAP
    touched |= set(SurveyAnswer.objects.filter(updated_at__gte=answered_since).values_list("survey__case_id",
                                                                                          flat=True))  # fmt: skip
    return touched


def _new_orders(state: RefreshState) -> tuple[set[int], int]:
    """Cases whose customer bought since the last refresh (their retention may change), and the new watermark."""
    new = Order.objects.filter(id__gt=state.order_watermark)
    orders = list(new.values_list("id", "contact_id", "organization_id", "ordered_at"))
    if not orders:
        return set(), state.order_watermark
    survivors = survivors_of(c for _, c, _, _ in orders if c is not None)
    contacts = set(survivors.values())
    orgs = {o for _, _, o, _ in orders if o is not None}
    earliest = min(at for _, _, _, at in orders) - LONGEST_WINDOW
    match = Q(customer_id__in=list(contacts)) | Q(organization_id__in=list(orgs))
    touched = set(CaseFact.objects.filter(match, solved_at__gte=earliest).values_list("case_id", flat=True))
    return touched, max(i for i, _, _, _ in orders)


def _closing_days(since: dt.datetime, until: dt.datetime) -> set[dt.date]:
    """Days of cases whose repeat or retention window closed between two refreshes (their _base counts change)."""
    days: set[dt.date] = set()
    for window in (REPEAT_DAYS, *RETENTION_DAYS):
        first = timezone.localtime(since - dt.timedelta(days=window)).date()
        last = timezone.localtime(until - dt.timedelta(days=window)).date()
        day = first
        while day <= last:
            days.add(day)
            day += dt.timedelta(days=1)
    return days


def _incremental(state: RefreshState, started: dt.datetime) -> tuple[int, int, int, int]:
    touched = _touched_cases(state)
    from_orders, order_mark = _new_orders(state)
    ids = sorted(touched | from_orders)
    tags, type_field = TagNames(), case_type_field()
    assert state.refreshed_at is not None
    # days whose windows closed since the last refresh change for every case: summed again whole
    whole_days = _closing_days(state.refreshed_at, started)
    deltas = DailySums(as_of=started)
    written = removed = 0
    for start in range(0, len(ids), BATCH):
        n, gone = _write_facts(ids[start : start + BATCH], tags=tags, type_field=type_field, now=started, deltas=deltas,
                               whole_days=whole_days)  # fmt: skip
        written, removed = written + n, removed + gone
    applied = apply_deltas(deltas)
    summed = aggregate_days(whole_days | applied.fallback, as_of=started)
    return written, removed, summed + len(applied.days), order_mark


def _rebuild(started: dt.datetime) -> tuple[int, int, int, int]:
    """Every fact again, batch by batch in id order (each batch its own short transaction), then every day.

    The daily sums are added up in memory as the facts are made (a year of a
    large installation is some hundred thousand segment-days) and replace the
    old ones in one transaction at the end, so the dashboard never shows half a
    rebuild of them.
    """
    order_mark = Order.objects.aggregate(top=Max("id"))["top"] or 0
    tags, type_field = TagNames(), case_type_field()
    sums = DailySums(as_of=started)
    last, written = 0, 0
    while True:
        ids = list(Case.objects.filter(id__gt=last, solved_at__isnull=False).order_by("id")
                   .values_list("id", flat=True)[:BATCH])  # fmt: skip
        if not ids:
            break
        computed, _ = compute_facts(ids, tags=tags, type_field=type_field)
        with transaction.atomic():
            CaseFact.objects.filter(case_id__gt=last, case_id__lte=ids[-1]).delete()
            insert_rows(CaseFact, FACT_COLUMNS, (c.row(started) for c in computed))
        for c in computed:
            sums.add(c.day, c.fact)
        written += len(computed)
        last = ids[-1]
    removed, _ = CaseFact.objects.filter(case_id__gt=last).delete()
    with transaction.atomic():
        DailySegmentStat.objects.all().delete()
        insert_rows(DailySegmentStat, STAT_COLUMNS, sums.rows())
    return written, removed, len({day for day, _, _ in sums.sums}), order_mark


STAT_COLUMNS = ("day", "dimension", "key", *COUNTERS)


def aggregate_days(days: Iterable[dt.date], *, as_of: dt.datetime) -> int:
    """Sum the facts of these days into DailySegmentStat again (a month of days per pass); how many days."""
    ordered = sorted(set(days))
    for start in range(0, len(ordered), DAYS_PER_PASS):
        chunk = ordered[start : start + DAYS_PER_PASS]
        wanted = set(chunk)
        rows = CaseFact.objects.filter(solved_on__gte=chunk[0], solved_on__lte=chunk[-1]).values_list(*FACT_FIELDS)
        sums = DailySums(as_of=as_of)
        for row in rows.iterator(chunk_size=5000):
            if row[0] in wanted:
                sums.add(*fact_of(row))
        with transaction.atomic():
            DailySegmentStat.objects.filter(day__in=chunk).delete()
            insert_rows(DailySegmentStat, STAT_COLUMNS, sums.rows())
    return len(ordered)


@dataclass(frozen=True, slots=True)
class Applied:
    days: set[dt.date]  # days whose sums were changed in place
    fallback: set[dt.date]  # days that must be summed again whole (a sum that would go below zero)


def apply_deltas(deltas: DailySums) -> Applied:
    """Add each segment-day's change to its stored sums: an UPDATE where the row exists, an INSERT where not.

    A change that would take a counter below zero (or remove from a row that
    is not there) means the stored sums and the facts disagree; that day is
    left to be summed again whole instead. Rows left with no case are deleted.
    """
    changed = {key: counts for key, counts in deltas.sums.items() if any(counts)}
    if not changed:
        return Applied(days=set(), fallback=set())
    days = {day for day, _, _ in changed}
    existing = {(day, dimension, key): counts for day, dimension, key, *counts in DailySegmentStat.objects.filter(
        day__in=days).values_list("day", "dimension", "key", *COUNTERS)}  # fmt: skip
    fallback: set[dt.date] = set()
    updates: list[tuple[dt.date, list[Any]]] = []
    inserts: list[tuple[Any, ...]] = []
    for (day, dimension, key), counts in changed.items():
        stored = existing.get((day, dimension, key[:64]))
        if stored is None:
            if min(counts) < 0:
                fallback.add(day)
            else:
                inserts.append((day, dimension, key[:64], *counts))
        elif any(a + b < 0 for a, b in zip(stored, counts, strict=True)):
            fallback.add(day)
        else:
            updates.append((day, [*counts, dimension, connection.ops.adapt_datefield_value(day), key[:64]]))
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(c)} = {quote(c)} + %s" for c in COUNTERS)
    sql = (f"UPDATE {quote(DailySegmentStat._meta.db_table)} SET {assignments} "  # noqa: S608  (names from _meta)
           f"WHERE {quote('dimension')} = %s AND {quote('day')} = %s AND {quote('key')} = %s")  # fmt: skip
    with transaction.atomic():
        params = [row for day, row in updates if day not in fallback]
        if params:
            with connection.cursor() as cursor:
                cursor.executemany(sql, params)
        insert_rows(DailySegmentStat, STAT_COLUMNS, [row for row in inserts if row[0] not in fallback])
        DailySegmentStat.objects.filter(day__in=days - fallback, cases=0).delete()
    return Applied(days=days - fallback, fallback=fallback)


# --- scheduling ---------------------------------------------------------------------------------------------
def refresh_interval() -> dt.timedelta:
    return dt.timedelta(minutes=settings.CASELOOP_INSIGHTS_REFRESH_MINUTES)


def schedule_next_refresh(*, at: dt.datetime | None = None) -> bool:
    """Queue the next refresh, once: a conditional update makes two workers agree on who enqueues it.

    Only where the task backend can defer; elsewhere cron runs `manage.py insights_refresh`.
    """
    if not tasks.refresh.get_backend().supports_defer:
        return False
    now = clock.now()
    when = at or now + refresh_interval()
    _state()
    free = Q(next_refresh_at__isnull=True) | Q(next_refresh_at__lte=now)
    if RefreshState.objects.filter(free, pk=1).update(next_refresh_at=when) != 1:
        return False
    on_commit(tasks.enqueue_refresh, when)
    return True


def request_refresh(*, actor: User) -> None:
    """A manager asks for fresh figures now (the page's button); the work runs as a background task."""
    require_role(actor, Role.MANAGER, Role.ADMIN)
    on_commit(tasks.enqueue_refresh, None)
