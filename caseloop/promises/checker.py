"""The promise checker: one set-based pass over the live promises.

A pass, at one moment `now`, does four things, each as batched
`UPDATE … WHERE <state and due-time range> … RETURNING` statements, so its
cost follows the number of promises that change, not the number owed:

1. kinds kept by reaching their due time (a quoted price held) become kept;
2. every other live promise past its due time becomes broken: the owner and
   the owner's manager get a notice, the case and customer timelines say so,
   and the customer is queued an honest message (`send_apologies`);
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
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Field, Model

from caseloop.core import clock
from caseloop.identity.choices import Role
from caseloop.identity.models import Membership, User
from caseloop.promises.choices import NoticeKind, PromiseState
from caseloop.promises.kinds import kinds_kept_when_due, kinds_with_apology
from caseloop.promises.models import Notice, Promise
from caseloop.timeline.choices import SubjectKind
from caseloop.timeline.models import TimelineEvent

# the columns each step reads back from the rows it changed
_RETURNED = ("id", "case_id", "contact_id", "owner_user_id", "owner_team_id", "owner_partner_id", "description")


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
        user_id = row["owner_user_id"]
        team_ids = self.teams_of_user.get(user_id, []) if user_id is not None else []
        if row["owner_team_id"] is not None:
            team_ids = [*team_ids, row["owner_team_id"]]
        leads = [lead for team_id in team_ids for lead in self.leads_of_team.get(team_id, []) if lead != user_id]
        return list(dict.fromkeys(leads)) or [m for m in self.managers if m != user_id]


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
    *, assignments: str, assignment_params: list[Any], where: str, where_params: list[Any], batch: int
) -> list[dict[str, Any]]:
    """Change up to `batch` rows matching `where` and return what `_RETURNED` names of each."""
    table = _q(Promise._meta.db_table)
    returned = ", ".join(_q(c) for c in _RETURNED)
    sql = (
        f"UPDATE {table} SET {assignments} WHERE {_q('id')} IN "  # noqa: S608  (names from _meta, values bound)
        f"(SELECT {_q('id')} FROM {table} WHERE {where} LIMIT %s) AND {where} RETURNING {returned}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*assignment_params, *where_params, batch, *where_params])
        return [dict(zip(_RETURNED, row, strict=True)) for row in cursor.fetchall()]


def _insert_notices(rows: Sequence[tuple[int, str, str, int, int, Any]]) -> None:
    """(recipient, kind, summary, case_id, promise_id, created_at) rows in one executemany."""
    if not rows:
        return
    table = _q(Notice._meta.db_table)
    columns = ", ".join(_q(c) for c in ("recipient_id", "kind", "summary", "case_id", "promise_id", "created_at"))
    sql = f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s, %s)"  # noqa: S608  (names from _meta)
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _insert_timeline(kind: str, rows: list[dict[str, Any]], when: dt.datetime, summary_prefix: str) -> None:
    """The case and customer timeline rows of these promises (the checker writes thousands per batch at most)."""
    if not rows:
        return
    table = _q(TimelineEvent._meta.db_table)
    names = ("event_id", "subject_kind", "subject_id", "kind", "occurred_at", "actor_id", "case_id", "summary", "data")
    columns = ", ".join(_field_column(TimelineEvent, n) for n in names)
    sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(names))})"  # noqa: S608  (from _meta)
    at = _dt(when)
    sqlite = connection.vendor == "sqlite"
    values = []
    for row in rows:
        event_id = uuid.uuid4()
        event = event_id.hex if sqlite else event_id
        data = connection.ops.adapt_json_value({"promise": row["id"]}, DjangoJSONEncoder)
        summary = f"{summary_prefix}: {row['description']}"[:300]
        values.append((event, SubjectKind.CASE, row["case_id"], kind, at, None, row["case_id"], summary, data))
        values.append((event, SubjectKind.CONTACT, row["contact_id"], kind, at, None, row["case_id"], summary, data))
    with connection.cursor() as cursor:
        cursor.executemany(sql, values)


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
    while True:
        with transaction.atomic():
            rows = _claim(
                assignments=assignments,
                assignment_params=assignment_params,
                where=where,
                where_params=where_params,
                batch=batch,
            )
            if rows:
                on_rows(rows)
        result.batches += 1
        changed += len(rows)
        if len(rows) < batch:
            return changed


def check_promises(*, now: dt.datetime | None = None, batch: int | None = None) -> CheckResult:
    """One pass of the checker at `now` (default: the clock); idempotent, safe to run concurrently."""
    now = now or clock.now()
    size = batch or int(getattr(settings, "CASELOOP_PROMISE_CHECK_BATCH", 5000))
    at_risk_until = now + dt.timedelta(minutes=int(getattr(settings, "CASELOOP_PROMISE_AT_RISK_MINUTES", 10)))
    remind_until = now + dt.timedelta(minutes=int(getattr(settings, "CASELOOP_PROMISE_REMIND_MINUTES", 30)))
    result = CheckResult()
    people = _People.load()
    state, due, at_now = _column("state"), _column("due_at"), _dt(now)
    live = f"{state} IN (%s, %s)"
    live_params: list[Any] = [PromiseState.OPEN, PromiseState.AT_RISK]
    held_marks, held_kinds = _in_list(kinds_kept_when_due())
    apology_marks, apology_kinds = _in_list(kinds_with_apology())
    kind = _column("kind")
    created = _dt(now)

    def notices_for(rows: list[dict[str, Any]], notice: NoticeKind, text: str, *, managers: bool) -> None:
        out = []
        for row in rows:
            recipients = people.owners(row) + (people.managers_of(row) if managers else [])
            summary = f"{text}: {row['description']}"[:300]
            out += [(r, notice, summary, row["case_id"], row["id"], created) for r in dict.fromkeys(recipients)]
        _insert_notices(out)
        result.notices += len(out)

    # 1. held until due: kept
    def kept(rows: list[dict[str, Any]]) -> None:
        _insert_timeline("promise.kept", rows, now, "Promise kept")

    result.kept = _step(
        result=result,
        batch=size,
        assignments=f"{state} = %s, {_column('kept_at')} = {due}, {_column('kept_by')} = %s",
        assignment_params=[PromiseState.KEPT, "due"],
        where=f"{live} AND {due} <= %s AND {kind} IN ({held_marks})",
        where_params=[*live_params, at_now, *held_kinds],
        on_rows=kept,
    )

    # 2. past due: broken
    def broken(rows: list[dict[str, Any]]) -> None:
        notices_for(rows, NoticeKind.BROKEN, "Promise broken", managers=True)
        _insert_timeline("promise.broken", rows, now, "Promise broken")

    result.broken = _step(
        result=result,
        batch=size,
        assignments=(
            f"{state} = %s, {_column('broken_at')} = %s, {_column('apology_pending')} = ({kind} IN ({apology_marks}))"
        ),
        assignment_params=[PromiseState.BROKEN, at_now, *apology_kinds],
        where=f"{live} AND {due} <= %s AND {kind} NOT IN ({held_marks})",
        where_params=[*live_params, at_now, *held_kinds],
        on_rows=broken,
    )

    # 3. due very soon, still open: at risk
    def at_risk(rows: list[dict[str, Any]]) -> None:
        notices_for(rows, NoticeKind.AT_RISK, "Promise at risk", managers=False)

    result.at_risk = _step(
        result=result,
        batch=size,
        assignments=f"{state} = %s, {_column('at_risk_at')} = %s",
        assignment_params=[PromiseState.AT_RISK, at_now],
        where=f"{state} = %s AND {due} <= %s AND {kind} NOT IN ({held_marks})",
        where_params=[PromiseState.OPEN, _dt(at_risk_until), *held_kinds],
        on_rows=at_risk,
    )

    # 4. due soon: remind the owner once
    def reminded(rows: list[dict[str, Any]]) -> None:
        notices_for(rows, NoticeKind.REMINDER, "Promise due soon", managers=False)

    reminded_at = _column("reminded_at")
    result.reminded = _step(
        result=result,
        batch=size,
        assignments=f"{reminded_at} = %s",
        assignment_params=[at_now],
        where=(f"{state} = %s AND {reminded_at} IS NULL AND {due} <= %s AND {kind} NOT IN ({held_marks})"),
        where_params=[PromiseState.OPEN, _dt(remind_until), *held_kinds],
        on_rows=reminded,
    )
    return result


def describe(result: CheckResult) -> str:
    return json.dumps(result.as_dict())
