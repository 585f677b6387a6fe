"""The promise checker: one set-based pass over the live promises.

A pass, at one moment `now`, does four things, each as batched
`UPDATE … WHERE <state and due-time range> … RETURNING` statements, so its
cost follows the number of promises that change, not the number owed:

1. kinds kept by reaching their due time (a quoted price held) become kept;
2. every other live promise past its due time (strictly: one due at `now`
   can still be kept) becomes broken: its owner gets a notice, the owner's
   manager one notice per pass with the count, the case and customer
   timelines say so, and the customer is queued an honest message
   (`send_apologies`);
3. open promises due within CASELOOP_PROMISE_AT_RISK_MINUTES become at risk
   (the owner gets a notice);
4. open promises due within CASELOOP_PROMISE_REMIND_MINUTES remind their owner
   once.

Each batch is its own short transaction: on SQLite a write holds the one write
lock, and a long pass must not stall the people working. A promise leaves the
range it was found in as it changes (its state or `reminded_at` is part of the
index scanned), so every batch finds fresh rows without an ORDER BY; the
state condition is repeated outside the sub-select so that two checkers
running at once never change (or notify about) one promise twice.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Field, Model

from caseloop.core import clock
from caseloop.customers.models import Organization
from caseloop.identity.choices import Role
from caseloop.identity.models import Membership, Team, User
from caseloop.promises.choices import LIVE_STATES, NoticeKind, PromiseState
from caseloop.promises.kinds import kinds_kept_when_due, kinds_with_apology
from caseloop.promises.models import Notice, Promise
from caseloop.timeline.choices import SubjectKind
from caseloop.timeline.models import TimelineEvent

# the columns each step reads back from the rows it changed
_RETURNED = (
    "id",
    "case_id",
    "contact_id",
    "owner_user_id",
    "owner_team_id",
    "owner_partner_id",
    "description",
    "due_at",
)


@dataclass(slots=True)
class CheckResult:
    kept: int = 0
    broken: int = 0
    at_risk: int = 0
    reminded: int = 0
    notices: int = 0
    batches: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "kept": self.kept,
            "broken": self.broken,
            "at_risk": self.at_risk,
            "reminded": self.reminded,
            "notices": self.notices,
        }


@dataclass(slots=True)
class _People:
    """Who is told about whose promises, read once per pass (teams and leads are a small table)."""

    leads_of_team: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    teams_of_user: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    managers: list[int] = field(default_factory=list)
    _managers: dict[tuple[int | None, int | None], list[int]] = field(default_factory=dict)

    @classmethod
    def load(cls) -> _People:
        people = cls()
        for team_id, user_id, is_lead in Membership.objects.values_list("team_id", "user_id", "is_lead"):
            people.teams_of_user[user_id].append(team_id)
            if is_lead:
                people.leads_of_team[team_id].append(user_id)
        people.managers = list(User.objects.filter(role=Role.MANAGER, is_active=True).values_list("id", flat=True))
        return people

    def owners(self, row: dict[str, Any]) -> list[int]:
        """The person who keeps it, else the leads of the team that does, else the managers (a partner's)."""
        if row["owner_user_id"] is not None:
            return [row["owner_user_id"]]
        if row["owner_team_id"] is not None and (leads := self.leads_of_team.get(row["owner_team_id"])):
            return list(leads)
        return list(self.managers)

    def managers_of(self, row: dict[str, Any]) -> list[int]:
        """The owner's manager: the leads of the owner's teams (not the owner), else every service manager."""
        key = (row["owner_user_id"], row["owner_team_id"])
        if (known := self._managers.get(key)) is not None:
            return known
        user_id = row["owner_user_id"]
        team_ids = self.teams_of_user.get(user_id, []) if user_id is not None else []
        if row["owner_team_id"] is not None:
            team_ids = [*team_ids, row["owner_team_id"]]
        leads = [lead for team_id in team_ids for lead in self.leads_of_team.get(team_id, []) if lead != user_id]
        found = list(dict.fromkeys(leads)) or [m for m in self.managers if m != user_id]
        self._managers[key] = found
        return found


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _field_column(model: type[Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, Field) and field.column is not None
    return _q(field.column)


def _column(name: str) -> str:
    return _field_column(Promise, name)


def _dt(value: dt.datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def _in_list(values: Sequence[str]) -> tuple[str, list[str]]:
    return ", ".join(["%s"] * len(values)), list(values)


def _claim(
    *,
    assignments: str,
    assignment_params: list[Any],
    where: str,
    where_params: list[Any],
    after: tuple[Any, int] | None,
    batch: int,
) -> list[dict[str, Any]]:
    """Change up to `batch` rows matching `where` after the keyset `after`, returning `_RETURNED` of each.

    The sub-select walks the (state, due_at, id) index in order from where the
    last batch ended, so it never revisits entries of rows already changed
    (on PostgreSQL those stay in the index until vacuum, and a scan from the
    start would pass over all of them again each batch).
    """
    table = _q(Promise._meta.db_table)
    returned = ", ".join(_q(c) for c in _RETURNED)
    due, ident = _column("due_at"), _q("id")
    keyset = f" AND ({due}, {ident}) > (%s, %s)" if after is not None else ""
    sql = (
        f"UPDATE {table} SET {assignments} WHERE {ident} IN "  # noqa: S608  (names from _meta, values bound)
        f"(SELECT {ident} FROM {table} WHERE {where}{keyset} ORDER BY {due}, {ident} LIMIT %s) "
        f"AND {where} RETURNING {returned}"
    )
    params = [*assignment_params, *where_params, *(after or ()), batch, *where_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [dict(zip(_RETURNED, row, strict=True)) for row in cursor.fetchall()]


def _insert_notices(rows: Sequence[tuple[int, str, str, int | None, int | None, Any]]) -> None:
    """(recipient, kind, summary, case_id, promise_id, created_at) rows in one executemany."""
    if not rows:
        return
    table = _q(Notice._meta.db_table)
    columns = ", ".join(_q(c) for c in ("recipient_id", "kind", "summary", "case_id", "promise_id", "created_at"))
    sql = f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s, %s)"  # noqa: S608  (names from _meta)
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _insert_timeline(kind: str, rows: list[dict[str, Any]], when: dt.datetime, summary_prefix: str) -> None:
    """The case and customer timeline rows of these promises, in one INSERT … SELECT.

    Written here rather than through `timeline.actions.record_event` (a call
    per happening) because a pass may write a million of them. The database
    makes each happening's id (shared by its two rows) and its summary from
    the promise rows themselves; only the list of ids travels, as one value.
    """
    if not rows:
        return
    events, promises = _q(TimelineEvent._meta.db_table), _q(Promise._meta.db_table)
    names = ("event_id", "subject_kind", "subject_id", "kind", "occurred_at", "actor_id", "case_id", "summary", "data")
    columns = ", ".join(_field_column(TimelineEvent, n) for n in names)
    ids = [int(row["id"]) for row in rows]
    param: Any
    if connection.vendor == "sqlite":
        new_id, picked, param = (
            "lower(hex(randomblob(16)))",
            "p.id IN (SELECT value FROM json_each(%s))",
            json.dumps(ids),
        )
        data = "'{\"promise\": ' || p.id || '}'"
    else:
        new_id, picked, param = "gen_random_uuid()", "p.id = ANY(%s::bigint[])", ids
        data = "jsonb_build_object('promise', p.id)"
    sql = (
        f"WITH happened AS MATERIALIZED (SELECT p.id, p.case_id, p.contact_id, {new_id} AS event_id, "  # noqa: S608
        f"substr(%s || p.description, 1, 300) AS summary, {data} AS data FROM {promises} p WHERE {picked}) "
        f"INSERT INTO {events} ({columns}) "
        f"SELECT event_id, %s, case_id, %s, %s, CAST(NULL AS bigint), case_id, summary, data FROM happened "
        f"UNION ALL SELECT event_id, %s, contact_id, %s, %s, CAST(NULL AS bigint), case_id, summary, data FROM happened"
    )
    at = _dt(when)
    with connection.cursor() as cursor:
        cursor.execute(sql, [f"{summary_prefix}: ", param, SubjectKind.CASE, kind, at, SubjectKind.CONTACT, kind, at])


def _insert_digests(digest: dict[int, dict[tuple[int | None, int | None, int | None], list[int]]], created: Any) -> int:
    """One notice per manager: how many promises of whose broke in this pass (the case when it is one)."""
    if not digest:
        return 0
    owners = {key for per_manager in digest.values() for key in per_manager}
    names = {u.pk: u.name for u in User.objects.filter(pk__in={k[0] for k in owners if k[0]})}
    teams = dict(Team.objects.filter(pk__in={k[1] for k in owners if k[1]}).values_list("id", "name"))
    partners = dict(Organization.objects.filter(pk__in={k[2] for k in owners if k[2]}).values_list("id", "name"))

    def label(key: tuple[int | None, int | None, int | None]) -> str:
        user, team, partner = key
        return names.get(user or 0) or teams.get(team or 0) or partners.get(partner or 0) or "?"

    rows = []
    for manager, per_owner in digest.items():
        total = sum(count for count, _ in per_owner.values())
        ranked = sorted(per_owner.items(), key=lambda kv: -kv[1][0])
        who = ", ".join(f"{label(key)} {count}" for key, (count, _) in ranked[:5])
        text = f"1 promise broken ({who})" if total == 1 else f"{total} promises broken ({who})"
        case_id = ranked[0][1][1] if total == 1 else None
        rows.append((manager, NoticeKind.BROKEN, text[:300], case_id, None, created))
    _insert_notices(rows)
    return len(rows)


def _step(
    *,
    result: CheckResult,
    batch: int,
    assignments: str,
    assignment_params: list[Any],
    where: str,
    where_params: list[Any],
    on_rows: Any,
) -> int:
    changed = 0
    after: tuple[Any, int] | None = None
    while True:
        with transaction.atomic():
            rows = _claim(
                assignments=assignments,
                assignment_params=assignment_params,
                where=where,
                where_params=where_params,
                after=after,
                batch=batch,
            )
            if rows:
                on_rows(rows)
        result.batches += 1
        changed += len(rows)
        if len(rows) < batch:
            return changed
        last = max(rows, key=lambda row: (row["due_at"], row["id"]))
        after = (last["due_at"], last["id"])


def check_promises(*, now: dt.datetime | None = None, batch: int | None = None) -> CheckResult:
    """One pass of the checker at `now` (default: the clock); idempotent, safe to run concurrently."""
    return _check(now=now or clock.now(), size=batch or int(getattr(settings, "CASELOOP_PROMISE_CHECK_BATCH", 5000)))


def _check(*, now: dt.datetime, size: int) -> CheckResult:
    at_risk_until = now + dt.timedelta(minutes=int(getattr(settings, "CASELOOP_PROMISE_AT_RISK_MINUTES", 10)))
    remind_until = now + dt.timedelta(minutes=int(getattr(settings, "CASELOOP_PROMISE_REMIND_MINUTES", 30)))
    result = CheckResult()
    people = _People.load()
    state, due, at_now = _column("state"), _column("due_at"), _dt(now)
    held_marks, held_kinds = _in_list(kinds_kept_when_due())
    apology_marks, apology_kinds = _in_list(kinds_with_apology())
    kind = _column("kind")
    created = _dt(now)

    # The owner's manager is told once per pass, with the counts; an owner is told of each promise up to
    # CASELOOP_PROMISE_NOTICES_PER_PASS of a kind, then once with the rest (after an outage a notice per
    # promise would bury them, and cost a row each).
    digest: dict[int, dict[tuple[int | None, int | None, int | None], list[int]]] = defaultdict(dict)
    limit = int(getattr(settings, "CASELOOP_PROMISE_NOTICES_PER_PASS", 20))
    told: dict[tuple[int, str], int] = defaultdict(int)

    def notices_for(rows: list[dict[str, Any]], notice: NoticeKind, text: str, *, managers: bool) -> None:
        out = []
        for row in rows:
            owners = people.owners(row)
            summary = f"{text}: {row['description']}"[:300]
            for recipient in owners:
                told[(recipient, notice)] += 1
                if told[(recipient, notice)] <= limit:
                    out.append((recipient, notice, summary, row["case_id"], row["id"], created))
            if managers:
                owner = (row["owner_user_id"], row["owner_team_id"], row["owner_partner_id"])
                for manager in people.managers_of(row):
                    if manager not in owners:
                        counted = digest[manager].setdefault(owner, [0, row["case_id"]])
                        counted[0] += 1
        _insert_notices(out)
        result.notices += len(out)

    def rest_of(notice: NoticeKind, text: str) -> None:
        rows = [
            (recipient, notice, f"…and {n - limit} more {text}; see My promises", None, None, created)
            for (recipient, kind), n in told.items()
            if kind == notice and n > limit
        ]
        _insert_notices(rows)
        result.notices += len(rows)

    # 1. held until due: kept
    def kept(rows: list[dict[str, Any]]) -> None:
        _insert_timeline("promise.kept", rows, now, "Promise kept")

    # each live state has its own partial index, walked in (due_at, id) order; the states are written as
    # literals (constants of this module) so that SQLite's planner can match the indexes' conditions
    for live_state in LIVE_STATES:
        result.kept += _step(
            result=result,
            batch=size,
            assignments=f"{state} = %s, {_column('kept_at')} = {due}, {_column('kept_by')} = %s",
            assignment_params=[PromiseState.KEPT, "due"],
            where=f"{state} = '{live_state}' AND {due} <= %s AND {kind} IN ({held_marks})",
            where_params=[at_now, *held_kinds],
            on_rows=kept,
        )

    # 2. past due: broken
    def broken(rows: list[dict[str, Any]]) -> None:
        notices_for(rows, NoticeKind.BROKEN, "Promise broken", managers=True)
        _insert_timeline("promise.broken", rows, now, "Promise broken")

    for live_state in LIVE_STATES:
        result.broken += _step(
            result=result,
            batch=size,
            assignments=(
                f"{state} = %s, {_column('broken_at')} = %s, "
                f"{_column('apology_pending')} = ({kind} IN ({apology_marks}))"
            ),
            assignment_params=[PromiseState.BROKEN, at_now, *apology_kinds],
            # strictly past due: "by 10:00" is still kept at 10:00 (keep_promises counts an event at the due
            # time), so a pass at that moment must not break it first
            where=f"{state} = '{live_state}' AND {due} < %s AND {kind} NOT IN ({held_marks})",
            where_params=[at_now, *held_kinds],
            on_rows=broken,
        )

    rest_of(NoticeKind.BROKEN, "of your promises broke")
    result.notices += _insert_digests(digest, created)

    # 3. due very soon, still open: at risk
    def at_risk(rows: list[dict[str, Any]]) -> None:
        notices_for(rows, NoticeKind.AT_RISK, "Promise at risk", managers=False)

    result.at_risk = _step(
        result=result,
        batch=size,
        assignments=f"{state} = %s, {_column('at_risk_at')} = %s",
        assignment_params=[PromiseState.AT_RISK, at_now],
        where=f"{state} = '{PromiseState.OPEN}' AND {due} <= %s AND {kind} NOT IN ({held_marks})",
        where_params=[_dt(at_risk_until), *held_kinds],
        on_rows=at_risk,
    )
    rest_of(NoticeKind.AT_RISK, "of your promises are at risk")

    # 4. due soon: remind the owner once
    def reminded(rows: list[dict[str, Any]]) -> None:
        notices_for(rows, NoticeKind.REMINDER, "Promise due soon", managers=False)

    reminded_at = _column("reminded_at")
    result.reminded = _step(
        result=result,
        batch=size,
        assignments=f"{reminded_at} = %s",
        assignment_params=[at_now],
        where=(
            f"{state} = '{PromiseState.OPEN}' AND {reminded_at} IS NULL AND {due} <= %s "
            f"AND {kind} NOT IN ({held_marks})"
        ),
        where_params=[_dt(remind_until), *held_kinds],
        on_rows=reminded,
    )
    rest_of(NoticeKind.REMINDER, "of your promises are due soon")
    return result


def describe(result: CheckResult) -> str:
    return json.dumps(result.as_dict())
