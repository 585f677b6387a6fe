"""Secrets at rest: sealed with the first key, opened by any configured key, unreadable after a key change."""

from __future__ import annotations

import pytest
from django.test import override_settings

from caseloop.core.secretbox import PREFIX, SecretUnreadable, is_sealed, reseal, seal, unseal

OLD, NEW = "old-key-" + "x" * 30, "new-key-" + "y" * 30


def test_a_sealed_secret_is_not_the_secret_and_opens_again():
    stored = seal("hunter2 päss")
    assert stored.startswith(PREFIX) and "hunter2" not in stored and is_sealed(stored)
    assert unseal(stored) == "hunter2 päss"
    assert seal("hunter2 päss") != stored  # a fresh IV every time: equal secrets do not look equal


def test_empty_stays_empty():
    assert seal("") == "" and unseal("") == "" and reseal("") == ""


def test_the_key_is_derived_from_secret_key_when_no_secrets_key_is_set():
    with override_settings(CASELOOP_SECRETS_KEY="", SECRET_KEY=OLD, SECRET_KEY_FALLBACKS=[]):
        stored = seal("pw")
    with override_settings(CASELOOP_SECRETS_KEY="", SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=[OLD]):
        assert unseal(stored) == "pw"  # Django's fallback keys open it too
    with (
        override_settings(CASELOOP_SECRETS_KEY="", SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=[]),
        pytest.raises(SecretUnreadable),
    ):
        unseal(stored)


def test_rotation_the_first_key_seals_every_key_opens_reseal_moves_to_the_first():
    with override_settings(CASELOOP_SECRETS_KEY=OLD):
        stored = seal("pw")
    with override_settings(CASELOOP_SECRETS_KEY=f"{NEW}, {OLD}"):
        assert unseal(stored) == "pw"
        moved = reseal(stored)
    with override_settings(CASELOOP_SECRETS_KEY=NEW):
        assert unseal(moved) == "pw"
        with pytest.raises(SecretUnreadable):
            unseal(stored)  # the old key is gone: what it sealed cannot be read


def test_plain_or_damaged_values_are_refused_not_returned():
    with pytest.raises(SecretUnreadable):
        unseal("plain-text-password")
    with pytest.raises(SecretUnreadable):
        unseal(PREFIX + "not-a-token")
    with pytest.raises(SecretUnreadable):
        reseal("plain-text-password")


def test_moving_from_the_secret_key_to_a_dedicated_key_keeps_what_was_sealed():
    with override_settings(CASELOOP_SECRETS_KEY="", SECRET_KEY=OLD, SECRET_KEY_FALLBACKS=[]):
        stored = seal("pw")
    # the secret key's value listed after the new key opens it: a key is stretched the same wherever it comes from
    with override_settings(CASELOOP_SECRETS_KEY=f"{NEW},{OLD}", SECRET_KEY="another", SECRET_KEY_FALLBACKS=[]):
        assert unseal(stored) == "pw"
