"""Reads of cases and messages; permission is part of every query."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from django.conf import settings
from django.db.models import Case as DbCase
from django.db.models import Count, IntegerField, Min, Q, QuerySet, Value, When

from caseloop.cases.choices import (
    OPEN_STATUSES,
    PRIORITY_RANK,
    CaseSort,
    CaseStatus,
    Channel,
    Direction,
    PresenceActivity,
    Priority,
)
from caseloop.cases.errors import CaseError, CaseErrorCode
from caseloop.cases.models import Case, CasePresence, Macro, Message, SavedView
from caseloop.core import clock
from caseloop.core.cursor import CursorErrorCode, decode_cursor, encode_cursor
from caseloop.core.errors import DomainError, NotFound
from caseloop.customers.choices import OrganizationKind
from caseloop.customers.selectors import contact_ids_for_history, contact_of
from caseloop.identity.choices import Role
from caseloop.identity.models import User


def cases_visible_to(actor: User) -> QuerySet[Case]:
    """Staff see every case; a customer their own (and their organization's,
    when it shares cases); a partner only the cases attributed to it."""
    qs: QuerySet[Case] = Case.objects.all()
    if actor.is_staff_member:
        return qs
    contact = contact_of(actor)
    if contact is None:
        return qs.none()
    if actor.role == Role.PARTNER:
        organization = contact.organization
        if organization is None or organization.kind != OrganizationKind.PARTNER:
            return qs.none()
        return qs.filter(partner_id=organization.pk)
    mine = Q(requester_id__in=contact_ids_for_history(contact))
    organization = contact.organization
    if organization is not None and organization.shares_cases:
        mine |= Q(organization_id=organization.pk)
    return qs.filter(mine)


def access_case(actor: User, case_id: int, *, for_update: bool = False) -> Case:
    """The case if the actor may see it; otherwise NotFound (not 403: no leaking)."""
    qs = cases_visible_to(actor)
    if for_update:
        qs = qs.select_for_update(of=("self",))
    case = (
        qs.select_related("requester", "organization", "site", "asset", "assignee", "team").filter(pk=case_id).first()
    )
    if case is None:
        raise NotFound("Case", case_id)
    return case


def parse_case_number(raw: str) -> int | None:
    """`CL-10234`, `cl-10234` or `10234` → 10234."""
    text = raw.strip()
    prefix = f"{settings.CASELOOP_CASE_NUMBER_PREFIX}-".lower()
    if text.lower().startswith(prefix):
        text = text[len(prefix) :]
    # ASCII digits only: str.isdigit() and int() also take other scripts' digits ("١٠٣٠٠")
    return int(text) if text.isascii() and text.isdigit() else None


def messages_visible_to(actor: User, case: Case) -> QuerySet[Message]:
    qs = case.messages.select_related("author_user", "author_contact").prefetch_related(
        "message_attachments__attachment"
    )
    if not actor.is_staff_member:
        qs = qs.exclude(direction=Direction.NOTE)
    return qs.order_by("id")


# Open cases, as an index can use it. Django writes `is_open=True` as a bare
# `WHERE "is_open"`, which SQLite does not match to an index column (it then
# sorts or scans); `IN (1)` becomes `is_open = 1`, an index equality.
IS_OPEN = Q(is_open__in=[True])


@dataclass(frozen=True, slots=True)
class CaseFilter:
    """One filter definition, used by the API list and the inbox views alike."""

    status: list[str] = field(default_factory=list)
    open_only: bool = False
    priority: list[str] = field(default_factory=list)
    channel: list[str] = field(default_factory=list)
    team_id: int | None = None
    assignee_id: int | None = None
    unassigned: bool = False
    requester_id: int | None = None
    organization_id: int | None = None
    site_id: int | None = None
    asset_id: int | None = None
    tag: str | None = None
    team_ids: tuple[int, ...] = ()  # any of these teams ("my team" for someone in several)
    created_before: dt.datetime | None = None  # age: opened before this moment
    created_after: dt.datetime | None = None

    def apply(self, qs: QuerySet[Case]) -> QuerySet[Case]:
        if self.open_only:
            qs = qs.filter(IS_OPEN)
        if self.status:
            qs = qs.filter(status__in=self.status) if len(self.status) > 1 else qs.filter(status=self.status[0])
        if self.priority:
            qs = qs.filter(priority__in=self.priority)
        if self.channel:
            qs = qs.filter(channel__in=self.channel)
        if self.team_id is not None:
            qs = qs.filter(team_id=self.team_id)
        if self.assignee_id is not None:
            qs = qs.filter(assignee_id=self.assignee_id)
        if self.unassigned:
            qs = qs.filter(assignee__isnull=True)
        if self.requester_id is not None:
            qs = qs.filter(requester_id=self.requester_id)
        if self.organization_id is not None:
            qs = qs.filter(organization_id=self.organization_id)
        if self.site_id is not None:
            qs = qs.filter(site_id=self.site_id)
        if self.asset_id is not None:
            qs = qs.filter(asset_id=self.asset_id)
        if self.tag:
            qs = qs.filter(tags__name=self.tag)
        if self.team_ids:
            qs = qs.filter(team_id__in=self.team_ids)
        if self.created_before is not None:
            qs = qs.filter(created_at__lt=self.created_before)
        if self.created_after is not None:
            qs = qs.filter(created_at__gte=self.created_after)
        return qs


def case_list(actor: User, case_filter: CaseFilter) -> QuerySet[Case]:
    """Visible cases matching the filter, newest first (stable: by id)."""
    qs = case_filter.apply(cases_visible_to(actor))
    return qs.select_related("requester", "assignee", "team").order_by("-id")


def open_statuses() -> list[str]:
    return [s.value for s in CaseStatus if s in OPEN_STATUSES]


# --- the inbox: one page of a filtered, sorted list, keyset-paged ---------------------
_PRIORITY_RANK = DbCase(
    *(When(priority=value, then=Value(rank)) for value, rank in PRIORITY_RANK.items()),
    default=Value(1),
    output_field=IntegerField(),
)


@dataclass(frozen=True, slots=True)
class CasePage:
    cases: list[Case]
    next_cursor: str | None  # None: this is the last page


def case_page(
    actor: User, case_filter: CaseFilter, *, sort: CaseSort = CaseSort.NEWEST, cursor: str | None = None,
    limit: int = 25,
) -> CasePage:  # fmt: skip
    """One page of visible cases matching the filter, in `sort` order.

    Keyset paging: the cursor holds the sort key of the last row shown, so page
    500 costs what page 1 costs (no OFFSET). Newest/oldest walk the id indexes;
    last update walks (updated_at, id); priority orders by rank then id.
    """
    after: dict[str, Any] = decode_cursor(cursor) if cursor else {}
    if after and after.get("s") != sort:
        raise DomainError(CursorErrorCode.BAD_CURSOR, "The cursor belongs to another sort order.", status=400)
    if 1 < len(case_filter.team_ids) <= MAX_MERGED_TEAMS:
        # `team IN (a, b)` cannot walk one index in sort order; one walk per
        # team (each an index range, keys only) merged here, then one read of
        # the page's rows, costs a few small queries instead of sorting every
        # open case of those teams
        keys: list[tuple[int, dt.datetime, str]] = []
        for team_id in case_filter.team_ids:
            one_team = replace(case_filter, team_ids=(team_id,))
            walk = _page_query(actor, one_team, sort, after).values_list("id", "updated_at", "priority")
            keys.extend(walk[: limit + 1])
        keys.sort(key=_sort_key(sort))
        wanted = [k[0] for k in keys[: limit + 1]]
    else:
        # the page's ids from the cases table alone, then its rows by id: with the requester, assignee and
        # team joined into the walk, SQLite's planner may start from the contacts and sort every case (a
        # first page of one case took 131 ms at 10,000 cases, against 0.2 ms for 25)
        wanted = list(_page_query(actor, case_filter, sort, after).values_list("id", flat=True)[: limit + 1])
    found = {c.pk: c for c in Case.objects.filter(pk__in=wanted).select_related("requester", "assignee", "team")}
    rows = [found[pk] for pk in wanted if pk in found]
    attach_tag_names(rows)
    if len(rows) <= limit:
        return CasePage(cases=rows, next_cursor=None)
    last = rows[limit - 1]
    key: dict[str, Any] = {"s": str(sort), "id": last.pk}
    if sort == CaseSort.UPDATED:
        key["u"] = last.updated_at.isoformat()
    elif sort == CaseSort.PRIORITY:
        key["r"] = PRIORITY_RANK.get(Priority(last.priority), 1)
    return CasePage(cases=rows[:limit], next_cursor=encode_cursor(key))


MAX_MERGED_TEAMS = 8


def attach_tag_names(cases: Sequence[Case]) -> None:
    """Set each case's sorted tag names as `case.tag_names`, read in one query.

    A list shows tag names only; Django's prefetch of a many-to-many builds a
    manager and a queryset for every case, a sixth of an inbox page's time.
    """
    names: dict[int, list[str]] = {case.pk: [] for case in cases}
    if names:
        links = Case.tags.through._default_manager.filter(case_id__in=list(names))
        for case_id, name in links.values_list("case_id", "tag__name"):
            names[case_id].append(name)
    for case in cases:
        case.tag_names = sorted(names[case.pk])  # type: ignore[attr-defined]


def _sort_key(sort: CaseSort) -> Callable[[tuple[int, dt.datetime, str]], Any]:
    """Order (id, updated_at, priority) keys as `_page_query` orders rows."""
    if sort == CaseSort.OLDEST:
        return lambda k: k[0]
    if sort == CaseSort.UPDATED:
        return lambda k: (-k[1].timestamp(), -k[0])
    if sort == CaseSort.PRIORITY:
        return lambda k: (-PRIORITY_RANK.get(Priority(k[2]), 1), -k[0])
    return lambda k: -k[0]


def _page_query(actor: User, case_filter: CaseFilter, sort: CaseSort, after: dict[str, Any]) -> QuerySet[Case]:
    """The filter's cases in `sort` order, after the cursor's key."""
    qs = case_filter.apply(cases_visible_to(actor))
    try:
        if sort == CaseSort.OLDEST:
            qs = qs.order_by("id")
            if after:
                qs = qs.filter(id__gt=int(after["id"]))
        elif sort == CaseSort.UPDATED:
            qs = qs.order_by("-updated_at", "-id")
            if after:
                moment = dt.datetime.fromisoformat(after["u"])
                qs = qs.filter(Q(updated_at__lt=moment) | Q(updated_at=moment, id__lt=int(after["id"])))
        elif sort == CaseSort.PRIORITY:
            qs = qs.annotate(priority_rank=_PRIORITY_RANK).order_by("-priority_rank", "-id")
            if after:
                rank = int(after["r"])
                qs = qs.filter(Q(priority_rank__lt=rank) | Q(priority_rank=rank, id__lt=int(after["id"])))
        else:
            qs = qs.order_by("-id")
            if after:
                qs = qs.filter(id__lt=int(after["id"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise DomainError(CursorErrorCode.BAD_CURSOR, "The cursor is not valid; start again.", status=400) from exc
    return qs


def count_capped(qs: QuerySet[Case], *, cap: int = 1000) -> int:
    """How many rows match, counting no further than cap + 1.

    A count over a million-row view costs a full index scan on every page
    load; nobody needs to know whether it is 41,356 or 41,357, so the inbox
    shows "1,000+" instead.
    """
    return qs.order_by()[: cap + 1].count()


# --- saved views: plain JSON filters, turned into a CaseFilter when used ----------------
VIEW_FILTER_KEYS = frozenset({"status", "priority", "channel", "team", "assignee", "tag", "min_age_hours", "open_only"})


def _bad_filter(message: str) -> CaseError:
    return CaseError(CaseErrorCode.BAD_FILTER, message, field="filters")


def clean_view_filters(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Check and normalise a saved view's filters; refuse anything unknown.

    status/priority/channel: lists of choice values; team: a team id;
    assignee: a user id, "me" or "none"; tag: one tag name; min_age_hours:
    opened at least this long ago; open_only: only open statuses.
    """
    unknown = set(raw) - VIEW_FILTER_KEYS
    if unknown:
        raise _bad_filter(f"Unknown filter {', '.join(sorted(unknown))}.")
    cleaned: dict[str, Any] = {}
    for key, choices in (("status", CaseStatus), ("priority", Priority), ("channel", Channel)):
        values = raw.get(key) or []
        if isinstance(values, str) or not isinstance(values, list | tuple):
            raise _bad_filter(f"{key} must be a list.")
        wrong = [v for v in values if v not in choices.values]
        if wrong:
            raise _bad_filter(f"{key} has unknown values {', '.join(map(str, wrong))}.")
        if values:
            cleaned[key] = sorted(set(values))
    team = raw.get("team")
    if team not in (None, ""):
        if not (str(team).isascii() and str(team).isdigit() and len(str(team)) <= 18):
            raise _bad_filter("team must be a team id.")
        cleaned["team"] = int(str(team))
    assignee = raw.get("assignee")
    if assignee not in (None, ""):
        if assignee in ("me", "none"):
            cleaned["assignee"] = assignee
        elif str(assignee).isascii() and str(assignee).isdigit() and len(str(assignee)) <= 18:
            cleaned["assignee"] = int(str(assignee))
        else:
            raise _bad_filter('assignee must be a user id, "me" or "none".')
    tag = str(raw.get("tag") or "").strip().lower()
    if tag:
        if any(c.isspace() for c in tag):
            raise _bad_filter("tag must be one word.")
        if len(tag) > 50:
            raise _bad_filter("tag is at most 50 characters.")
        cleaned["tag"] = tag
    age = str(raw.get("min_age_hours") or "")
    if age:
        if not (age.isascii() and age.isdigit()) or len(age) > 6 or int(age) > 24 * 365 * 10:
            raise _bad_filter("min_age_hours must be a whole number of hours.")
        if int(age):
            cleaned["min_age_hours"] = int(age)
    if raw.get("open_only"):
        cleaned["open_only"] = True
    return cleaned


def view_filter(filters: Mapping[str, Any], *, actor: User) -> CaseFilter:
    """The CaseFilter a saved view's (cleaned) filters stand for, as seen by `actor`."""
    assignee = filters.get("assignee")
    age = filters.get("min_age_hours")
    return CaseFilter(
        status=list(filters.get("status", [])),
        open_only=bool(filters.get("open_only")),
        priority=list(filters.get("priority", [])),
        channel=list(filters.get("channel", [])),
        team_id=filters.get("team"),
        assignee_id=actor.pk if assignee == "me" else assignee if isinstance(assignee, int) else None,
        unassigned=assignee == "none",
        tag=filters.get("tag"),
        created_before=clock.now() - dt.timedelta(hours=age) if age else None,
    )


def saved_views_for(actor: User) -> QuerySet[SavedView]:
    """The actor's own views and everyone's shared ones, by name."""
    return SavedView.objects.filter(Q(owner=actor) | Q(shared=True)).select_related("owner").order_by("name", "id")


def access_saved_view(actor: User, view_id: int) -> SavedView:
    view = saved_views_for(actor).filter(pk=view_id).first()
    if view is None:
        raise NotFound("View", view_id)
    return view


def macros_for(actor: User) -> QuerySet[Macro]:
    """Canned replies the actor may use: shared ones and their own."""
    if not actor.is_staff_member:
        return Macro.objects.none()
    return Macro.objects.filter(Q(owner__isnull=True) | Q(owner=actor)).order_by("name", "id")


def access_macro(actor: User, macro_id: int) -> Macro:
    macro = macros_for(actor).filter(pk=macro_id).first()
    if macro is None:
        raise NotFound("Macro", macro_id)
    return macro


def present_on_case(case: Case, *, exclude: User) -> list[CasePresence]:
    """Other people with this case open now, those replying first."""
    since = clock.now() - dt.timedelta(seconds=settings.CASELOOP_PRESENCE_SECONDS)
    rows = (
        CasePresence.objects.filter(case_id=case.pk, last_seen__gte=since)
        .exclude(user_id=exclude.pk)
        .select_related("user")
        .order_by("user__username")
    )
    return sorted(rows, key=lambda p: p.activity != PresenceActivity.REPLYING)


# --- the team overview for managers ---------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TeamLoad:
    team_id: int | None
    open: int
    unassigned: int
    oldest_open_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class AgentLoad:
    user_id: int
    open: int
    pending: int
    oldest_open_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class Workload:
    teams: list[TeamLoad]  # by team id, no team (None) last
    agents: list[AgentLoad]  # busiest first


def workload() -> Workload:
    """Open cases per team and per assignee, from one read of the open cases.

    Both views count the same rows: one GROUP BY (team, assignee) gives a
    few hundred groups, summed here both ways. Two queries read
    every open case twice (0.27 s at a million cases with 85,000 open, against
    0.16 s for one).
    """
    rows = list(
        # not IS_OPEN: SQLite takes a partial index (case_open_load) only for the very term of its WHERE, and
        # `IN (%s)` is a parameter it cannot check when planning; `is_open=True` is the bare `WHERE "is_open"`
        Case.objects.filter(is_open=True)
        .values("team_id", "assignee_id")
        .annotate(n=Count("id"), pending=Count("id", filter=Q(status=CaseStatus.PENDING)), oldest=Min("created_at"))
        .order_by()
    )
    by_team: dict[int | None, list[dict[str, Any]]] = defaultdict(list)
    by_agent: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_team[row["team_id"]].append(row)
        if row["assignee_id"] is not None:
            by_agent[row["assignee_id"]].append(row)
    teams = [
        TeamLoad(
            team_id=team_id,
            open=sum(r["n"] for r in group),
            unassigned=sum(r["n"] for r in group if r["assignee_id"] is None),
            oldest_open_at=_oldest(group),
        )
        for team_id, group in sorted(by_team.items(), key=lambda item: (item[0] is None, item[0] or 0))
    ]
    agents = [
        AgentLoad(
            user_id=user_id,
            open=sum(r["n"] for r in group),
            pending=sum(r["pending"] for r in group),
            oldest_open_at=_oldest(group),
        )
        for user_id, group in by_agent.items()
    ]
    agents.sort(key=lambda a: (-a.open, a.user_id))
    return Workload(teams=teams, agents=agents)  # fmt: skip


def _oldest(group: list[dict[str, Any]]) -> dt.datetime | None:
    return min((r["oldest"] for r in group if r["oldest"] is not None), default=None)
