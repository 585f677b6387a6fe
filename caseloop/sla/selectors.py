"""Reads of the SLA domain: where a case stands, the inbox's sort and flags, and compliance."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from caseloop.cases.choices import Channel
from caseloop.cases.models import Case
from caseloop.cases.selectors import attach_tag_names
from caseloop.core import clock
from caseloop.core.cursor import CursorErrorCode, decode_cursor, encode_cursor
from caseloop.core.errors import DomainError, Invalid, NotFound
from caseloop.identity.choices import Role
from caseloop.identity.models import User
from caseloop.identity.selectors import require_role, require_staff
from caseloop.sla.choices import SlaState
from caseloop.sla.models import BusinessCalendar, CaseSla, SlaPolicy


def calendars_visible_to(actor: User) -> QuerySet[BusinessCalendar]:
    require_staff(actor)
    return BusinessCalendar.objects.order_by("name")


def policies_visible_to(actor: User) -> QuerySet[SlaPolicy]:
    require_staff(actor)
    return SlaPolicy.objects.select_related("calendar", "organization").order_by("position", "id")


def access_calendar(actor: User, calendar_id: int) -> BusinessCalendar:
    found = calendars_visible_to(actor).filter(pk=calendar_id).first()
    if found is None:
        raise NotFound("Calendar", calendar_id)
    return found


def access_policy(actor: User, policy_id: int) -> SlaPolicy:
    found = policies_visible_to(actor).filter(pk=policy_id).first()
    if found is None:
        raise NotFound("SLA policy", policy_id)
    return found


@dataclass(frozen=True, slots=True)
class SlaBadge:
    """What the inbox shows beside a case: its state, the next due time and which target it is."""

    state: SlaState
    due_at: dt.datetime | None
    target: str
    policy: str

    @property
    def label(self) -> str:
        return self.state.label


def _badge(sla: CaseSla, now: dt.datetime) -> SlaBadge:
    target = ""
    if sla.due_at is not None:
        for name, due in (
            ("first response", sla.first_response_due_at if sla.first_response_at is None else None),
            ("next response", sla.next_response_due_at),
            ("resolution", sla.resolution_due_at if sla.resolved_at is None else None),
        ):
            if due == sla.due_at:
                target = name
                break
    if sla.paused_at is not None:
        state = SlaState.PAUSED
    elif sla.due_at is None:
        state = SlaState.DONE
    elif sla.due_at < now:  # an answer at the due time itself is on time
        state = SlaState.BREACHED
    elif sla.warn_at is not None and sla.warn_at <= now:
        state = SlaState.WARNING
    else:
        state = SlaState.OK
    return SlaBadge(state=state, due_at=sla.due_at, target=target, policy=sla.policy.name)


def sla_badges(case_ids: Sequence[int]) -> dict[int, SlaBadge]:
    """The SLA state of each of these cases that has one (one query; for the inbox rows)."""
    if not case_ids:
        return {}
    now = clock.now()
    rows = CaseSla.objects.filter(case_id__in=list(case_ids)).select_related("policy")
    return {sla.case_id: _badge(sla, now) for sla in rows}


def sla_of_case(case: Case) -> CaseSla | None:
    return CaseSla.objects.filter(case_id=case.pk).select_related("policy__calendar").first()


def badge_of(sla: CaseSla) -> SlaBadge:
    return _badge(sla, clock.now())


def by_sla_due(qs: QuerySet[Case]) -> QuerySet[Case]:
    """The inbox sorted by the next SLA due time, soonest (and overdue) first; cases without one last."""
    return qs.order_by(F("sla__due_at").asc(nulls_last=True), "id")


def due_within(qs: QuerySet[Case], *, minutes: int) -> QuerySet[Case]:
    """Cases whose next SLA target is overdue or due within `minutes` (the inbox's "breaching soon" view).

    Written as `id IN (clocks due by then)` so that both databases start from
    the due-time index (a join let SQLite walk every open case first).
    """
    due = CaseSla.objects.filter(due_at__lte=clock.now() + dt.timedelta(minutes=minutes)).values("case_id")
    return qs.filter(id__in=due)


def due_soon_page(
    qs: QuerySet[Case], *, minutes: int, cursor: str | None, limit: int = 25
) -> tuple[list[Case], str | None]:
    """One page of `due_within`, soonest (most overdue) first, keyset-paged on (due time, id).

    Only running clocks have a due time (paused and stopped ones have none),
    so the walk is a range of the indexed `due_at`, joined to the cases.
    """
    after = decode_cursor(cursor) if cursor else {}
    if after and after.get("s") != "sla":
        raise DomainError(CursorErrorCode.BAD_CURSOR, "The cursor belongs to another sort order.", status=400)
    qs = due_within(qs, minutes=minutes).order_by("sla__due_at", "id")
    if after:
        try:
            moment, last_id = dt.datetime.fromisoformat(after["d"]), int(after["id"])
        except (KeyError, TypeError, ValueError) as exc:
            raise DomainError(CursorErrorCode.BAD_CURSOR, "The cursor is not valid; start again.", status=400) from exc
        qs = qs.filter(Q(sla__due_at__gt=moment) | Q(sla__due_at=moment, id__gt=last_id))
    rows = list(qs.select_related("requester", "assignee", "team", "sla")[: limit + 1])
    attach_tag_names(rows)  # the inbox row shows them, as for any other page of cases
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    due = last.sla.due_at
    assert due is not None
    return rows[:limit], encode_cursor({"s": "sla", "d": due.isoformat(), "id": last.pk})


@dataclass(slots=True)
class Compliance:
    key: str
    label: str
    met: int = 0
    breached: int = 0
    first_met: int = 0
    first_breached: int = 0
    next_met: int = 0
    next_breached: int = 0
    resolution_met: int = 0
    resolution_breached: int = 0

    @property
    def rate(self) -> float | None:
        total = self.met + self.breached
        return self.met / total if total else None


@dataclass(frozen=True, slots=True)
class ComplianceReport:
    teams: list[Compliance]
    channels: list[Compliance]


def compliance(actor: User, *, by: str, since: dt.datetime, until: dt.datetime) -> list[Compliance]:
    """SLA compliance per team or channel for cases opened in [since, until): targets met against missed.

    A target counts once it is settled: met (answered or solved in time) or
    breached (missed, whether answered later or not yet). Targets still
    running and in time are not counted yet.
    """
    require_role(actor, Role.MANAGER, Role.ADMIN)
    if by not in ("team", "channel"):
        raise Invalid("by is team or channel.", field="by")
    report = compliance_report(actor, since=since, until=until)
    return report.teams if by == "team" else report.channels


def compliance_report(actor: User, *, since: dt.datetime, until: dt.datetime) -> ComplianceReport:
    """`compliance` per team and per channel at once, from one reading of the period's cases."""
    require_role(actor, Role.MANAGER, Role.ADMIN)
    if since >= until:
        raise Invalid("since comes before until.", field="since")
    # counted by the database, one row per (team, channel): a month of a busy desk is tens of thousands of
    # cases, and reading each into Python took seconds (1.9 s for ~150,000 in a month); both groupings are
    # summed from the same rows, since every case of the period costs two index searches (its row, its
    # clocks) and reading them once per grouping nearly doubled the page (367 → 250 ms with clocks on all of a
    # million cases). n_: the model has fields of those names.
    rows = (
        CaseSla.objects.filter(case__created_at__gte=since, case__created_at__lt=until)
        .values("case__team_id", "case__team__name", "case__channel")
        .order_by()
        .annotate(
            n_first_breached=Count("pk", filter=Q(first_response_breached=True)),
            n_first_met=Count("pk", filter=Q(first_response_breached=False, first_response_at__isnull=False,
                                             first_response_due_at__isnull=False)),
            n_resolution_breached=Count("pk", filter=Q(resolution_breached=True)),
            n_resolution_met=Count("pk", filter=Q(resolution_breached=False, resolved_at__isnull=False)),
            n_next_met=Coalesce(Sum("next_responses_met"), 0),
            n_next_breached=Coalesce(Sum("next_responses_breached"), 0),
        )
    )  # fmt: skip
    teams: dict[str, Compliance] = {}
    channels: dict[str, Compliance] = {}
    labels = dict(Channel.choices)
    for r in rows:
        team_key = str(r["case__team_id"] or "")
        channel_key = r["case__channel"]
        for group in (
            teams.setdefault(team_key, Compliance(key=team_key, label=r["case__team__name"] or "No team")),
            channels.setdefault(channel_key, Compliance(key=channel_key, label=str(labels.get(channel_key,
                                                                                            channel_key)))),
        ):  # fmt: skip
            group.first_met += r["n_first_met"]
            group.first_breached += r["n_first_breached"]
            group.next_met += r["n_next_met"]
            group.next_breached += r["n_next_breached"]
            group.resolution_met += r["n_resolution_met"]
            group.resolution_breached += r["n_resolution_breached"]
    return ComplianceReport(teams=_settled(teams), channels=_settled(channels))


def _settled(groups: dict[str, Compliance]) -> list[Compliance]:
    for group in groups.values():
        group.met = group.first_met + group.next_met + group.resolution_met
        group.breached = group.first_breached + group.next_breached + group.resolution_breached
    return sorted(groups.values(), key=lambda g: (g.rate if g.rate is not None else 2.0, g.label))


def sla_met_by_case(case_ids: Sequence[int]) -> dict[int, bool]:
    """Whether each case (that has an SLA) met every target so far; for the insights facts."""
    met: dict[int, bool] = defaultdict(bool)
    rows = CaseSla.objects.filter(case_id__in=list(case_ids)).values_list(
        "case_id", "first_response_breached", "resolution_breached", "next_responses_breached"
    )
    for case_id, first, resolution, following in rows:
        met[case_id] = not (first or resolution or following)
    return dict(met)
