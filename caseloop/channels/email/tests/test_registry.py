"""The channel registry: email registers at start-up, the registry is then frozen."""

from __future__ import annotations

import pytest

from caseloop.cases.choices import Channel
from caseloop.channels import registry
from caseloop.channels.email.adapter import EmailAdapter


def test_email_adapter_is_registered_and_the_registry_freezes_on_first_lookup():
    adapter = registry.adapter_for(Channel.EMAIL)
    assert isinstance(adapter, EmailAdapter)
    assert registry.is_frozen()
    assert "email" in registry.registered_kinds()
    assert registry.adapter_for(Channel.API) is None  # a channel that delivers nothing


def test_registering_after_start_up_fails_loudly():
    registry.adapter_for(Channel.EMAIL)

    class LateAdapter:
        kind = "late"
        label = "Late"

        def deliver(self, *, message_id: int) -> None:
            raise AssertionError("never called")

    with pytest.raises(registry.RegistryFrozen):
        registry.register_channel(LateAdapter)
    assert "late" not in registry.registered_kinds()


def test_an_adapter_must_implement_the_protocol():
    class NotAnAdapter:
        kind = "broken"

    with pytest.raises(TypeError):
        registry.register_channel(NotAnAdapter)
