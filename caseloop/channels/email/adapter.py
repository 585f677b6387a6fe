"""The email channel's entry in the channel registry."""

from __future__ import annotations

from caseloop.cases.choices import Channel
from caseloop.channels.registry import register_channel


@register_channel
class EmailAdapter:
    kind = Channel.EMAIL.value
    label = "Email"

    def deliver(self, *, message_id: int) -> None:
        """An outbound email-channel message was committed: queue its email (no-op if already queued)."""
        from caseloop.channels.email.actions import queue_outbound_for_message

        queue_outbound_for_message(message_id=message_id)
