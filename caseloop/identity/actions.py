"""Every write to identity: users, teams, memberships and API tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from caseloop.core import clock
from caseloop.core.errors import Invalid
from caseloop.identity.choices import Role
from caseloop.identity.errors import IdentityError, IdentityErrorCode
from caseloop.identity.models import ApiToken, Membership, Team, User

TOKEN_PREFIX = "cl_"  # noqa: S105  (the public prefix of every token, not a secret)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_user(
    *,
    username: str,
    email: str = "",
    password: str | None = None,
    role: Role = Role.AGENT,
    display_name: str = "",
    check_password_strength: bool = True,
) -> User:
    username = username.strip()
    if not username:
        raise Invalid("A username is required.", field="username")
    if User.objects.filter(username__iexact=username).exists():
        raise IdentityError(IdentityErrorCode.USERNAME_TAKEN, f"Username {username!r} is taken.", status=409)
    email = email.strip().lower()
    if email and User.objects.filter(email__iexact=email).exists():
        raise IdentityError(IdentityErrorCode.EMAIL_TAKEN, f"{email} already has an account.", status=409)
    user = User(username=username, email=email, role=role, display_name=display_name)
    user.is_superuser = user.is_staff = role == Role.ADMIN
    if password:
        if check_password_strength:
            try:
                validate_password(password, user)
            except ValidationError as exc:
                raise IdentityError(IdentityErrorCode.WEAK_PASSWORD, " ".join(exc.messages)) from exc
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    return user


def create_team(*, name: str, description: str = "") -> Team:
    name = name.strip()
    if not name:
        raise Invalid("A team needs a name.", field="name")
    slug = slugify(name)
    if Team.objects.filter(slug=slug).exists():
        raise IdentityError(IdentityErrorCode.TEAM_NAME_TAKEN, f"Team {name!r} exists.", status=409)
    return Team.objects.create(name=name, slug=slug, description=description)


def add_member(*, team: Team, user: User, is_lead: bool = False) -> Membership:
    membership, _ = Membership.objects.update_or_create(team=team, user=user, defaults={"is_lead": is_lead})
    return membership


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: ApiToken
    plain: str  # shown to the person once; never stored


def create_token(*, user: User, name: str = "default") -> IssuedToken:
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    plain = f"{TOKEN_PREFIX}{prefix}_{secret}"
    token = ApiToken.objects.create(user=user, name=name, prefix=prefix, digest=_digest(plain))
    return IssuedToken(token=token, plain=plain)


def revoke_token(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        token.save(update_fields=["revoked_at"])
    return token


def authenticate_token(plain: str) -> User | None:
    """The active user a bearer token belongs to, or None.

    Writes last_used_at at most once a minute per token, so an API read does
    not turn into a write on every request.
    """
    if not plain.startswith(TOKEN_PREFIX) or plain.count("_") < 2:
        return None
    prefix = plain[len(TOKEN_PREFIX) :].split("_", 1)[0]
    token = ApiToken.objects.select_related("user").filter(prefix=prefix).first()
    if token is None or not hmac.compare_digest(token.digest, _digest(plain)):
        return None
    now = clock.now()
    if token.revoked_at is not None or (token.expires_at and token.expires_at <= now):
        return None
    if not token.user.is_active:
        return None
    touch_after = settings.CASELOOP_TOKEN_TOUCH_SECONDS
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > touch_after:
        with transaction.atomic():
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
