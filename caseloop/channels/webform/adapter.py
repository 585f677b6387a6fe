"""The web form's entry in the channel registry.

A web page cannot answer anyone, so a reply on a web-form case is emailed to
the customer through the email channel's outbound queue (threading headers,
retries, loop protection and a delivery state, as every email has).
"""

from __future__ import annotations

from caseloop.cases.choices import Channel
from caseloop.channels.registry import register_channel


@register_channel
class WebFormAdapter:
    kind = Channel.WEB.value
    label = "Web form"

    def deliver(self, *, message_id: int) -> None:
        from caseloop.channels.email.actions import queue_outbound_for_message

        queue_outbound_for_message(message_id=message_id, channels=(Channel.WEB,))
