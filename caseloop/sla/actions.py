"""Every write of the SLA domain: calendars and policies, each case's clocks, and the breach checker.

The clocks follow the cases domain's events, inside the case's own transaction (sla.events): a case opened
starts its policy's first-response and resolution targets; a reply written by
a person meets the first or the running next response; a customer's message
starts a next response; pending (waiting on the customer) and solved pause
the running targets, keeping their remaining business time, and leaving
those states resumes them; closing stops everything. Automatic messages meet
nothing: an acknowledgement is not an answer.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from django.db import IntegrityError, transaction

from caseloop.cases.choices import CaseStatus, Channel, Direction, Priority
from caseloop.cases.models import Case, Message
from caseloop.core import clock, stamps
from caseloop.core.fastdb import all_rows, get_by, insert, values_by
from caseloop.customers.choices import CustomerTier
from caseloop.customers.models import Organization
from caseloop.identity.choices import Role
from caseloop.identity.models import User
from caseloop.identity.selectors import require_role
from caseloop.promises.actions import Owner, make_promise, notify
from caseloop.promises.choices import NoticeKind, PromiseKind
from caseloop.sla import engine
from caseloop.sla.errors import SlaError, SlaErrorCode
from caseloop.sla.models import BusinessCalendar, CaseSla, SlaPolicy
from caseloop.timeline.actions import record_audit, record_event
from caseloop.timeline.choices import SubjectKind as S

logger = logging.getLogger(__name__)

PAUSED_STATUSES = frozenset({CaseStatus.PENDING, CaseStatus.SOLVED})
_TARGETS = ("first_response", "next_response", "resolution")


# --- calendars and policies ---------------------------------------------------------------------------------
def _checked_calendar(*, time_zone: str, hours: Mapping[str, Sequence[str]], holidays: Sequence[str]) -> None:
    try:
        engine.calendar(zone=time_zone, hours=hours, holidays=holidays)
    except engine.CalendarError as error:
        raise SlaError(SlaErrorCode.BAD_CALENDAR, error.message, field=error.field) from error


def save_calendar(
    *,
    actor: User,
    name: str,
    time_zone: str,
    hours: Mapping[str, Sequence[str]],
    holidays: Sequence[str] = (),
    calendar: BusinessCalendar | None = None,
) -> BusinessCalendar:
    """Create a business calendar, or replace one's hours (administrators). Running clocks keep their due times."""
    require_role(actor, Role.ADMIN)
    name = " ".join(name.split())
    if not name or len(name) > 100:
        raise SlaError(SlaErrorCode.BAD_CALENDAR, "A calendar needs a name of at most 100 characters.", field="name")
    _checked_calendar(time_zone=time_zone, hours=hours, holidays=holidays)
    taken = BusinessCalendar.objects.filter(name__iexact=name)
    if calendar is not None:
        taken = taken.exclude(pk=calendar.pk)
    if taken.exists():
        raise SlaError(SlaErrorCode.NAME_TAKEN, f"A calendar named {name!r} exists.", status=409, field="name")
    values = {
        "name": name,
        "time_zone": time_zone,
        "hours": {k: list(v) for k, v in hours.items()},
        "holidays": sorted(str(h) for h in holidays),
        "updated_at": clock.now(),
    }
    with transaction.atomic():
        if calendar is None:
            calendar = BusinessCalendar.objects.create(**values)
        else:
            for key, value in values.items():
                setattr(calendar, key, value)
            calendar.save()
        record_audit(action="calendar.save", object_type="calendar", object_id=calendar.pk, actor=actor, after=values)
    return calendar


_POLICY_FIELDS = (
    "name",
    "position",
    "is_active",
    "priorities",
    "channels",
    "tiers",
    "organization",
    "calendar",
    "first_response_minutes",
    "next_response_minutes",
    "resolution_minutes",
    "warn_minutes",
    "promise_first_response",
)


def _check_policy(values: Mapping[str, Any]) -> None:
    name = values.get("name", "")
    if not name or len(name) > 100:
        raise SlaError(SlaErrorCode.BAD_POLICY, "A policy needs a name of at most 100 characters.", field="name")
    for field, allowed in (
        ("priorities", Priority.values),
        ("channels", Channel.values),
        ("tiers", CustomerTier.values),
    ):
        unknown = [v for v in values.get(field, []) if v not in allowed]
        if unknown:
            raise SlaError(
                SlaErrorCode.BAD_POLICY, f"{field}: {', '.join(unknown)} not among {', '.join(allowed)}.", field=field
            )
    targets = [values.get(f"{t}_minutes") for t in _TARGETS]
    if all(t is None for t in targets):
        raise SlaError(SlaErrorCode.BAD_POLICY, "A policy sets at least one target.", field="first_response_minutes")
    for target, minutes in zip(_TARGETS, targets, strict=True):
        if minutes is not None and not 1 <= minutes <= 60 * 24 * 365:
            raise SlaError(
                SlaErrorCode.BAD_POLICY, f"{target}_minutes is 1 to a year of minutes.", field=f"{target}_minutes"
            )


def save_policy(*, actor: User, policy: SlaPolicy | None = None, **fields: Any) -> SlaPolicy:
    """Create an SLA policy, or change the given fields of one (administrators). Applies to cases opened after."""
    require_role(actor, Role.ADMIN)
    if unknown := set(fields) - set(_POLICY_FIELDS):
        raise SlaError(SlaErrorCode.BAD_POLICY, f"Unknown fields: {', '.join(sorted(unknown))}.")
    current = (
        {f: getattr(policy, f) for f in _POLICY_FIELDS}
        if policy is not None
        else {
            "position": 100,
            "is_active": True,
            "priorities": [],
            "channels": [],
            "tiers": [],
            "organization": None,
            "calendar": None,
            "first_response_minutes": None,
            "next_response_minutes": None,
            "resolution_minutes": None,
            "warn_minutes": 30,
            "promise_first_response": True,
        }
    )
    values = {**current, **fields}
    values["name"] = " ".join(str(values.get("name", "")).split())
    _check_policy(values)
    if values.get("organization") is not None and not isinstance(values["organization"], Organization):
        raise SlaError(SlaErrorCode.BAD_POLICY, "organization must be an organization.", field="organization")
    taken = SlaPolicy.objects.filter(name__iexact=values["name"])
    if policy is not None:
        taken = taken.exclude(pk=policy.pk)
    if taken.exists():
        raise SlaError(SlaErrorCode.NAME_TAKEN, f"A policy named {values['name']!r} exists.", status=409, field="name")
    values["updated_at"] = clock.now()
    try:
        with transaction.atomic():
            if policy is None:
                policy = SlaPolicy.objects.create(**values)
            else:
                for key, value in values.items():
                    setattr(policy, key, value)
                policy.save()
            after = {k: getattr(v, "pk", v) for k, v in values.items()}
            record_audit(
                action="sla_policy.save", object_type="sla_policy", object_id=policy.pk, actor=actor, after=after
            )
    except IntegrityError as exc:
        raise SlaError(SlaErrorCode.NAME_TAKEN, f"A policy named {values['name']!r} exists.", status=409) from exc
    return policy


# --- matching and clocks ------------------------------------------------------------------------------------
def calendar_of(policy: SlaPolicy) -> engine.Calendar:
    row = policy.calendar
    if row is None:
        return engine.always_open()
    return _calendar(row.pk, row.updated_at, row.time_zone, _freeze(row.hours), tuple(row.holidays))


def _freeze(hours: Mapping[str, Sequence[str]]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple(sorted((k, tuple(v)) for k, v in hours.items()))


_cache: dict[tuple[int, dt.datetime], engine.Calendar] = {}


def _calendar(
    pk: int,
    updated_at: dt.datetime,
    zone: str,
    hours: tuple[tuple[str, tuple[str, ...]], ...],
    holidays: tuple[str, ...],
) -> engine.Calendar:
    key = (pk, updated_at)
    if key not in _cache:
        if len(_cache) > 256:
            _cache.clear()
        _cache[key] = engine.calendar(zone=zone, hours=dict(hours), holidays=holidays)
    return _cache[key]


def matching_policy(case: Case, policies: Sequence[SlaPolicy]) -> SlaPolicy | None:
    tiers: set[str] | None = None  # read only when a policy asks for a tier

    def customer_tiers() -> set[str]:
        contact = case.requester
        found = {contact.tier}
        if contact.organization_id is not None:
            row = values_by(Organization, ["tier"], id=contact.organization_id)  # one column, no model
            if row is not None:
                found.add(row[0])
        return found

    for policy in policies:
        if policy.priorities and case.priority not in policy.priorities:
            continue
        if policy.channels and case.channel not in policy.channels:
            continue
        if policy.tiers:
            tiers = customer_tiers() if tiers is None else tiers
            if tiers.isdisjoint(policy.tiers):
                continue
        if policy.organization_id is not None and policy.organization_id != case.organization_id:
            continue
        return policy
    return None


POLICY_TABLES = ("sla_slapolicy", "sla_businesscalendar")


@dataclass(frozen=True, slots=True)
class PolicyBook:
    """Every policy with its calendar attached: the active ones in matching order, and all by id."""

    active: tuple[SlaPolicy, ...]
    by_id: Mapping[int, SlaPolicy]


def _load_policy_book() -> PolicyBook:
    calendars = {c.pk: c for c in all_rows(BusinessCalendar)}
    policies = all_rows(SlaPolicy)
    for policy in policies:
        # attached now, so no later `policy.calendar` reads the database from a shared instance
        policy.calendar = calendars.get(policy.calendar_id) if policy.calendar_id is not None else None
    active = sorted((p for p in policies if p.is_active), key=lambda p: (p.position, p.pk))
    return PolicyBook(active=tuple(active), by_id=MappingProxyType({p.pk: p for p in policies}))


def policy_book() -> PolicyBook:
    """The policies as they are now.

    Read for every new case and message inside its transaction, so kept per
    process and rebuilt when either table changes (core.stamps: one indexed
    read per call, never stale across processes). The instances are shared by
    the process's threads: read-only.
    """
    return stamps.cached(POLICY_TABLES, _load_policy_book)


def active_policies() -> tuple[SlaPolicy, ...]:
    """The active policies in matching order, each with its calendar."""
    return policy_book().active


def _seconds(minutes: int | None) -> float | None:
    return None if minutes is None else minutes * 60.0


def _refresh_due(sla: CaseSla) -> None:
    running = [
        d
        for d in (
            sla.first_response_due_at if sla.first_response_at is None else None,
            sla.next_response_due_at,
            sla.resolution_due_at if sla.resolved_at is None else None,
        )
        if d is not None
    ]
    sla.due_at = min(running) if running else None
    sla.warn_at = sla.due_at - dt.timedelta(minutes=sla.policy.warn_minutes) if sla.due_at else None
    if sla.due_at is None:
        sla.warned_at = None


def start_case_sla(*, case: Case) -> CaseSla | None:
    """Give a saved case its policy's clocks (and its promised first answer); None when no policy matches.

    For cases made without the create action (the demo's bulk loader); the
    create action runs `prepare_case_sla` before its transaction instead.
    """
    writer = prepare_case_sla(case=case)
    return writer.write(case=case) if writer is not None else None


@dataclass(frozen=True, slots=True)
class _ClockWriter:
    """The clocks of a case about to be opened, worked out; `write` saves them once the case has its id."""

    sla: CaseSla
    promise: bool

    def __call__(self, *, case: Case, **_: object) -> None:
        self.write(case=case)

    def write(self, *, case: Case) -> CaseSla:
        sla = self.sla
        sla.case = case
        insert(sla)
        if self.promise and sla.first_response_due_at is not None:
            make_promise(
                actor=None,
                case=case,
                kind=PromiseKind.FIRST_RESPONSE,
                description="a first answer from a person",
                due_at=sla.first_response_due_at,
                owner=Owner(user=case.assignee, team=case.team),  # at hand: the create set them
                source=f"sla-first-response:{case.pk}",
            )
        return sla


def prepare_case_sla(*, case: Case) -> _ClockWriter | None:
    """The clocks a new case will get (None: no policy matches), worked out before its transaction.

    `case` may be unsaved: matching and the due times in business hours need
    only its fields, and on SQLite they are best computed before the write
    transaction takes the database's one write lock (sla.events).
    """
    policies = active_policies()
    if not policies:
        return None
    policy = matching_policy(case, policies)
    if policy is None:
        return None
    cal = calendar_of(policy)
    opened = case.created_at
    first, resolution = _seconds(policy.first_response_minutes), _seconds(policy.resolution_minutes)
    sla = CaseSla(
        policy=policy,
        started_at=opened,
        first_response_due_at=engine.add_business_time(cal, opened, first) if first is not None else None,
        resolution_due_at=engine.add_business_time(cal, opened, resolution) if resolution is not None else None,
    )
    if case.first_response_at is not None:  # a case a rep opened by writing first
        sla.first_response_at = case.first_response_at
    _pause_or_resume(sla, case.status, clock.now())
    promise = bool(policy.promise_first_response and sla.first_response_due_at and sla.first_response_at is None)
    if promise and case.assignee_id is None and case.team_id is None:
        logger.info("A new case of %s has no team or assignee: its first answer is not promised", case.requester_id)
        promise = False
    return _ClockWriter(sla=sla, promise=promise)


def _pause_or_resume(sla: CaseSla, status: str, now: dt.datetime) -> None:
    """Make the clocks agree with the case's status: paused while pending or solved, stopped when closed."""
    cal = calendar_of(sla.policy)
    if status == CaseStatus.CLOSED:
        for target in _TARGETS:
            setattr(sla, f"{target}_remaining", None)
        sla.next_response_due_at = None
        if sla.first_response_at is None:
            sla.first_response_due_at = None
        if sla.resolved_at is None:
            sla.resolution_due_at = None
        sla.paused_at = None
    elif status in PAUSED_STATUSES and sla.paused_at is None:
        for target in _TARGETS:
            due = getattr(sla, f"{target}_due_at")
            if due is None or _met(sla, target):
                continue
            setattr(sla, f"{target}_remaining", engine.business_seconds_between(cal, now, due))
            setattr(sla, f"{target}_due_at", None)
        sla.paused_at = now
    elif status not in PAUSED_STATUSES and sla.paused_at is not None:
        for target in _TARGETS:
            remaining = getattr(sla, f"{target}_remaining")
            if remaining is None:
                continue
            setattr(sla, f"{target}_due_at", engine.add_business_time(cal, now, remaining))
            setattr(sla, f"{target}_remaining", None)
        sla.paused_at = None
    _refresh_due(sla)


def _met(sla: CaseSla, target: str) -> bool:
    if target == "first_response":
        return sla.first_response_at is not None
    if target == "resolution":
        return sla.resolved_at is not None
    return False


def _clocks_of(case: Case) -> CaseSla | None:
    """The case's clocks with their policy and calendar, read in the caller's transaction.

    The case's row is locked by the action that publishes (cases.actions), so
    the clocks change under that lock; most cases on a help desk without SLA
    policies have no clocks, and that costs one prepared read.
    """
    sla = get_by(CaseSla, case_id=case.pk)
    if sla is None:
        return None
    policy = policy_book().by_id.get(sla.policy_id)
    assert policy is not None  # PROTECT: a policy in use is never deleted
    sla.policy = policy
    return sla


def on_message(*, case: Case, message: Message) -> None:
    """A message on a case: a person's reply meets the first or next response; the customer's starts the next."""
    sla = _clocks_of(case)
    if sla is None:
        return
    direction, author_id, at = message.direction, message.author_user_id, message.created_at
    _pause_or_resume(sla, case.status, at)
    cal = calendar_of(sla.policy)
    if direction == Direction.OUTBOUND and author_id is not None:
        if sla.first_response_at is None:
            sla.first_response_at = at
            due = sla.first_response_due_at
            sla.first_response_breached = sla.first_response_breached or (due is not None and at > due)
            if sla.first_response_remaining is not None:  # answered while paused
                sla.first_response_breached = sla.first_response_breached or sla.first_response_remaining < 0
                sla.first_response_remaining = None
        elif sla.next_response_due_at is not None or sla.next_response_remaining is not None:
            late = (sla.next_response_due_at is not None and at > sla.next_response_due_at) or (
                sla.next_response_remaining is not None and sla.next_response_remaining < 0
            )
            if late:
                sla.next_responses_breached += 1
            else:
                sla.next_responses_met += 1
            sla.next_response_due_at, sla.next_response_remaining, sla.next_response_late = None, None, False
    elif direction == Direction.INBOUND:
        minutes = sla.policy.next_response_minutes
        waiting = sla.next_response_due_at is not None or sla.next_response_remaining is not None
        if minutes and sla.first_response_at is not None and not waiting and case.status != CaseStatus.CLOSED:
            if sla.paused_at is None:
                sla.next_response_due_at = engine.add_business_time(cal, at, minutes * 60.0)
            else:
                sla.next_response_remaining = minutes * 60.0
    _refresh_due(sla)
    sla.save()


def on_status(*, case: Case, before: str, after: str) -> None:
    """A status change: solving records the resolution; pending and solved pause, leaving them resumes."""
    now = clock.now()
    sla = _clocks_of(case)
    if sla is None:
        return
    if after == CaseStatus.SOLVED and sla.resolved_at is None:
        # solving is judged against the due time first: a solved case pauses what is left
        due = sla.resolution_due_at
        if due is not None or sla.resolution_remaining is not None:
            sla.resolved_at = now
            late = (due is not None and now > due) or (
                sla.resolution_remaining is not None and sla.resolution_remaining < 0
            )
            sla.resolution_breached = sla.resolution_breached or late
            if due is not None:
                sla.resolution_remaining = engine.business_seconds_between(calendar_of(sla.policy), now, due)
                sla.resolution_due_at = None
    elif before == CaseStatus.SOLVED and after != CaseStatus.CLOSED and sla.resolved_at is not None:
        sla.resolved_at = None  # reopened: the resolution clock runs again from what was left
    # a solved case no longer waits for our reply
    if after in (CaseStatus.SOLVED, CaseStatus.CLOSED):
        sla.next_response_due_at, sla.next_response_remaining, sla.next_response_late = None, None, False
    _pause_or_resume(sla, case.status, now)
    sla.save()


# --- the breach checker -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SlaCheck:
    breached: int
    warned: int


def _recipients(case: Case) -> list[int]:
    if case.assignee_id is not None:
        return [case.assignee_id]
    if case.team_id is not None:
        return list(case.team.memberships.filter(is_lead=True).values_list("user_id", flat=True)) if case.team else []
    return []


def check_slas(*, now: dt.datetime | None = None, batch: int = 500) -> SlaCheck:
    """Mark targets that passed their due time unmet as breached (on the timeline) and warn before breach.

    Strictly past: an answer at the due time itself meets the target (`on_message` counts `at > due` as
    late), so a pass at that moment must not record a breach first.

    Each row is changed by a compare-and-set UPDATE, so two checkers never
    record one breach twice. Breaches per pass are few (a minute's worth).
    """
    now = now or clock.now()
    breached = warned = 0
    rules = (
        (
            "first_response",
            {"first_response_at__isnull": True, "first_response_breached": False, "first_response_due_at__lt": now},
            {"first_response_breached": True},
        ),
        (
            "resolution",
            {"resolved_at__isnull": True, "resolution_breached": False, "resolution_due_at__lt": now},
            {"resolution_breached": True},
        ),
        (
            "next_response",
            {"next_response_late": False, "next_response_due_at__lt": now},
            {"next_response_late": True},
        ),
    )
    labels = {"first_response": "first response", "resolution": "resolution", "next_response": "next response"}
    for target, condition, change in rules:
        ids = list(CaseSla.objects.filter(**condition).values_list("case_id", flat=True)[:batch])
        for case_id in ids:
            with transaction.atomic():
                if not CaseSla.objects.filter(case_id=case_id, **condition).update(**change):
                    continue
                case = Case.objects.select_related("team").get(pk=case_id)
                record_event(
                    kind="sla.breached",
                    subjects=[(S.CASE, case_id)],
                    case_id=case_id,
                    occurred_at=now,
                    summary=f"{case.number}: the {labels[target]} target was missed",
                    data={"target": target},
                )
                breached += 1
    soon = CaseSla.objects.filter(warn_at__lte=now, due_at__gt=now, warned_at__isnull=True)
    for sla in soon.select_related("case__team")[:batch]:
        if not CaseSla.objects.filter(case_id=sla.case_id, warned_at__isnull=True).update(warned_at=now):
            continue
        case = sla.case
        assert sla.due_at is not None
        notify(
            recipients=_recipients(case),
            kind=NoticeKind.SLA_DUE,
            case_id=case.pk,
            summary=f"{case.number} is due by {sla.due_at:%H:%M} UTC (SLA)",
        )
        warned += 1
    return SlaCheck(breached=breached, warned=warned)


def default_hours() -> dict[str, list[str]]:
    """Weekdays 09:00-17:00: a starting point for a new calendar."""
    return {day: ["09:00-17:00"] for day in engine.DAYS[:5]}
