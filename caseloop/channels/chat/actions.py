"""Every write of the live chat channel.

Visitors (no account; a chat's token is their key) start chats, write, and end
them; when nobody can chat they leave their email and question instead, which
is answered by email. Reps answer from the case page with the ordinary
`add_message` (channel chat); being on the chat queue or a chat case marks them
available (`touch_agent`). Administrators set up widgets.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Value
from django.db.models.functions import Greatest

from caseloop.cases.actions import MessageInput, add_message, create_case
from caseloop.cases.choices import Channel, Direction
from caseloop.cases.models import Message
from caseloop.channels.chat.choices import ChatKind, ChatState, EndedBy
from caseloop.channels.chat.errors import ChatError, ChatErrorCode
from caseloop.channels.chat.hours import BadHours, Hours, check_time_zone
from caseloop.channels.chat.models import Chat, ChatAgent, ChatWidget
from caseloop.channels.chat.origins import NotAnOrigin, normalise_origin
from caseloop.channels.chat.selectors import is_available, token_digest
from caseloop.core import clock
from caseloop.core.errors import Invalid
from caseloop.customers.actions import IdentityInput, create_contact, find_or_create_contact
from caseloop.customers.choices import IdentityKind
from caseloop.identity.choices import Role
from caseloop.identity.models import Team, User
from caseloop.identity.selectors import require_role, require_staff
from caseloop.timeline.actions import record_audit, record_event
from caseloop.timeline.choices import SubjectKind as S

MAX_TEXT = 4000
MAX_NAME = 100
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
AGENT_TOUCH_SECONDS = 15  # a rep's "still here" is written at most this often


# --- widgets (administrators) ------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class WidgetInput:
    name: str
    allowed_origins: Sequence[str]
    team: Team | None = None
    greeting: str = "Hi! How can we help?"
    offline_text: str = "Nobody can chat right now. Leave your email and question and we will answer by email."
    hours: Hours | None = None
    time_zone: str = "UTC"
    active: bool = True


def _clean_widget(data: WidgetInput) -> dict[str, object]:
    name = data.name.strip()
    if not name or len(name) > 100:
        raise Invalid("A widget needs a name of at most 100 characters.", field="name")
    origins: list[str] = []
    for raw in data.allowed_origins:
        if not raw.strip():
            continue
        try:
            origin = normalise_origin(raw)
        except NotAnOrigin as exc:
            raise ChatError(ChatErrorCode.BAD_ORIGIN, str(exc), field="allowed_origins") from exc
        if origin not in origins:
            origins.append(origin)
    if not origins:
        raise ChatError(ChatErrorCode.BAD_ORIGIN, "List at least one website origin (https://shop.example).",
                        field="allowed_origins")  # fmt: skip
    try:
        check_time_zone(data.time_zone)
    except BadHours as exc:
        raise ChatError(ChatErrorCode.BAD_HOURS, str(exc), field="time_zone") from exc
    greeting, offline = data.greeting.strip(), data.offline_text.strip()
    if not greeting or len(greeting) > 300 or not offline or len(offline) > 300:
        raise Invalid("The greeting and the offline text are 1 to 300 characters.", field="greeting")
    return {
        "name": name,
        "allowed_origins": origins,
        "team": data.team,
        "greeting": greeting,
        "offline_text": offline,
        "hours": data.hours or {},
        "time_zone": data.time_zone,
        "active": data.active,
    }


def create_widget(*, actor: User | None, data: WidgetInput) -> ChatWidget:
    require_role(actor, Role.ADMIN)
    fields = _clean_widget(data)
    now = clock.now()
    try:
        with transaction.atomic():
            widget = ChatWidget.objects.create(key=secrets.token_urlsafe(12), created_at=now, updated_at=now, **fields)
            record_audit(action="chat_widget.create", object_type="chat_widget", object_id=widget.pk, actor=actor,
                         after={**fields, "team": data.team.pk if data.team else None})  # fmt: skip
    except IntegrityError as exc:
        raise ChatError(ChatErrorCode.WIDGET_NAME_TAKEN, f"There is already a widget named {fields['name']!r}.",
                        status=409, field="name") from exc  # fmt: skip
    return widget


def update_widget(*, actor: User | None, widget: ChatWidget, data: WidgetInput) -> ChatWidget:
    require_role(actor, Role.ADMIN)
    fields = _clean_widget(data)
    before = {"name": widget.name, "allowed_origins": widget.allowed_origins, "team": widget.team_id,
              "hours": widget.hours, "active": widget.active}  # fmt: skip
    try:
        with transaction.atomic():
            for name, value in fields.items():
                setattr(widget, name, value)
            widget.updated_at = clock.now()
            widget.save()
            record_audit(action="chat_widget.update", object_type="chat_widget", object_id=widget.pk, actor=actor,
                         before=before, after={**fields, "team": data.team.pk if data.team else None})  # fmt: skip
    except IntegrityError as exc:
        raise ChatError(ChatErrorCode.WIDGET_NAME_TAKEN, f"There is already a widget named {fields['name']!r}.",
                        status=409, field="name") from exc  # fmt: skip
    return widget


# --- visitors ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Visitor:
    """Who is asking, as the widget's request tells it (nothing here is verified)."""

    origin: str
    ip_address: str | None
    page_url: str = ""
    name: str = ""
    email: str = ""


def _clean_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise ChatError(ChatErrorCode.EMPTY, "Write a message first.", field="text")
    if len(text) > MAX_TEXT:
        raise ChatError(ChatErrorCode.TOO_LONG, f"A chat message is at most {MAX_TEXT} characters.", status=413,
                        field="text")  # fmt: skip
    return text


def _clean_email(email: str, *, required: bool) -> str:
    email = email.strip().lower()
    if not email and not required:
        return ""
    try:
        validate_email(email)
    except ValidationError as exc:
        raise Invalid("That is not an email address.", field="email") from exc
    return email


def _subject(text: str) -> str:
    first = text.splitlines()[0].strip()
    return first[:80] + ("…" if len(first) > 80 else "")


def _check_start_rate(visitor: Visitor) -> None:
    """At most CASELOOP_CHAT_STARTS_PER_IP_PER_HOUR chats (live or offline) per address per hour, counted in the
    database so every app server agrees."""
    if visitor.ip_address is None:
        return
    since = clock.now() - dt.timedelta(hours=1)
    if Chat.objects.filter(ip_address=visitor.ip_address, started_at__gte=since).count() >= int(
        settings.CASELOOP_CHAT_STARTS_PER_IP_PER_HOUR
    ):
        raise ChatError(ChatErrorCode.RATE_LIMITED, "Too many chats from here; please try again later.", status=429)


@dataclass(frozen=True, slots=True)
class StartedChat:
    chat: Chat
    token: str  # shown once, to the visitor's browser; only its digest is stored
    message: Message


def start_chat(*, widget: ChatWidget, visitor: Visitor, text: str) -> StartedChat:
    """A visitor's first message opens a case (channel chat, the widget's team) and the chat.

    The visitor becomes a new contact with a chat handle: an email typed into a
    chat box is not proof of who someone is, so it is kept on the chat for the
    rep to see and never ties the visitor to an existing customer (a rep can
    merge the contacts after checking).
    """
    text = _clean_text(text)
    name = visitor.name.strip()[:MAX_NAME]
    email = _clean_email(visitor.email, required=False)
    _check_start_rate(visitor)
    if not is_available(widget):
        raise ChatError(ChatErrorCode.NOBODY_AVAILABLE, "Nobody can chat right now; leave your email instead.",
                        status=409)  # fmt: skip
    token = secrets.token_urlsafe(32)
    now = clock.now()
    with transaction.atomic():
        contact = create_contact(actor=None, name=name or "Chat visitor",
                                 identities=[IdentityInput(IdentityKind.CHAT, f"chat-{uuid.uuid4().hex}")])  # fmt: skip
        created = create_case(actor=None, requester=contact, subject=_subject(text), body=MessageInput(body_text=text),
                              channel=Channel.CHAT, team=widget.team, opened_at=now)  # fmt: skip
        assert created.message is not None
        chat = Chat.objects.create(widget=widget, kind=ChatKind.LIVE, case=created.case, contact=contact,
                                   token_digest=token_digest(token), visitor_name=name, visitor_email=email,
                                   origin=visitor.origin, page_url=visitor.page_url[:500],
                                   ip_address=visitor.ip_address, started_at=now, visitor_seen_at=now)  # fmt: skip
        record_event(kind="chat.started", subjects=[(S.CASE, created.case.pk), (S.CONTACT, contact.pk)],
                     case_id=created.case.pk, occurred_at=now,
                     summary=f"Chat started on {widget.name} ({visitor.page_url or visitor.origin})",
                     data={"chat": chat.pk, "widget": widget.pk, "origin": visitor.origin})  # fmt: skip
    return StartedChat(chat=chat, token=token, message=created.message)


def leave_offline_message(*, widget: ChatWidget, visitor: Visitor, text: str) -> Chat:
    """Nobody can chat: the visitor's email and question become a case answered by email.

    The person is found (or made) by their email identity, like any email
    sender; the case is an email case, so the rep's answer from the case page
    goes out through the email channel to that address. Nothing is emailed now:
    an automatic confirmation would let anyone make us mail any address.
    """
    text = _clean_text(text)
    email = _clean_email(visitor.email, required=True)
    name = visitor.name.strip()[:MAX_NAME]
    _check_start_rate(visitor)
    now = clock.now()
    with transaction.atomic():
        contact = find_or_create_contact(actor=None, kind=IdentityKind.EMAIL, value=email, name=name)
        case = create_case(actor=None, requester=contact, subject=_subject(text), body=None, channel=Channel.EMAIL,
                           team=widget.team, opened_at=now).case  # fmt: skip
        # the message itself came through the chat box; the answer goes by email
        add_message(actor=None, case=case, direction=Direction.INBOUND, body=MessageInput(body_text=text),
                    channel=Channel.CHAT, author_contact=contact, occurred_at=now)  # fmt: skip
        case.refresh_from_db()  # add_message counted the message on its own copy of the row
        chat = Chat.objects.create(widget=widget, kind=ChatKind.OFFLINE, case=case, contact=contact,
                                   visitor_name=name, visitor_email=email, origin=visitor.origin,
                                   page_url=visitor.page_url[:500], ip_address=visitor.ip_address,
                                   state=ChatState.ENDED, ended_by=EndedBy.VISITOR, started_at=now,
                                   ended_at=now)  # fmt: skip
        record_event(kind="chat.offline_message", subjects=[(S.CASE, case.pk), (S.CONTACT, contact.pk)],
                     case_id=case.pk, occurred_at=now,
                     summary=f"Left a message on {widget.name} while nobody could chat; answer goes to {email}",
                     data={"chat": chat.pk, "widget": widget.pk})  # fmt: skip
    return chat


def _check_message_rate(chat: Chat) -> None:
    since = clock.now() - dt.timedelta(minutes=1)
    sent = Message.objects.filter(case_id=chat.case_id, direction=Direction.INBOUND, channel=Channel.CHAT,
                                  created_at__gte=since).count()  # fmt: skip
    if sent >= int(settings.CASELOOP_CHAT_MESSAGES_PER_MINUTE):
        raise ChatError(ChatErrorCode.RATE_LIMITED, "Slow down a little, please.", status=429)


def visitor_says(*, chat: Chat, text: str, client_id: str = "") -> Message:
    """A visitor's message in an open chat. `client_id` (the page's own id for it) makes a retried send one message."""
    if chat.state != ChatState.OPEN:
        raise ChatError(ChatErrorCode.CHAT_ENDED, "This chat has ended; start a new one.", status=409)
    text = _clean_text(text)
    if client_id and not _CLIENT_ID.match(client_id):
        raise Invalid("A client id is 1 to 64 letters, digits, - or _.", field="client_id")
    _check_message_rate(chat)
    body = MessageInput(body_text=text, external_id=f"chat:{chat.pk}:{client_id}" if client_id else None)
    return add_message(actor=None, case=chat.case, direction=Direction.INBOUND, body=body, channel=Channel.CHAT,
                       author_contact=chat.contact).message  # fmt: skip


def end_chat(*, chat: Chat, by: EndedBy, actor: User | None = None) -> Chat:
    """End a live chat (the visitor closed it, or a rep did). Ending twice changes nothing."""
    if by == EndedBy.AGENT:
        require_staff(actor)
    now = clock.now()
    with transaction.atomic():
        if not Chat.objects.filter(pk=chat.pk, state=ChatState.OPEN).update(state=ChatState.ENDED, ended_by=by,
                                                                              ended_at=now):  # fmt: skip
            chat.refresh_from_db()
            return chat
        who = actor.name if actor is not None else EndedBy(by).label
        record_event(kind="chat.ended", subjects=[(S.CASE, chat.case_id)], case_id=chat.case_id, actor=actor,
                     occurred_at=now, summary=f"Chat ended by {who}", data={"chat": chat.pk, "by": by})  # fmt: skip
    chat.refresh_from_db()
    return chat


def note_delivery(*, chat_id: int, delivered_id: int) -> None:
    """The visitor's page is listening and has been sent everything up to `delivered_id`."""
    Chat.objects.filter(pk=chat_id).update(
        visitor_seen_at=clock.now(), delivered_message_id=Greatest("delivered_message_id", Value(delivered_id))
    )


# --- reps ----------------------------------------------------------------------------------------
def touch_agent(*, actor: User) -> None:
    """The rep is here now: seen at this moment (rows written at most every AGENT_TOUCH_SECONDS).

    Only `set_away(away=False)` (the *Take chats* button, a POST) calls it from a page: since
    ADR 0076 no page makes a rep available by being opened (a prefetch, a restored tab, another
    site's image tag could open it). The pages' polls call `keep_available` instead.
    """
    require_staff(actor)
    now = clock.now()
    if ChatAgent.objects.filter(user_id=actor.pk, last_seen__lt=now - dt.timedelta(seconds=AGENT_TOUCH_SECONDS)).update(
        last_seen=now
    ):
        return
    if ChatAgent.objects.filter(user_id=actor.pk).exists():
        return
    try:
        with transaction.atomic():
            ChatAgent.objects.create(user=actor, last_seen=now)
    except IntegrityError:  # the same rep's two tabs, at once
        pass


def keep_available(*, actor: User) -> bool:
    """The chat queue or an open chat's panel is still open (their polls, POSTs with CSRF): a rep
    who is taking chats stays available. Never makes available a rep who was not: one whose
    presence lapsed (a closed laptop, a tab the browser restored the next morning) or who is away
    presses *Take chats* again. One conditional UPDATE, written at most every AGENT_TOUCH_SECONDS.
    Returns whether the rep is taking chats.
    """
    require_staff(actor)
    now = clock.now()
    fresh = ChatAgent.objects.filter(
        user_id=actor.pk, away=False, last_seen__gte=now - dt.timedelta(seconds=settings.CASELOOP_CHAT_AGENT_SECONDS)
    )
    fresh.filter(last_seen__lt=now - dt.timedelta(seconds=AGENT_TOUCH_SECONDS)).update(last_seen=now)
    return fresh.exists()


def set_away(*, actor: User, away: bool) -> None:
    """The rep takes no new chats (`away`), or takes them (*Take chats*); either way they are seen now."""
    require_staff(actor)
    touch_agent(actor=actor)
    ChatAgent.objects.filter(user_id=actor.pk).update(away=away, last_seen=clock.now())
