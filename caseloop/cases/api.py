"""Cases, their messages, search and custom fields: parse, call one action or selector, answer.

Permission lives in the selectors: a case the caller may not see is a 404,
exactly like one that does not exist. `{case_ref}` is the id or the number
(`CL-10234`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache, partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Min
from django.http import HttpRequest, HttpResponse
from django.urls import get_script_prefix, reverse
from ninja import Query, Router, Status

from caseloop.cases.actions import (
    MessageInput,
    add_message,
    change_status,
    create_case,
    create_custom_field,
    update_case,
)
from caseloop.cases.attachments import AttachmentInput
from caseloop.cases.choices import Channel, Direction
from caseloop.cases.errors import CaseError, CaseErrorCode
from caseloop.cases.models import Case, CustomFieldDefinition, Message
from caseloop.cases.schemas import (
    AttachmentIn,
    CaseCreateIn,
    CaseOut,
    CasePatch,
    CaseQuery,
    CustomFieldIn,
    CustomFieldOut,
    MessageIn,
    MessageOut,
    SearchOut,
    SearchQuery,
)
from caseloop.cases.search import search
from caseloop.cases.selectors import (
    CaseFilter,
    access_case,
    case_page,
    cases_visible_to,
    messages_visible_to,
    parse_case_number,
)
from caseloop.core.errors import CommonErrorCode, DomainError, Invalid, NotFound, PermissionDenied
from caseloop.core.pagination import Page, PageOut, PageQuery, page_of
from caseloop.core.schemas import MAX_ID, changes_of
from caseloop.customers.actions import ContactDraft, draft_contact, find_or_create_contact
from caseloop.customers.choices import IdentityKind
from caseloop.customers.models import Asset, Contact, Organization, Site
from caseloop.customers.selectors import (
    access_asset,
    access_contact,
    access_organization,
    access_site,
    find_contact_by_identity,
)
from caseloop.identity.api import actor_of
from caseloop.identity.choices import Role
from caseloop.identity.models import Team, User
from caseloop.identity.selectors import require_staff

router = Router()


# --- resolving what a body names -----------------------------------------------------------
def _api_channel(actor: User, channel: Channel | None) -> Channel | None:
    """The channel a body names. The actions take the portal's from a customer (the portal's pages name it
    for them); through the API a customer or partner writes through the API, and names none."""
    if channel is not None and not actor.is_staff_member:
        raise PermissionDenied("Customers and partners cannot choose the channel; through the API it is api.")
    return channel


def _case_id(case_ref: str) -> int:
    case_id = parse_case_number(case_ref)
    if case_id is None or not 1 <= case_id <= MAX_ID:
        raise NotFound("Case", case_ref)
    return case_id


def _team(team_id: int | None) -> Team | None:
    if team_id is None:
        return None
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise NotFound("Team", team_id)
    return team


def _user(user_id: int | None) -> User | None:
    if user_id is None:
        return None
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise NotFound("User", user_id)
    return user


def _organization(actor: User, organization_id: int | None) -> Organization | None:
    return access_organization(actor, organization_id) if organization_id is not None else None


def _partner(actor: User, organization_id: int | None) -> Organization | None:
    # partners are organizations of another kind; the action checks the kind
    return _organization(actor, organization_id)


def _site(actor: User, site_id: int | None) -> Site | None:
    return access_site(actor, site_id) if site_id is not None else None


def _asset(actor: User, asset_id: int | None) -> Asset | None:
    return access_asset(actor, asset_id) if asset_id is not None else None


def _attachments(items: Sequence[AttachmentIn]) -> tuple[AttachmentInput, ...]:
    return tuple(AttachmentInput(filename=a.filename, content=a.content, content_type=a.content_type) for a in items)


def _identity(payload: CaseCreateIn) -> tuple[IdentityKind, str]:
    who = payload.requester
    kind, value = (IdentityKind.EMAIL, who.email) if who.email is not None else (IdentityKind.PHONE, who.phone)
    assert value is not None  # the schema requires exactly one of id, email, phone
    return kind, value


def _known_requester(actor: User, payload: CaseCreateIn) -> Contact | None:
    """The requester when it exists and may be named by the caller; None: it must be made (or refused).

    Read before the create's transaction: on SQLite a write transaction holds
    the database's one write lock, so reads are kept out of it.
    """
    if payload.requester.id is not None:
        return access_contact(actor, payload.requester.id)
    if not actor.is_staff_member:
        return None  # find_or_create_contact checks that a customer names themselves
    kind, value = _identity(payload)
    return find_contact_by_identity(kind, value)


# --- reading cases as the caller may see them ------------------------------------------------
def _annotate_page(actor: User, cases: Sequence[Case]) -> None:
    """First message and visible message count for a page of cases, in one query.

    A customer's count leaves internal notes out (the stored count includes
    them); staff read the stored count.
    """
    if not cases:
        return
    messages = Message.objects.filter(case_id__in=[c.pk for c in cases])
    if not actor.is_staff_member:
        messages = messages.exclude(direction=Direction.NOTE)
    rows = messages.order_by().values("case_id").annotate(first=Min("id"), n=Count("id"))
    found = {r["case_id"]: r for r in rows}
    for case in cases:
        row = found.get(case.pk)
        case.api_first_message_id = row["first"] if row else None  # type: ignore[attr-defined]
        if not actor.is_staff_member:
            case.api_message_count = row["n"] if row else 0  # type: ignore[attr-defined]


def _case_out(actor: User, case_id: int) -> Case:
    case = access_case(actor, case_id)
    _annotate_page(actor, [case])
    return case


@cache
def _case_path_template() -> str:
    # reversed once per process (reverse() walks the URL resolver); the script prefix can differ per request
    return reverse("api:get_case", kwargs={"case_ref": "0"}).removeprefix(get_script_prefix())[:-1] + "{}"


def _case_location(case: Case) -> str:
    return get_script_prefix() + _case_path_template().format(case.pk)


# --- cases ---------------------------------------------------------------------------------
@router.get("/cases", response=PageOut[CaseOut], tags=["cases"])
def list_cases(request: HttpRequest, filters: Query[CaseQuery]) -> Page[Case]:
    actor = actor_of(request)
    assignee_id: int | None = None
    if filters.assignee:
        if filters.assignee == "me":
            assignee_id = actor.pk
        elif filters.assignee.isdigit() and 1 <= int(filters.assignee) <= MAX_ID:
            assignee_id = int(filters.assignee)
        else:
            raise Invalid('assignee is a user id or "me".', field="assignee")
    case_filter = CaseFilter(
        status=[str(s) for s in filters.status],
        open_only=filters.open,
        priority=[str(p) for p in filters.priority],
        channel=[str(c) for c in filters.channel],
        team_id=filters.team,
        assignee_id=assignee_id,
        unassigned=filters.unassigned,
        requester_id=filters.requester,
        organization_id=filters.organization,
        site_id=filters.site,
        asset_id=filters.asset,
        tag=filters.tag.strip().lower() if filters.tag else None,
    )
    page = case_page(actor, case_filter, sort=filters.sort, cursor=filters.cursor, limit=filters.limit)
    _annotate_page(actor, page.cases)
    return Page(items=page.cases, next_cursor=page.next_cursor)


@router.post(
    "/cases",
    response={201: CaseOut, 200: CaseOut},
    tags=["cases"],
    description="201 with the new case; 200 with the existing case when `external_id` was seen before.",
)
def create_case_route(request: HttpRequest, payload: CaseCreateIn, response: HttpResponse) -> Status[Case]:
    actor = actor_of(request)
    if actor.role == Role.PARTNER:
        # a partner works the cases attributed to it; a case it opened for itself would be work nobody gave it
        raise PermissionDenied("New cases come from customers and staff; partners work the cases given to them.")
    body = None
    if payload.message is not None:
        body = MessageInput(body_text=payload.message.body_text, body_html=payload.message.body_html,
                            attachments=_attachments(payload.message.attachments),
                            external_id=payload.external_id)  # fmt: skip
    elif payload.external_id is not None:
        raise Invalid("external_id needs a message: it is recognised on the case's first message.",
                      field="external_id")  # fmt: skip
    requester: Contact | ContactDraft | None = _known_requester(actor, payload)
    if requester is None:
        kind, value = _identity(payload)
        name = payload.requester.name or ""
        # staff: a contact for the new address, made in the case's transaction (refused together, kept
        # together); a customer may only name themselves, which find_or_create_contact checks
        requester = (draft_contact(actor=actor, kind=kind, value=value, name=name) if actor.is_staff_member
                     else find_or_create_contact(actor=actor, kind=kind, value=value, name=name))  # fmt: skip
    result = create_case(
        actor=actor,
        requester=requester,
        subject=payload.subject,
        body=body,
        channel=_api_channel(actor, payload.channel),
        priority=payload.priority,
        team=_team(payload.team),
        assignee=_user(payload.assignee),
        organization=_organization(actor, payload.organization),
        site=_site(actor, payload.site),
        asset=_asset(actor, payload.asset),
        partner=_partner(actor, payload.partner),
        tags=payload.tags,
        custom_fields=payload.custom_fields,
    )
    case = result.case
    response["Location"] = _case_location(case)
    if result.duplicate:
        if not cases_visible_to(actor).filter(pk=case.pk).exists():
            # someone else's message has this id: refuse without showing their case
            raise DomainError(CommonErrorCode.CONFLICT, "This external_id is in use.", status=409,
                              field="external_id")  # fmt: skip
        return Status(200, _case_out(actor, case.pk))
    # everything the answer shows is at hand: no query but the tags, and only when some were given
    case.api_first_message_id = result.message.pk if result.message else None  # type: ignore[attr-defined]
    if not payload.tags:
        case.tag_names = []  # type: ignore[attr-defined]
    return Status(201, case)


@router.get("/cases/{case_ref}", response=CaseOut, tags=["cases"])
def get_case(request: HttpRequest, case_ref: str) -> Case:
    return _case_out(actor_of(request), _case_id(case_ref))


@router.patch(
    "/cases/{case_ref}",
    response=CaseOut,
    tags=["cases"],
    description="Change fields and/or status in one transaction: if any part is refused, nothing changes.",
)
def patch_case(request: HttpRequest, case_ref: str, payload: CasePatch) -> Case:
    actor = actor_of(request)
    changes = changes_of(payload, nullable=frozenset({"team", "assignee", "organization", "site", "asset",
                                                      "partner"}))  # fmt: skip
    with transaction.atomic():
        case = access_case(actor, _case_id(case_ref))
        status = changes.pop("status", None)
        override_reason = changes.pop("override_reason", None)
        if override_reason is not None and status is None:
            raise Invalid("override_reason goes with a status change.", field="override_reason")
        fields: dict[str, Any] = {}
        for name in ("subject", "priority", "custom_fields"):
            if name in changes:
                fields[name] = changes[name]
        resolvers: dict[str, Callable[[Any], Any]] = {
            "team": _team, "assignee": _user, "organization": partial(_organization, actor),
            "site": partial(_site, actor), "asset": partial(_asset, actor), "partner": partial(_partner, actor),
        }  # fmt: skip
        for name, resolve in resolvers.items():
            if name in changes:
                fields[name] = resolve(changes[name])
        add_tags = list(changes.get("add_tags") or [])
        remove_tags = list(changes.get("remove_tags") or [])
        if "tags" in changes:
            wanted = {t.strip().lower() for t in changes["tags"]}
            current = set(case.tags.values_list("name", flat=True))
            add_tags += sorted(wanted - current)
            remove_tags += sorted(current - wanted)
        if add_tags or remove_tags:
            fields["add_tags"], fields["remove_tags"] = add_tags, remove_tags
        if fields:
            update_case(actor=actor, case=case, **fields)
        if status is not None:
            change_status(actor=actor, case=case, status=status, override_reason=override_reason or "")
    return _case_out(actor, case.pk)


# --- messages -----------------------------------------------------------------------------
@router.get("/cases/{case_ref}/messages", response=PageOut[MessageOut], tags=["messages"],
            description="Newest first; a customer never sees internal notes.")  # fmt: skip
def list_messages(request: HttpRequest, case_ref: str, page: Query[PageQuery]) -> Page[Message]:
    actor = actor_of(request)
    case = access_case(actor, _case_id(case_ref))
    return page_of(messages_visible_to(actor, case), cursor=page.cursor, limit=page.limit)


@router.post("/cases/{case_ref}/messages", response={201: MessageOut, 200: MessageOut}, tags=["messages"],
             description="201 with the new message; 200 with the earlier one when `external_id` was seen "
                         "before on this case.")  # fmt: skip
def post_message(request: HttpRequest, case_ref: str, payload: MessageIn) -> Status[Message]:
    actor = actor_of(request)
    case = access_case(actor, _case_id(case_ref))
    body = MessageInput(body_text=payload.body_text, body_html=payload.body_html,
                        attachments=_attachments(payload.attachments), external_id=payload.external_id)  # fmt: skip
    channel = _api_channel(actor, payload.channel)
    result = add_message(actor=actor, case=case, direction=payload.direction, body=body, channel=channel)
    if result.message.case_id != case.pk:  # a redelivery is to the same case; this is another case's id
        raise _external_id_taken(actor, result.message)
    visible = messages_visible_to(actor, case).filter(pk=result.message.pk).first()
    if visible is None:
        # a note on this case that the caller may not read has the id
        raise DomainError(CommonErrorCode.CONFLICT, "This external_id is in use.", status=409, field="external_id")
    return Status(200 if result.duplicate else 201, visible)


def _external_id_taken(actor: User, holder: Message) -> DomainError:
    """The refusal of an external_id another case's message holds: which case, for a caller who may read it.

    Anyone else learns only that the id is in use (`conflict`), never whether or where.
    """
    case = cases_visible_to(actor).filter(pk=holder.case_id).first()
    if case is None or not messages_visible_to(actor, case).filter(pk=holder.pk).exists():
        return DomainError(CommonErrorCode.CONFLICT, "This external_id is in use.", status=409, field="external_id")
    return CaseError(CaseErrorCode.EXTERNAL_ID_TAKEN,
                     f"external_id {holder.external_id!r} is already used by a message on {case.number} "
                     f"({holder.channel}); an external_id names one message.", status=409,
                     field="external_id")  # fmt: skip


# --- search ---------------------------------------------------------------------------------
@router.get("/search", response=SearchOut, tags=["search"],
            description="Ranked hits in case subjects and messages, the matched words in <mark>.")  # fmt: skip
def search_cases(request: HttpRequest, params: Query[SearchQuery]) -> dict[str, Any]:
    actor = actor_of(request)
    staff = actor.is_staff_member
    hits = search(params.q, visible_cases=None if staff else cases_visible_to(actor), include_notes=staff,
                  limit=params.limit)  # fmt: skip
    subjects = dict(Case.objects.filter(pk__in={h.case_id for h in hits}).values_list("id", "subject"))
    prefix = settings.CASELOOP_CASE_NUMBER_PREFIX
    return {"items": [
        {"case_id": h.case_id, "number": f"{prefix}-{h.case_id}", "subject": subjects.get(h.case_id, ""),
         "message_id": h.message_id, "snippet_html": h.snippet_html, "rank": h.rank}
        for h in hits
    ]}  # fmt: skip


# --- custom fields ---------------------------------------------------------------------------
@router.get("/custom-fields", response=PageOut[CustomFieldOut], tags=["custom fields"],
            description="The fields every case carries (staff).")  # fmt: skip
def list_custom_fields(request: HttpRequest, page: Query[PageQuery]) -> Page[CustomFieldDefinition]:
    require_staff(actor_of(request))
    return page_of(CustomFieldDefinition.objects.all(), cursor=page.cursor, limit=page.limit)


@router.post("/custom-fields", response={201: CustomFieldOut}, tags=["custom fields"],
             description="Add a field to every case (administrators).")  # fmt: skip
def create_custom_field_route(request: HttpRequest, payload: CustomFieldIn) -> Status[CustomFieldDefinition]:
    return Status(201, create_custom_field(actor=actor_of(request), **payload.model_dump()))
