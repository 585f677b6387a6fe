"""The inbox: built-in and saved views with counts, filters, sort, keyset pages, bulk changes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect, QueryDict
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from caseloop.cases.actions import change_status, delete_saved_view, save_view, update_case
from caseloop.cases.choices import CaseSort, CaseStatus, Channel, Priority
from caseloop.cases.models import Case, SavedView
from caseloop.cases.selectors import (
    CaseFilter,
    CasePage,
    access_saved_view,
    case_page,
    cases_visible_to,
    clean_view_filters,
    count_capped,
    saved_views_for,
    view_filter,
)
from caseloop.core.errors import DomainError, Invalid
from caseloop.identity.models import Team, User
from caseloop.identity.selectors import staff_members, team_ids_of, teams
from caseloop.sla.selectors import due_soon_page, due_within, sla_badges
from caseloop.web.access import StaffRequest, staff_view
from caseloop.web.forms import BulkForm, SaveViewForm
from caseloop.web.htmx import render_page

# at most this many cases in one bulk change (a page shows 25; the summary must stay readable)
MAX_BULK_CASES = 100
# a summary names this many refusals, then says how many more there were
NAMED_REFUSALS = 5
FILTER_KEYS = ("status", "priority", "channel", "team", "assignee", "tag", "min_age_hours")
# counted for the sidebar; more saved views than this are listed without a count
MAX_COUNTED_SAVED_VIEWS = 12
# "SLA due soon": running clocks overdue or due within this many minutes
SLA_DUE_MINUTES = 60


@dataclass(frozen=True, slots=True)
class InboxView:
    key: str
    label: str
    case_filter: CaseFilter | None  # None: matches nothing (e.g. "my team" for someone in no team)
    count: int | None = None
    saved: SavedView | None = None
    sla_due: bool = False  # the SLA view: clocks overdue or due within SLA_DUE_MINUTES, soonest first


def _builtin_views(actor: User) -> list[InboxView]:
    team_ids = tuple(team_ids_of(actor))
    specs: list[tuple[str, str, Callable[[], CaseFilter | None]]] = [
        ("mine", "Mine", lambda: CaseFilter(open_only=True, assignee_id=actor.pk)),
        ("team", "My team", lambda: CaseFilter(open_only=True, team_ids=team_ids) if team_ids else None),
        ("unassigned", "Unassigned", lambda: CaseFilter(open_only=True, unassigned=True)),
        ("pending", "Waiting on customer", lambda: CaseFilter(status=[CaseStatus.PENDING])),
        ("open", "All open", lambda: CaseFilter(open_only=True)),
    ]
    views = [InboxView(key=key, label=label, case_filter=make()) for key, label, make in specs]
    views.insert(1, InboxView(key="due", label="SLA due soon", case_filter=CaseFilter(open_only=True), sla_due=True))
    return views


def _count(actor: User, view: InboxView) -> int:
    if view.case_filter is None:
        return 0
    qs = view.case_filter.apply(cases_visible_to(actor))
    return count_capped(due_within(qs, minutes=SLA_DUE_MINUTES) if view.sla_due else qs)


def _with_counts(actor: User, views: list[InboxView]) -> list[InboxView]:
    return [
        replace(v, count=_count(actor, v) if v.saved is None or i < MAX_COUNTED_SAVED_VIEWS else None)
        for i, v in enumerate(views)
    ]


def _with_sla_badges(cases: list[Case]) -> None:
    """Each row's SLA state (one query for the page): overdue, due soon, running, paused."""
    badges = sla_badges([c.pk for c in cases])
    for case in cases:
        case.sla_badge = badges.get(case.pk)  # type: ignore[attr-defined]  # read by the template


def _custom_filters(params: QueryDict) -> dict[str, Any] | None:
    """Filters chosen in the filter bar, or None when the bar is not in use."""
    if not any(params.get(key) for key in FILTER_KEYS):
        return None
    raw: dict[str, Any] = {key: params.getlist(key) for key in ("status", "priority", "channel")}
    raw.update({key: params.get(key) for key in ("team", "assignee", "tag", "min_age_hours")})
    if not raw["status"]:
        raw["open_only"] = True  # no status chosen: the open ones, as everywhere in the inbox
    return clean_view_filters(raw)


AGE_CHOICES = [("", "Any age"), ("4", "Older than 4 hours"), ("24", "Older than 1 day"), ("72", "Older than 3 days"),
               ("168", "Older than 1 week")]  # fmt: skip
Option = tuple[str, str, bool]  # value, label, chosen


def _filter_bar(
    chosen: dict[str, Any], sort: CaseSort, *, teams: list[Team], agents: list[User]
) -> tuple[list[tuple[str, str, list[Option]]], list[tuple[str, str, list[Option]]]]:
    """The filter bar's checkboxes and selects, marked with what is chosen.

    Built as plain data (not form widgets, which render one template per
    option) because the inbox is the page reps load most.
    """

    def options(pairs: list[tuple[str, str]], current: object) -> list[Option]:
        picked = {str(v) for v in current} if isinstance(current, list) else {str(current or "")}
        return [(value, label, value in picked) for value, label in pairs]

    checks = [
        ("status", "Status", options(list(CaseStatus.choices), chosen.get("status", []))),
        ("priority", "Priority", options(list(Priority.choices), chosen.get("priority", []))),
        ("channel", "Channel", options(list(Channel.choices), chosen.get("channel", []))),
    ]
    people = [("", "Anyone"), ("me", "Me"), ("none", "Nobody"), *((str(u.pk), u.name) for u in agents)]
    selects = [
        ("team", "Team", options([("", "Any team"), *((str(t.pk), t.name) for t in teams)], chosen.get("team"))),
        ("assignee", "Assignee", options(people, chosen.get("assignee"))),
        ("min_age_hours", "Age", options(AGE_CHOICES, chosen.get("min_age_hours"))),
        ("sort", "Sort", options(list(CaseSort.choices), sort.value)),
    ]
    return checks, selects


@staff_view
def inbox(request: StaffRequest) -> HttpResponse:
    actor = request.user
    params = request.GET
    builtin = _builtin_views(actor)
    saved = list(saved_views_for(actor))
    saved_views = [InboxView(key=f"saved-{v.pk}", label=v.name, case_filter=view_filter(v.filters, actor=actor),
                             saved=v) for v in saved]  # fmt: skip
    custom = _custom_filters(params)
    key = params.get("view") or ("custom" if custom is not None else "mine")
    sort_value = params.get("sort") or ""
    initial_filters: dict[str, Any] = {}
    active: InboxView
    if custom is not None:
        key = "custom"
        active = InboxView(key="custom", label="Filtered", case_filter=view_filter(custom, actor=actor))
        initial_filters = custom
    else:
        found = [v for v in [*builtin, *saved_views] if v.key == key]
        if not found:
            raise Invalid(f"There is no inbox view {key!r}.", field="view")
        active = found[0]
        if active.saved is not None:
            initial_filters = dict(active.saved.filters)
            sort_value = sort_value or active.saved.sort
    sort = CaseSort(sort_value) if sort_value in CaseSort.values else CaseSort.NEWEST
    page: CasePage | None = None
    if active.sla_due and active.case_filter is not None:
        rows, next_cursor = due_soon_page(active.case_filter.apply(cases_visible_to(actor)), minutes=SLA_DUE_MINUTES,
                                          cursor=params.get("cursor") or None)  # fmt: skip
        page = CasePage(cases=rows, next_cursor=next_cursor)
    elif active.case_filter is not None:
        page = case_page(actor, active.case_filter, sort=sort, cursor=params.get("cursor") or None, limit=25)
    if page is not None:
        _with_sla_badges(page.cases)
    agents = staff_members()
    team_list = teams()
    filter_bar = _filter_bar(initial_filters, sort, teams=team_list, agents=agents)
    base_query = {k: v for k, v in params.lists() if k != "cursor"}
    context = {
        "views": _with_counts(actor, builtin),
        "saved_views": _with_counts(actor, saved_views),
        "active": active,
        "view_key": key,
        "page": page,
        "cases": page.cases if page else [],
        "next_url": f"?{urlencode({**base_query, 'cursor': page.next_cursor}, doseq=True)}"
        if page and page.next_cursor
        else None,
        "first_url": f"?{urlencode(base_query, doseq=True)}" if params.get("cursor") else None,
        "sort": sort,
        "sorts": CaseSort.choices,
        "sla_due_minutes": SLA_DUE_MINUTES,
        "filter_checks": filter_bar[0],
        "filter_selects": filter_bar[1],
        "filter_tag": initial_filters.get("tag", ""),
        "save_form": SaveViewForm(),
        "custom": custom,
        "agents": agents,
        "teams": team_list,
        "statuses": CaseStatus.choices,
        "return_to": request.get_full_path(),
    }
    return render_page(request, page="web/inbox.html", partial="web/partials/inbox_list.html", context=context)


def _back(request: StaffRequest, fallback: str) -> HttpResponseRedirect:
    target = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return HttpResponseRedirect(target)
    return HttpResponseRedirect(fallback)


@require_POST
@staff_view
def save_inbox_view(request: StaffRequest) -> HttpResponse:
    form = SaveViewForm(request.POST)
    if not form.is_valid():
        messages.error(request, "A view needs a name.")
        return _back(request, reverse("web:inbox"))
    filters = _custom_filters(request.POST) or {"open_only": True}
    sort = request.POST.get("sort", "")
    try:
        view = save_view(actor=request.user, name=form.cleaned_data["name"], filters=filters,
                         sort=CaseSort(sort) if sort in CaseSort.values else CaseSort.NEWEST,
                         shared=form.cleaned_data["shared"])  # fmt: skip
    except DomainError as error:
        messages.error(request, error.message)
        return _back(request, reverse("web:inbox"))
    messages.success(request, f"Saved the view “{view.name}”.")
    return HttpResponseRedirect(f"{reverse('web:inbox')}?view=saved-{view.pk}")


@require_POST
@staff_view
def delete_inbox_view(request: StaffRequest, view_id: int) -> HttpResponse:
    view = access_saved_view(request.user, view_id)
    delete_saved_view(actor=request.user, view=view)
    messages.success(request, f"Deleted the view “{view.name}”.")
    return HttpResponseRedirect(reverse("web:inbox"))


def _bulk_change(actor: User, form: BulkForm) -> tuple[Callable[[Case], object], str]:
    """The action to call once per case, and how to describe the change."""
    op = form.cleaned_data["op"]
    if op == "assign":
        who = form.cleaned_data["assignee"]
        if who == "none":
            return (lambda case: update_case(actor=actor, case=case, assignee=None)), "unassigned"
        target = actor if who == "me" else next((u for u in staff_members() if str(u.pk) == who), None)
        if target is None:
            raise Invalid("Choose whom to assign the cases to.", field="assignee")
        return (lambda case: update_case(actor=actor, case=case, assignee=target)), f"assigned to {target.name}"
    if op == "status":
        status = form.cleaned_data["status"]
        if not status:
            raise Invalid("Choose a status.", field="status")
        label = CaseStatus(status).label.lower()
        return (lambda case: change_status(actor=actor, case=case, status=CaseStatus(status))), f"set to {label}"
    tag = form.cleaned_data["tag"].strip()
    if not tag:
        raise Invalid("Type a tag to add.", field="tag")
    return (lambda case: update_case(actor=actor, case=case, add_tags=[tag])), f"tagged “{tag.lower()}”"


@require_POST
@staff_view
def bulk(request: StaffRequest) -> HttpResponse:
    """Apply one change to many cases: one action call per case, one summary.

    Each case is changed in its own transaction, so one refusal (a closed case,
    an illegal move) leaves the others done; the summary names the first few
    refusals and counts the rest. "Not done." when no case changed, "Partly
    done." when some did.
    """
    fallback = reverse("web:inbox")
    if len(request.POST.getlist("cases")) > MAX_BULK_CASES:
        messages.error(request, f"Select at most {MAX_BULK_CASES} cases for one change.")
        return _back(request, fallback)
    form = BulkForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Select at least one case and a change to make.")
        return _back(request, fallback)
    try:
        apply, described = _bulk_change(request.user, form)
    except DomainError as error:
        messages.error(request, error.message)
        return _back(request, fallback)
    wanted = list(dict.fromkeys(form.cleaned_data["cases"]))  # a case ticked twice is changed once
    found = {c.pk: c for c in cases_visible_to(request.user).filter(pk__in=wanted)}
    done: list[str] = []
    refused: list[str] = []
    for case_id in wanted:
        case = found.get(case_id)
        if case is None:
            refused.append(f"Case {case_id} was not found.")
            continue
        try:
            apply(case)
        except DomainError as error:
            refused.append(_naming(case, error.message))
        else:
            done.append(case.number)
    if not refused:
        messages.success(request, _changed(len(done), described))
    elif not done:
        messages.error(request, f"No case was changed. {_refusals(refused)}")
    else:
        messages.warning(request, f"{_changed(len(done), described)} Not changed: {_refusals(refused)}")
    return _back(request, fallback)


def _changed(count: int, described: str) -> str:
    return f"{count} {'case' if count == 1 else 'cases'} {described}."


def _naming(case: Case, message: str) -> str:
    """The refusal as one sentence that names the case once (most messages name it already)."""
    text = message.strip()
    if not text.endswith((".", "!", "?")):
        text += "."
    return text if case.number in text else f"{case.number}: {text}"


def _refusals(refused: list[str]) -> str:
    """The first few refusals, then how many more: a bulk change of 100 cases stays one readable line."""
    named = " ".join(refused[:NAMED_REFUSALS])
    more = len(refused) - NAMED_REFUSALS
    return f"{named} Also not changed: {more} more {'case' if more == 1 else 'cases'}." if more > 0 else named
