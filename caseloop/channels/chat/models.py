"""The live chat channel's records: widgets on other websites, chats, and reps ready to chat."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from caseloop.cases.models import Case
from caseloop.channels.chat.choices import ChatKind, ChatState, EndedBy
from caseloop.customers.models import Contact
from caseloop.identity.models import Team


class ChatWidget(models.Model):
    """A chat box placed on websites with one script tag.

    `key` is public (it is in the page's HTML); what protects a widget is
    `allowed_origins`, checked on every request from the page, so another site
    cannot put our chat on its pages. `hours` (optional) is a weekly schedule in
    `time_zone`: {"mon": [["09:00", "17:00"]], …}; outside it nobody is
    available and visitors leave their email instead.
    """

    key = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=100, unique=True)
    allowed_origins = models.JSONField(default=list, help_text='e.g. ["https://shop.example.com"]')
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="chat_widgets")
    greeting = models.CharField(max_length=300, default="Hi! How can we help?")
    offline_text = models.CharField(
        max_length=300, default="Nobody can chat right now. Leave your email and question and we will answer by email."
    )
    hours = models.JSONField(default=dict, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.name


class Chat(models.Model):
    """One conversation started from a widget; its messages are the case's conversation.

    A live chat is reached by the visitor through a random token kept in their
    browser; only its SHA-256 is stored. An offline chat (nobody available) is
    the visitor's email and question, filed as an email case and answered by
    email; it has no token. `delivered_message_id` is the newest message the
    visitor's stream has sent them, `visitor_seen_at` when their page last
    listened: the case page shows both.
    """

    widget = models.ForeignKey(ChatWidget, on_delete=models.PROTECT, related_name="chats")
    kind = models.CharField(max_length=10, choices=ChatKind.choices, default=ChatKind.LIVE)
    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="chat")
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="chats")
    token_digest = models.CharField(max_length=64, unique=True, null=True, blank=True)
    visitor_name = models.CharField(max_length=100, blank=True)
    visitor_email = models.CharField(max_length=254, blank=True, help_text="as typed; not verified")
    origin = models.CharField(max_length=200)
    page_url = models.CharField(max_length=500, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=ChatState.choices, default=ChatState.OPEN)
    ended_by = models.CharField(max_length=10, choices=EndedBy.choices, blank=True)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    visitor_seen_at = models.DateTimeField(null=True, blank=True)
    delivered_message_id = models.BigIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["state", "started_at"], name="chat_state_started"),
            models.Index(fields=["ip_address", "started_at"], name="chat_ip_started"),
        ]

    def __str__(self) -> str:
        return f"chat {self.pk} on {self.widget} ({self.state})"


class ChatAgent(models.Model):
    """A rep's last sign of being ready to chat (the chat queue or a chat case open in their browser).

    In the database, not in process memory, so every app server agrees on
    whether anyone is available. `away`: the rep said they take no new chats
    (their pages still show them, and they still answer the chats they have).
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_agent")
    last_seen = models.DateTimeField(db_index=True)
    away = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.user} (seen {self.last_seen:%H:%M:%S})"
