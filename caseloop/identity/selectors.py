"""Reads and permission checks about people."""

from __future__ import annotations

from django.db.models import QuerySet

from caseloop.core.errors import NotFound, PermissionDenied
from caseloop.identity.choices import STAFF_ROLES, Role
from caseloop.identity.models import ApiToken, Team, User


def require_staff(actor: User | None) -> None:
    """Refuse unless the actor works for us (None is the system itself)."""
    if actor is not None and not actor.is_staff_member:
        raise PermissionDenied("Only staff can do that.")


def require_role(actor: User | None, *roles: Role) -> None:
    if actor is not None and actor.role not in roles:
        raise PermissionDenied(f"Only {who_may(roles)} can do that.")


def who_may(roles: tuple[Role, ...]) -> str:
    """The roles in words, for a sentence: "an administrator", "service managers and administrators"."""
    if len(roles) == 1:
        label = roles[0].label.lower()
        return f"{'an' if label[0] in 'aeiou' else 'a'} {label}"
    plural = [f"{r.label.lower()}s" for r in roles]
    return f"{', '.join(plural[:-1])} and {plural[-1]}"


def team_ids_of(user: User) -> list[int]:
    return list(user.memberships.values_list("team_id", flat=True))


def teams() -> list[Team]:
    return list(Team.objects.order_by("name"))


def tokens_of(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)


def access_token(actor: User, token_id: int) -> ApiToken:
    """One of the actor's own tokens; someone else's is not found (its existence is not told)."""
    token = tokens_of(actor).filter(pk=token_id).first()
    if token is None:
        raise NotFound("Token", token_id)
    return token


def users_visible_to(actor: User) -> QuerySet[User]:
    """Staff see everyone who signs in; nobody else sees other users."""
    require_staff(actor)
    return User.objects.all()


def teams_visible_to(actor: User) -> QuerySet[Team]:
    require_staff(actor)
    return Team.objects.all()


def staff_members() -> list[User]:
    """Active people who can be assigned cases, by name (the assignee pickers)."""
    return list(
        User.objects.filter(role__in=list(STAFF_ROLES), is_active=True).order_by("display_name", "username", "id")
    )
