from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings

from caseloop.core import clock
from caseloop.core.errors import DomainError
from caseloop.identity.actions import authenticate_token, create_team, create_token, create_user, revoke_token, sign_in
from caseloop.identity.choices import Role
from caseloop.identity.errors import IdentityErrorCode
from caseloop.identity.models import ApiToken, LoginFailure, User

pytestmark = pytest.mark.django_db


def test_token_is_hashed_at_rest_and_authenticates(agent):
    issued = create_token(user=agent, name="laptop")
    stored = ApiToken.objects.get(pk=issued.token.pk)
    assert issued.plain.startswith(f"cl_{stored.prefix}_")
    assert issued.plain not in (stored.digest, stored.prefix)
    assert len(stored.digest) == 64
    assert authenticate_token(issued.plain) == agent


def test_wrong_secret_revoked_or_expired_token_is_refused(agent):
    issued = create_token(user=agent)
    tampered = issued.plain[:-2] + ("AA" if not issued.plain.endswith("AA") else "BB")
    assert authenticate_token(tampered) is None
    assert authenticate_token("garbage") is None
    assert authenticate_token("cl_") is None
    revoke_token(token=issued.token)
    assert authenticate_token(issued.plain) is None
    other = create_token(user=agent)
    ApiToken.objects.filter(pk=other.token.pk).update(expires_at=clock.now() - dt.timedelta(seconds=1))
    assert authenticate_token(other.plain) is None


def test_inactive_user_token_is_refused(agent):
    issued = create_token(user=agent)
    User.objects.filter(pk=agent.pk).update(is_active=False)
    assert authenticate_token(issued.plain) is None


def test_last_used_is_written_at_most_once_a_minute(agent):
    issued = create_token(user=agent)
    start = dt.datetime(2026, 5, 1, 9, 0, tzinfo=dt.UTC)
    with clock.frozen_at(start):
        authenticate_token(issued.plain)
    with clock.frozen_at(start + dt.timedelta(seconds=30)):
        authenticate_token(issued.plain)
    assert ApiToken.objects.get(pk=issued.token.pk).last_used_at == start
    later = start + dt.timedelta(minutes=5)
    with clock.frozen_at(later):
        authenticate_token(issued.plain)
    assert ApiToken.objects.get(pk=issued.token.pk).last_used_at == later


def test_usernames_emails_and_teams_are_unique():
    create_user(username="alice", email="alice@x.test", password="a-long-pass-phrase-1")
    with pytest.raises(DomainError) as excinfo:
        create_user(username="ALICE", password="a-long-pass-phrase-1")
    assert excinfo.value.code == IdentityErrorCode.USERNAME_TAKEN
    with pytest.raises(DomainError) as excinfo:
        create_user(username="alice2", email="Alice@X.test")
    assert excinfo.value.code == IdentityErrorCode.EMAIL_TAKEN
    create_team(name="Front line")
    with pytest.raises(DomainError) as excinfo:
        create_team(name="front line")
    assert excinfo.value.code == IdentityErrorCode.TEAM_NAME_TAKEN


def test_weak_password_refused_and_admin_role_grants_django_admin():
    with pytest.raises(DomainError) as excinfo:
        create_user(username="weak", password="123")
    assert excinfo.value.code == IdentityErrorCode.WEAK_PASSWORD
    assert not User.objects.filter(username="weak").exists()
    admin = create_user(username="root", role=Role.ADMIN, password="a-long-pass-phrase-1")
    assert admin.is_superuser and admin.is_staff_member
    customer = create_user(username="c", role=Role.CUSTOMER)
    assert not customer.is_staff_member and not customer.has_usable_password()


def _failures(count: int, *, identifier: str = "alice", ip: str = "10.0.0.1") -> None:
    for _ in range(count):
        with pytest.raises(DomainError) as excinfo:
            sign_in(request=None, identifier=identifier, password="wrong", ip_address=ip)
        assert excinfo.value.code == IdentityErrorCode.LOGIN_INVALID


@override_settings(CASELOOP_LOGIN_MAX_FAILURES=3, CASELOOP_LOGIN_WINDOW_SECONDS=600)
def test_sign_in_by_username_or_email_and_lockout_after_failures():
    user = create_user(username="alice", email="alice@x.test", password="a-long-pass-phrase-1")
    start = dt.datetime(2026, 5, 1, 9, 0, tzinfo=dt.UTC)
    with clock.frozen_at(start):
        assert sign_in(request=None, identifier="alice", password="a-long-pass-phrase-1", ip_address=None) == user
        assert sign_in(request=None, identifier="ALICE@x.test", password="a-long-pass-phrase-1",
                       ip_address="10.0.0.1") == user  # fmt: skip
        _failures(3)
        with pytest.raises(DomainError) as excinfo:
            # even the right password is refused while locked
            sign_in(request=None, identifier="Alice", password="a-long-pass-phrase-1", ip_address="10.0.0.9")
        assert excinfo.value.code == IdentityErrorCode.LOGIN_LOCKED and excinfo.value.status == 429
        assert "10 minutes" in excinfo.value.message
        assert LoginFailure.objects.count() == 3
    with clock.frozen_at(start + dt.timedelta(minutes=10, seconds=1)):
        assert sign_in(request=None, identifier="alice", password="a-long-pass-phrase-1", ip_address=None) == user
        assert not LoginFailure.objects.filter(username_key="alice").exists()


@override_settings(CASELOOP_LOGIN_MAX_FAILURES=100, CASELOOP_LOGIN_MAX_FAILURES_PER_IP=4)
def test_one_address_guessing_many_usernames_is_locked_out():
    create_user(username="bob", password="a-long-pass-phrase-1")
    for name in ("u1", "u2", "u3", "u4"):
        _failures(1, identifier=name, ip="192.0.2.7")
    with pytest.raises(DomainError) as excinfo:
        sign_in(request=None, identifier="bob", password="a-long-pass-phrase-1", ip_address="192.0.2.7")
    assert excinfo.value.code == IdentityErrorCode.LOGIN_LOCKED
    # another address is not affected
    assert (
        sign_in(request=None, identifier="bob", password="a-long-pass-phrase-1", ip_address="192.0.2.8").username
        == "bob"
    )
