"""Promises, the kept rate and notices through the REST API: parse, call one action or selector, answer."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Status

from caseloop.cases.models import Case
from caseloop.cases.selectors import access_case, parse_case_number
from caseloop.core.errors import NotFound
from caseloop.core.pagination import Page, PageOut, page_of
from caseloop.core.schemas import MAX_ID
from caseloop.customers.models import Organization
from caseloop.identity.api import actor_of
from caseloop.identity.models import Team, User
from caseloop.promises import actions, selectors
from caseloop.promises.choices import PromiseKind
from caseloop.promises.models import Notice, Promise
from caseloop.promises.schemas import (
    KeepIn,
    KeptRateOut,
    KeptRateQuery,
    NoticeOut,
    NoticeQuery,
    NoticesReadIn,
    PromiseIn,
    PromiseOut,
    PromisePageOut,
    PromiseQuery,
    PromiseView,
    ReleaseIn,
    ToldPromiseOut,
)

router = Router(tags=["promises"])


def case_by_ref(actor: User, ref: str) -> Case:
    """A case by id or number that the actor may see; anything else is not found."""
    case_id = parse_case_number(ref)
    if case_id is None or not 1 <= case_id <= MAX_ID:
        raise NotFound("Case", ref)
    return access_case(actor, case_id)


def _owner(payload: PromiseIn) -> actions.Owner:
    user = User.objects.filter(pk=payload.owner_user).first() if payload.owner_user else None
    team = Team.objects.filter(pk=payload.owner_team).first() if payload.owner_team else None
    partner = Organization.objects.filter(pk=payload.owner_partner).first() if payload.owner_partner else None
    for given, found, what in (
        (payload.owner_user, user, "User"),
        (payload.owner_team, team, "Team"),
        (payload.owner_partner, partner, "Organization"),
    ):
        if given is not None and found is None:
            raise NotFound(what, given)
    return actions.Owner(user=user, team=team, partner=partner)


def _as_seen_by(actor: User, promise: Promise) -> Promise | ToldPromiseOut:
    """Staff read a promise whole; a customer or a partner only as the customer was told it."""
    return promise if actor.is_staff_member else ToldPromiseOut.model_validate(selectors.as_told(promise))


OUTSIDE = (
    " Staff read each promise whole (PromiseOut); a customer or a partner reads only the promises the customer "
    "was told of, as told (ToldPromiseOut): a customer those made to them, a partner those on its attributed cases."
)


@router.get("/promises", response=PromisePageOut,
            description="Promises newest first (or yours, soonest due: staff)." + OUTSIDE)  # fmt: skip
def list_promises(request: HttpRequest, params: Query[PromiseQuery]) -> Page[Promise | ToldPromiseOut]:
    actor = actor_of(request)
    if params.mine:
        return Page(items=list(selectors.promises_owed_by(actor)[: params.limit]), next_cursor=None)
    staff = actor.is_staff_member
    qs = selectors.promises_visible_to(actor)
    qs = qs.select_related("owner_user", "owner_team", "owner_partner") if staff else qs.only(*selectors.TOLD_FIELDS)
    if params.case is not None:
        qs = qs.filter(case_id=case_by_ref(actor, params.case).pk)
    if params.state is not None:
        qs = qs.filter(state=params.state) if staff else qs.filter(selectors.standing_filter(params.state))
    page = page_of(qs, cursor=params.cursor, limit=params.limit)
    return Page(items=[_as_seen_by(actor, p) for p in page.items], next_cursor=page.next_cursor)


@router.post("/promises", response={201: PromiseOut}, description="Record a promise made to the case's customer.")
def make_promise(request: HttpRequest, payload: PromiseIn) -> Status[Promise]:
    actor = actor_of(request)
    case = case_by_ref(actor, payload.case)
    promise = actions.make_promise(
        actor=actor,
        case=case,
        kind=PromiseKind(payload.kind),
        description=payload.description,
        due_at=payload.due_at,
        owner=_owner(payload),
        window_start=payload.window_start,
    )
    return Status(201, promise)


@router.get(
    "/promises/kept-rate",
    response=list[KeptRateOut],
    description="The promise-kept rate per person, team, kind or partner, over promises due in [since, until).",
)
def kept_rate(request: HttpRequest, params: Query[KeptRateQuery]) -> list[dict[str, object]]:
    rows = selectors.kept_rates(actor_of(request), by=params.by, since=params.since, until=params.until)
    return [{"key": r.key, "label": r.label, "kept": r.kept, "broken": r.broken, "rate": r.rate} for r in rows]


@router.get("/promises/{promise_id}", response=PromiseView, description="One promise." + OUTSIDE)
def get_promise(request: HttpRequest, promise_id: int) -> Promise | ToldPromiseOut:
    actor = actor_of(request)
    return _as_seen_by(actor, selectors.access_promise(actor, promise_id))


@router.post("/promises/{promise_id}/kept", response=PromiseOut, description="Mark kept by hand (before it is due).")
def mark_kept(request: HttpRequest, promise_id: int, payload: KeepIn) -> Promise:
    actor = actor_of(request)
    return actions.mark_kept(actor=actor, promise=selectors.access_promise(actor, promise_id), note=payload.note)


@router.post(
    "/promises/{promise_id}/release",
    response=PromiseOut,
    description="Let a promise go (the customer no longer needs it), with the reason.",
)
def release(request: HttpRequest, promise_id: int, payload: ReleaseIn) -> Promise:
    actor = actor_of(request)
    return actions.release_promise(
        actor=actor, promise=selectors.access_promise(actor, promise_id), reason=payload.reason
    )


@router.get("/notices", response=PageOut[NoticeOut], description="Your notices, newest first.")
def list_notices(request: HttpRequest, params: Query[NoticeQuery]) -> Page[Notice]:
    actor = actor_of(request)
    qs = selectors.unread_notices(actor) if params.unread else selectors.notices_of(actor)
    return page_of(qs, cursor=params.cursor, limit=params.limit)


@router.post("/notices/read", response=dict[str, int], description="Mark your notices read (these, or all).")
def read_notices(request: HttpRequest, payload: NoticesReadIn) -> dict[str, int]:
    return {"marked": actions.mark_notices_read(actor=actor_of(request), ids=payload.ids)}
