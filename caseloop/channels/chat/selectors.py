"""Reads of the live chat channel: widgets by key, chats by token, who is available, what a visitor sees."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import OuterRef, QuerySet, Subquery

from caseloop.cases.choices import Channel, Direction
from caseloop.cases.models import Case, Message
from caseloop.channels.chat.choices import ChatKind, ChatState
from caseloop.channels.chat.errors import ChatError, ChatErrorCode
from caseloop.channels.chat.hours import is_open
from caseloop.channels.chat.models import Chat, ChatAgent, ChatWidget
from caseloop.core import clock
from caseloop.core.errors import NotFound
from caseloop.identity.choices import STAFF_ROLES, Role
from caseloop.identity.models import User
from caseloop.identity.selectors import require_role, require_staff

PUBLIC_DIRECTIONS = (Direction.INBOUND, Direction.OUTBOUND)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def widget_by_key(key: str) -> ChatWidget:
    widget = ChatWidget.objects.filter(key=key, active=True).select_related("team").first() if key else None
    if widget is None:
        raise ChatError(ChatErrorCode.WIDGET_NOT_FOUND, "There is no such chat widget.", status=404)
    return widget


def chat_by_token(widget: ChatWidget, token: str) -> Chat:
    """The live chat a visitor's token opens (in this widget only)."""
    chat = (
        Chat.objects.filter(token_digest=token_digest(token), widget=widget, kind=ChatKind.LIVE)
        .select_related("case", "contact")
        .first()
        if token
        else None
    )
    if chat is None:
        raise ChatError(ChatErrorCode.BAD_TOKEN, "This chat is not known here; start a new one.", status=404)
    return chat


def available_agents(widget: ChatWidget, *, now: dt.datetime | None = None) -> QuerySet[ChatAgent]:
    """Reps ready to chat for this widget: seen recently, active staff, in the widget's team (any team if none)."""
    since = (now or clock.now()) - dt.timedelta(seconds=settings.CASELOOP_CHAT_AGENT_SECONDS)
    agents = ChatAgent.objects.filter(
        last_seen__gte=since, away=False, user__is_active=True, user__role__in=list(STAFF_ROLES)
    )
    if widget.team_id is not None:
        agents = agents.filter(user__memberships__team_id=widget.team_id)
    return agents


def is_available(widget: ChatWidget, *, now: dt.datetime | None = None) -> bool:
    """Someone can chat now: within the widget's hours, and a rep of its team is there."""
    moment = now or clock.now()
    return (
        is_open(widget.hours, time_zone=widget.time_zone, at=moment) and available_agents(widget, now=moment).exists()
    )


def _rep_name(row: Mapping[str, Any]) -> str:
    """A rep as visitors see them: their first name, never their user name."""
    display = (row["author_user__display_name"] or "").split()
    return str(row["author_user__first_name"] or (display[0] if display else "") or "Support")


def visitor_messages(case_id: int, *, after: int, limit: int = 100) -> list[dict[str, Any]]:
    """The chat messages of a case a visitor sees (theirs and the reps' replies, never notes), oldest first."""
    rows = (
        Message.objects.filter(case_id=case_id, id__gt=after, channel=Channel.CHAT, direction__in=PUBLIC_DIRECTIONS)
        .order_by("id")
        .values("id", "direction", "body_text", "created_at", "author_user__first_name", "author_user__display_name")[
            :limit
        ]
    )
    return [
        {
            "id": row["id"],
            "from": "visitor" if row["direction"] == Direction.INBOUND else "agent",
            "name": "" if row["direction"] == Direction.INBOUND else _rep_name(row),
            "text": row["body_text"],
            "at": row["created_at"].isoformat(),
        }
        for row in rows
    ]


def is_taking_chats(actor: User, *, now: dt.datetime | None = None) -> bool:
    """The rep said *Take chats* and a chat page has kept them available since (not away, seen recently)."""
    since = (now or clock.now()) - dt.timedelta(seconds=settings.CASELOOP_CHAT_AGENT_SECONDS)
    return ChatAgent.objects.filter(user_id=actor.pk, away=False, last_seen__gte=since).exists()


def chat_state(chat_id: int) -> str | None:
    return Chat.objects.filter(pk=chat_id).values_list("state", flat=True).first()


def chat_of_case(actor: User, case: Case) -> Chat | None:
    require_staff(actor)
    return Chat.objects.filter(case=case).select_related("widget").first()


def replies_not_delivered(chat: Chat) -> int:
    """Replies of reps that the visitor's page has not been sent yet (they are away, or their page reconnects)."""
    return Message.objects.filter(
        case_id=chat.case_id, channel=Channel.CHAT, direction=Direction.OUTBOUND, id__gt=chat.delivered_message_id
    ).count()


def latest_message_id(case: Case) -> int:
    return Message.objects.filter(case=case).order_by("-id").values_list("id", flat=True).first() or 0


@dataclass(frozen=True, slots=True)
class QueueRow:
    chat: Chat
    waiting_since: dt.datetime | None  # the visitor's unanswered message, if the last word is theirs


def open_chats(actor: User) -> list[QueueRow]:
    """Live chats not ended, those waiting for an answer first (longest wait first)."""
    require_staff(actor)
    last = Message.objects.filter(case=OuterRef("case"), channel=Channel.CHAT, direction__in=PUBLIC_DIRECTIONS)
    chats = (
        Chat.objects.filter(kind=ChatKind.LIVE, state=ChatState.OPEN)
        .select_related("case", "case__assignee", "contact", "widget")
        .annotate(
            last_direction=Subquery(last.order_by("-id").values("direction")[:1]),
            last_at=Subquery(last.order_by("-id").values("created_at")[:1]),
        )
        .order_by("started_at")[:200]
    )
    rows = [QueueRow(c, c.last_at if c.last_direction == Direction.INBOUND else None) for c in chats]
    return sorted(rows, key=lambda r: (r.waiting_since is None, r.waiting_since or r.chat.started_at))


def widgets_for_admin(actor: User) -> list[ChatWidget]:
    require_role(actor, Role.ADMIN)
    return list(ChatWidget.objects.select_related("team").order_by("name"))


def access_widget(actor: User, widget_id: int) -> ChatWidget:
    require_role(actor, Role.ADMIN)
    widget = ChatWidget.objects.filter(pk=widget_id).first()
    if widget is None:
        raise NotFound("Chat widget", widget_id)
    return widget
