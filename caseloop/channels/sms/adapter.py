"""The SMS channel's entry in the channel registry."""

from __future__ import annotations

from caseloop.cases.choices import Channel
from caseloop.channels.registry import register_channel


@register_channel
class SmsAdapter:
    kind = Channel.SMS.value
    label = "SMS"

    def deliver(self, *, message_id: int) -> None:
        """An outbound SMS-channel message was committed: queue its text (no-op if already queued)."""
        from caseloop.channels.sms.actions import queue_sms_for_message

        queue_sms_for_message(message_id=message_id)
