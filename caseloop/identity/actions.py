"""Every write to identity: users, teams, memberships and API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models, transaction
from django.http import HttpRequest
from django.utils.text import slugify

from caseloop.core import clock, stamps
from caseloop.core.errors import Invalid
from caseloop.core.fastdb import build_with, row_with
from caseloop.identity.choices import Role
from caseloop.identity.errors import IdentityError, IdentityErrorCode
from caseloop.identity.models import TOKEN_TABLES, ApiToken, LoginFailure, Membership, Team, User

TOKEN_PREFIX = "cl_"  # noqa: S105  (the public prefix of every token, not a secret)
# a kept token check is read again after this long even if no stamp changed (a lost trigger cannot keep a
# revoked token working for longer); one read per token per process per minute
TOKEN_KEPT_SECONDS = 60.0


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


USERNAME_MAX_LENGTH = 150  # User.username's max_length (Django's AbstractUser)
EMAIL_MAX_LENGTH = 254  # User.email's max_length
TOKEN_NAME_MAX_LENGTH = 100  # ApiToken.name's max_length


def check_new_username(username: str) -> str:
    """The username as it would be stored, or Invalid/USERNAME_TAKEN: what the model and its unique index allow."""
    username = username.strip()
    if not username:
        raise Invalid("A username is required.", field="username")
    if len(username) > USERNAME_MAX_LENGTH:
        raise Invalid(f"A username has at most {USERNAME_MAX_LENGTH} characters.", field="username")
    try:
        User.username_validator(username)
    except ValidationError as exc:
        raise Invalid("A username may contain only letters, digits and the characters @.+-_", field="username") from exc
    if User.objects.filter(username__iexact=username).exists():
        raise IdentityError(IdentityErrorCode.USERNAME_TAKEN, f"Username {username!r} is taken.", status=409)
    return username


def check_new_email(email: str) -> str:
    """The email address as it would be stored (may be empty), or Invalid/EMAIL_TAKEN."""
    email = email.strip().lower()
    if not email:
        return email
    try:
        if len(email) > EMAIL_MAX_LENGTH:
            raise ValidationError("too long")
        validate_email(email)
    except ValidationError as exc:
        raise Invalid(f"{email!r} is not an email address.", field="email") from exc
    if User.objects.filter(email__iexact=email).exists():
        raise IdentityError(IdentityErrorCode.EMAIL_TAKEN, f"{email} already has an account.", status=409)
    return email


def create_user(
    *,
    username: str,
    email: str = "",
    password: str | None = None,
    role: Role = Role.AGENT,
    display_name: str = "",
    check_password_strength: bool = True,
) -> User:
    """A new user; `password=None` (or empty) makes one who cannot sign in with a password (portal customers)."""
    username = check_new_username(username)
    email = check_new_email(email)
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
    name = name.strip()
    if not name:
        raise Invalid("A token needs a name.", field="name")
    if len(name) > TOKEN_NAME_MAX_LENGTH:
        raise Invalid(f"A token's name has at most {TOKEN_NAME_MAX_LENGTH} characters.", field="name")
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


def _token_row(prefix: str) -> tuple[Any, ...] | None:
    return row_with(ApiToken, "user", prefix=prefix)


def authenticate_token(plain: str) -> User | None:
    """The active user a bearer token belongs to, or None.

    Writes last_used_at at most once a minute per token, so an API read does
    not turn into a write on every request.
    """
    if not plain.startswith(TOKEN_PREFIX) or plain.count("_") < 2:
        return None
    prefix = plain[len(TOKEN_PREFIX) :].split("_", 1)[0]
    # every API request asks: the row is kept per process while the token and user tables are unchanged
    # (core.stamps), read otherwise with one prepared join (core.fastdb); each request builds its own instances
    row = stamps.cached_by(TOKEN_TABLES, prefix, _token_row, max_age_s=TOKEN_KEPT_SECONDS)
    token = None if row is None else build_with(ApiToken, "user", row)
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


# --- signing in: username or email, throttled against guessing -----------------
def _login_key(identifier: str) -> str:
    return identifier.strip().lower()[:254]


def _login_window() -> dt.timedelta:
    return dt.timedelta(seconds=settings.CASELOOP_LOGIN_WINDOW_SECONDS)


def login_locked_until(*, identifier: str, ip_address: str | None) -> dt.datetime | None:
    """When sign-in for this identifier (or from this address) opens again; None if open now.

    Locked once the identifier has CASELOOP_LOGIN_MAX_FAILURES failures within
    the window, or the address CASELOOP_LOGIN_MAX_FAILURES_PER_IP; it opens
    when enough of those failures have aged out of the window.
    """
    now = clock.now()
    since = now - _login_window()
    limits: list[tuple[models.QuerySet[LoginFailure], int]] = [
        (LoginFailure.objects.filter(username_key=_login_key(identifier)), settings.CASELOOP_LOGIN_MAX_FAILURES)
    ]
    if ip_address:
        limits.append((LoginFailure.objects.filter(ip_address=ip_address), settings.CASELOOP_LOGIN_MAX_FAILURES_PER_IP))
    until: dt.datetime | None = None
    for failures, limit in limits:
        # the limit-th newest failure inside the window decides when the lock lifts
        times = list(failures.filter(at__gt=since).order_by("-at").values_list("at", flat=True)[:limit])
        if len(times) >= limit:
            lifts = times[limit - 1] + _login_window()
            until = lifts if until is None else max(until, lifts)
    return until


def _record_login_failure(*, identifier: str, ip_address: str | None) -> None:
    now = clock.now()
    with transaction.atomic():
        # old failures no longer count; removing them here keeps the table small
        LoginFailure.objects.filter(at__lt=now - _login_window()).delete()
        LoginFailure.objects.create(username_key=_login_key(identifier), ip_address=ip_address or None, at=now)


def sign_in(*, request: HttpRequest | None, identifier: str, password: str, ip_address: str | None) -> User:
    """The user these credentials belong to, or a refusal with a code.

    `identifier` is a username or an email address; failures are counted per account (an email
    that names one counts as its username) and per client address. A locked account or
    address is refused before the password is even checked, so guessing gains
    nothing while locked; a wrong password and an unknown name are refused
    alike, so the answer does not tell which accounts exist.
    """
    username = identifier.strip()
    if "@" in username:
        by_email = User.objects.filter(email__iexact=username).values_list("username", flat=True).first()
        username = by_email or username
    # failures count against the account, not the name typed: its username and its email are one counter
    until = login_locked_until(identifier=username, ip_address=ip_address)
    if until is not None:
        minutes = max(1, math.ceil((until - clock.now()).total_seconds() / 60))
        raise IdentityError(
            IdentityErrorCode.LOGIN_LOCKED,
            f"Too many failed sign-ins. For your security, sign-in is paused; try again in {minutes} "
            f"minute{'s' if minutes != 1 else ''}, or reset your password.",
            status=429,
        )
    user = authenticate(request, username=username, password=password)
    if not isinstance(user, User):
        _record_login_failure(identifier=username, ip_address=ip_address)
        raise IdentityError(IdentityErrorCode.LOGIN_INVALID, "That username or email and password do not match.")
    LoginFailure.objects.filter(username_key=_login_key(username)).delete()
    return user
