"""Sign-in throttling counts an account's failures once, whichever of its names is typed (ADR 0076).

The failures were counted per identifier as typed: an account's username and its email were two
counters, so a guesser had twice CASELOOP_LOGIN_MAX_FAILURES tries per window against one account.
"""

from __future__ import annotations

import pytest
from django.test import override_settings

from caseloop.core.errors import DomainError
from caseloop.identity.actions import create_user, sign_in
from caseloop.identity.errors import IdentityErrorCode
from caseloop.identity.models import LoginFailure

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-pass-phrase-1"


def _refusal(identifier: str) -> str:
    with pytest.raises(DomainError) as excinfo:
        sign_in(request=None, identifier=identifier, password="wrong", ip_address=None)
    return str(excinfo.value.code)


@override_settings(CASELOOP_LOGIN_MAX_FAILURES=3)
def test_guesses_by_username_and_by_email_share_one_count() -> None:
    create_user(username="alice", email="alice@x.test", password=PASSWORD)
    # given two wrong guesses by username and one by email
    assert [_refusal("alice"), _refusal("alice"), _refusal("Alice@X.test")] == [IdentityErrorCode.LOGIN_INVALID] * 3
    # then the account is locked by either name, even with the right password
    for identifier in ("alice", "alice@x.test"):
        with pytest.raises(DomainError) as excinfo:
            sign_in(request=None, identifier=identifier, password=PASSWORD, ip_address=None)
        assert excinfo.value.code == IdentityErrorCode.LOGIN_LOCKED
    assert list(LoginFailure.objects.values_list("username_key", flat=True)) == ["alice"] * 3


@override_settings(CASELOOP_LOGIN_MAX_FAILURES=3)
def test_a_success_by_email_clears_the_accounts_count_and_unknown_addresses_count_as_typed() -> None:
    user = create_user(username="alice", email="alice@x.test", password=PASSWORD)
    _refusal("alice")
    _refusal("alice")
    assert sign_in(request=None, identifier="ALICE@x.test", password=PASSWORD, ip_address=None) == user
    assert not LoginFailure.objects.filter(username_key="alice").exists()
    _refusal("nobody@x.test")
    assert LoginFailure.objects.filter(username_key="nobody@x.test").count() == 1
