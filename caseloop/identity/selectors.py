"""Reads and permission checks about people."""

from __future__ import annotations

from caseloop.core.errors import PermissionDenied
from caseloop.identity.choices import Role
from caseloop.identity.models import Team, User


def require_staff(actor: User | None) -> None:
    """Refuse unless the actor works for us (None is the system itself)."""
    if actor is not None and not actor.is_staff_member:
        raise PermissionDenied("Only staff can do that.")


def require_role(actor: User | None, *roles: Role) -> None:
    if actor is not None and actor.role not in roles:
        allowed = ", ".join(r.label for r in roles)
        raise PermissionDenied(f"Only {allowed} can do that.")


def team_ids_of(user: User) -> list[int]:
    return list(user.memberships.values_list("team_id", flat=True))


def teams() -> list[Team]:
    return list(Team.objects.order_by("name"))
