"""The phone channel's entry in the channel registry."""

from __future__ import annotations

from caseloop.cases.choices import Channel
from caseloop.channels.registry import register_channel


@register_channel
class PhoneAdapter:
    kind = Channel.PHONE.value
    label = "Phone"

    def deliver(self, *, message_id: int) -> None:
        """An outbound phone-channel message was committed.

        A logged call (it has a `Call`) already happened: nothing to send. A
        written reply on a phone case cannot be spoken, so it goes to the
        caller's number as a text message, with its delivery state and the
        caller's STOP respected like any other text.
        """
        from caseloop.channels.phone.models import Call
        from caseloop.channels.sms.actions import queue_sms_for_message

        if Call.objects.filter(message_id=message_id).exists():
            return
        queue_sms_for_message(message_id=message_id)
