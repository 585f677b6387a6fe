"""`/me`, `/tokens`, `/teams` and `/users`: parse, call one selector or action, answer."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status

from caseloop.core.pagination import Page, PageOut, PageQuery, page_of
from caseloop.identity.actions import create_token, revoke_token
from caseloop.identity.models import User
from caseloop.identity.schemas import MeOut, TeamOut, TokenCreated, TokenIn, TokenOut, UserOut, UserQuery
from caseloop.identity.selectors import access_token, teams_visible_to, tokens_of, users_visible_to

router = Router(tags=["people"])


def actor_of(request: HttpRequest) -> User:
    """The authenticated caller (set by the API's auth before any route runs)."""
    user: User = request.auth  # type: ignore[attr-defined]
    return user


@router.get("/me", response=MeOut, summary="Who am I")
def me(request: HttpRequest) -> dict[str, Any]:
    user = actor_of(request)
    try:
        contact_id: int | None = user.contact.pk  # the reverse one-to-one of customers.Contact
    except ObjectDoesNotExist:
        contact_id = None
    return {
        "id": user.pk, "username": user.username, "name": user.name, "email": user.email, "role": user.role,
        "is_active": user.is_active, "is_staff_member": user.is_staff_member, "time_zone": user.time_zone,
        "teams": [{"id": t.pk, "name": t.name} for t in user.teams.order_by("name")], "contact_id": contact_id,
    }  # fmt: skip


@router.get("/tokens", response=PageOut[TokenOut], summary="My API tokens")
def list_tokens(request: HttpRequest, page: Query[PageQuery]) -> Page[Any]:
    return page_of(tokens_of(actor_of(request)), cursor=page.cursor, limit=page.limit)


@router.post("/tokens", response={201: TokenCreated}, summary="Create an API token for myself")
def create_my_token(request: HttpRequest, payload: TokenIn, response: HttpResponse) -> Status[dict[str, Any]]:
    issued = create_token(user=actor_of(request), name=payload.name.strip() or "default")
    # the secret is shown this once: no cache (nor a stored Idempotency-Key answer) may keep it
    response["Cache-Control"] = "no-store"
    token = issued.token
    return Status(201, {
        "id": token.pk, "name": token.name, "prefix": token.prefix, "created_at": token.created_at,
        "last_used_at": None, "revoked_at": None, "expires_at": token.expires_at, "token": issued.plain,
    })  # fmt: skip


@router.delete("/tokens/{token_id}", response={204: None}, summary="Revoke one of my tokens")
def revoke_my_token(request: HttpRequest, token_id: int) -> Status[None]:
    revoke_token(token=access_token(actor_of(request), token_id))
    return Status(204, None)


@router.get("/teams", response=PageOut[TeamOut], summary="Teams (staff)")
def list_teams(request: HttpRequest, page: Query[PageQuery]) -> Page[Any]:
    return page_of(teams_visible_to(actor_of(request)), cursor=page.cursor, limit=page.limit)


@router.get("/users", response=PageOut[UserOut], summary="People who sign in (staff)")
def list_users(request: HttpRequest, filters: Query[UserQuery]) -> Page[Any]:
    qs = users_visible_to(actor_of(request))
    if filters.role is not None:
        qs = qs.filter(role=filters.role)
    if filters.team is not None:
        qs = qs.filter(memberships__team_id=filters.team)
    if filters.is_active is not None:
        qs = qs.filter(is_active=filters.is_active)
    return page_of(qs, cursor=filters.cursor, limit=filters.limit)
