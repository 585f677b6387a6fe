"""The portal's entry in the channel registry.

A customer is not watching the portal when a rep answers, so a reply on a
case opened or answered in the portal is emailed to them (through the email
channel's outbound queue) as well as shown in the portal; answering that email
continues the same case.
"""

from __future__ import annotations

from caseloop.cases.choices import Channel
from caseloop.channels.registry import register_channel


@register_channel
class PortalAdapter:
    kind = Channel.PORTAL.value
    label = "Customer portal"

    def deliver(self, *, message_id: int) -> None:
        from caseloop.channels.email.actions import queue_outbound_for_message

        queue_outbound_for_message(message_id=message_id, channels=(Channel.PORTAL,))
