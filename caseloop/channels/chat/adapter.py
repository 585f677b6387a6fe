"""The live chat channel's entry in the channel registry."""

from __future__ import annotations

from caseloop.cases.choices import Channel
from caseloop.channels.registry import register_channel


@register_channel
class ChatAdapter:
    kind = Channel.CHAT.value
    label = "Live chat"

    def deliver(self, *, message_id: int) -> None:
        """Nothing is pushed: the visitor's page reads new messages from the database.

        The stream (`views.stream`) polls for the case's messages, so whichever
        app server holds the visitor's connection delivers a reply written on
        any other; an answer written after the visitor left is there when they
        come back (their browser keeps the chat's token).
        """
