"""Chats as actions: who is available, starting, writing, ending, leaving an email when nobody is there."""

from __future__ import annotations

import datetime as dt

import pytest

from caseloop.cases.actions import MessageInput, add_message, change_status
from caseloop.cases.choices import CaseStatus, Channel, Direction
from caseloop.cases.models import Case, Message
from caseloop.channels.chat.actions import (
    Visitor,
    WidgetInput,
    create_widget,
    end_chat,
    leave_offline_message,
    set_away,
    start_chat,
    touch_agent,
    update_widget,
    visitor_says,
)
from caseloop.channels.chat.choices import ChatKind, ChatState, EndedBy
from caseloop.channels.chat.errors import ChatErrorCode
from caseloop.channels.chat.hours import parse_hours
from caseloop.channels.chat.models import Chat, ChatAgent, ChatWidget
from caseloop.channels.chat.selectors import chat_by_token, is_available, open_chats, token_digest, visitor_messages
from caseloop.channels.email.models import OutboundEmail
from caseloop.core import clock
from caseloop.core.errors import CommonErrorCode, DomainError
from caseloop.customers.models import ContactIdentity
from caseloop.identity.actions import add_member
from caseloop.testing.factories import make_agent, make_contact, make_team
from caseloop.timeline.models import TimelineEvent

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)  # a Monday
VISITOR = Visitor(
    origin="https://shop.example",
    ip_address="203.0.113.7",
    page_url="https://shop.example/doors",
    name="Ann",
    email="ann@example.com",
)


@pytest.fixture
def team():
    return make_team("Support")


@pytest.fixture
def widget(team):
    return create_widget(
        actor=None, data=WidgetInput(name="Shop", allowed_origins=["https://shop.example/"], team=team)
    )


@pytest.fixture
def rep(team):
    rep = make_agent(username="dana", display_name="Dana Reyes")
    add_member(team=team, user=rep)
    with clock.frozen_at(NOW):
        touch_agent(actor=rep)
    return rep


def test_widgets_are_set_up_by_administrators_with_clean_origins(agent, admin_user, team):
    with pytest.raises(DomainError) as excinfo:
        create_widget(actor=agent, data=WidgetInput(name="Shop", allowed_origins=["https://shop.example"]))
    assert excinfo.value.code == CommonErrorCode.PERMISSION_DENIED
    widget = create_widget(
        actor=admin_user,
        data=WidgetInput(
            name="Shop",
            allowed_origins=["https://Shop.example:443/", "https://shop.example", "", "https://*.shop.example"],
            team=team,
            hours=parse_hours("mon-fri 09:00-17:00"),
            time_zone="Europe/Berlin",
        ),
    )
    assert widget.allowed_origins == ["https://shop.example", "https://*.shop.example"]
    assert len(widget.key) == 16 and widget.hours["mon"] == [["09:00", "17:00"]]
    for data, code in (
        (WidgetInput(name="Other", allowed_origins=["shop.example"]), ChatErrorCode.BAD_ORIGIN),
        (WidgetInput(name="Other", allowed_origins=[]), ChatErrorCode.BAD_ORIGIN),
        (
            WidgetInput(name="Other", allowed_origins=["https://a.example"], time_zone="Nowhere/Land"),
            ChatErrorCode.BAD_HOURS,
        ),
        (WidgetInput(name="Shop", allowed_origins=["https://a.example"]), ChatErrorCode.WIDGET_NAME_TAKEN),
    ):
        with pytest.raises(DomainError) as excinfo:
            create_widget(actor=admin_user, data=data)
        assert excinfo.value.code == code
    assert ChatWidget.objects.count() == 1
    update_widget(
        actor=admin_user, widget=widget, data=WidgetInput(name="Shop 2", allowed_origins=["https://b.example"])
    )
    assert ChatWidget.objects.get().allowed_origins == ["https://b.example"]


def test_availability_needs_a_recent_rep_of_the_team_within_the_hours(widget, team):
    outsider = make_agent(username="other")
    with clock.frozen_at(NOW):
        touch_agent(actor=outsider)  # not in the widget's team
        assert not is_available(widget)
        rep = make_agent(username="dana")
        add_member(team=team, user=rep)
        touch_agent(actor=rep)
        assert is_available(widget)
        set_away(actor=rep, away=True)
        assert not is_available(widget)
        set_away(actor=rep, away=False)
        assert is_available(widget)
    assert not is_available(widget, now=NOW + dt.timedelta(seconds=91))  # CASELOOP_CHAT_AGENT_SECONDS = 90
    widget.hours = parse_hours("mon-fri 11:00-17:00")
    assert not is_available(widget, now=NOW)  # 10:00 UTC on a Monday: before the hours
    widget.team = None
    widget.hours = {}
    with clock.frozen_at(NOW):
        touch_agent(actor=outsider)
    assert is_available(widget, now=NOW)  # a widget without a team is answered by any rep


def test_touching_is_written_at_most_every_15_seconds(agent):
    with clock.frozen_at(NOW):
        touch_agent(actor=agent)
    with clock.frozen_at(NOW + dt.timedelta(seconds=10)):
        touch_agent(actor=agent)
    assert ChatAgent.objects.get().last_seen == NOW
    with clock.frozen_at(NOW + dt.timedelta(seconds=16)):
        touch_agent(actor=agent)
    assert ChatAgent.objects.get().last_seen == NOW + dt.timedelta(seconds=16)


def test_a_visitor_starts_a_chat_that_is_a_case(widget, rep, team):
    with clock.frozen_at(NOW):
        started = start_chat(widget=widget, visitor=VISITOR, text="Does the 9x7 door come in white?\nThanks")
    chat, case = started.chat, started.chat.case
    assert (case.channel, case.team_id, case.subject, case.status) == (
        Channel.CHAT,
        team.pk,
        "Does the 9x7 door come in white?",
        CaseStatus.NEW,
    )
    assert (chat.kind, chat.state, chat.visitor_name, chat.visitor_email, chat.origin, chat.ip_address) == (
        ChatKind.LIVE,
        ChatState.OPEN,
        "Ann",
        "ann@example.com",
        "https://shop.example",
        "203.0.113.7",
    )
    assert chat.token_digest == token_digest(started.token) and len(started.token) >= 40
    assert chat_by_token(widget, started.token).pk == chat.pk
    # a new contact with a chat handle: a typed email proves nothing, so it never picks an existing customer
    assert case.requester.name == "Ann"
    assert list(ContactIdentity.objects.filter(contact=case.requester).values_list("kind", flat=True)) == ["chat"]
    assert started.message.channel == Channel.CHAT and started.message.direction == Direction.INBOUND
    assert TimelineEvent.objects.filter(kind="chat.started", case_id=case.pk).count() == 2


def test_an_email_typed_into_a_chat_does_not_attach_it_to_that_customer(widget, rep):
    existing = make_contact(name="Ann Real", email="ann@example.com")
    with clock.frozen_at(NOW):
        chat = start_chat(widget=widget, visitor=VISITOR, text="What is my order status?").chat
    assert chat.contact_id != existing.pk and not existing.cases.exists()


def test_nobody_available_refuses_a_live_chat(widget):
    with pytest.raises(DomainError) as excinfo:
        start_chat(widget=widget, visitor=VISITOR, text="Hello?")
    assert excinfo.value.code == ChatErrorCode.NOBODY_AVAILABLE
    assert not Case.objects.exists() and not Chat.objects.exists()


def test_the_visitor_and_the_rep_write_and_the_visitor_sees_only_the_chat(widget, rep, agent):
    with clock.frozen_at(NOW):
        chat = start_chat(widget=widget, visitor=VISITOR, text="Hi").chat
        visitor_says(chat=chat, text="Anyone?", client_id="c1")
        visitor_says(chat=chat, text="Anyone?", client_id="c1")  # the page retried: one message
        add_message(
            actor=rep,
            case=chat.case,
            direction=Direction.OUTBOUND,
            channel=Channel.CHAT,
            body=MessageInput(body_text="Yes, Dana here."),
        )
        add_message(
            actor=rep,
            case=chat.case,
            direction=Direction.NOTE,
            channel=Channel.INTERNAL,
            body=MessageInput(body_text="VIP, be nice"),
        )
        add_message(
            actor=rep,
            case=chat.case,
            direction=Direction.OUTBOUND,
            channel=Channel.EMAIL,
            body=MessageInput(body_text="(an email on the same case)"),
        )
    seen = visitor_messages(chat.case_id, after=0)
    assert [(m["from"], m["name"], m["text"]) for m in seen] == [
        ("visitor", "", "Hi"),
        ("visitor", "", "Anyone?"),
        ("agent", "Dana", "Yes, Dana here."),
    ]
    assert seen[0]["at"] == NOW.isoformat()
    assert [m["text"] for m in visitor_messages(chat.case_id, after=seen[1]["id"])] == ["Yes, Dana here."]


def test_visitors_are_limited(widget, rep, settings):
    settings.CASELOOP_CHAT_MESSAGES_PER_MINUTE = 2
    settings.CASELOOP_CHAT_STARTS_PER_IP_PER_HOUR = 1
    with clock.frozen_at(NOW):
        chat = start_chat(widget=widget, visitor=VISITOR, text="one").chat
        visitor_says(chat=chat, text="two")
        with pytest.raises(DomainError) as excinfo:
            visitor_says(chat=chat, text="three")
        assert (excinfo.value.code, excinfo.value.status) == (ChatErrorCode.RATE_LIMITED, 429)
        with pytest.raises(DomainError) as excinfo:
            start_chat(widget=widget, visitor=VISITOR, text="again")
        assert excinfo.value.code == ChatErrorCode.RATE_LIMITED
    assert Message.objects.count() == 2 and Chat.objects.count() == 1
    for text, code in (("", ChatErrorCode.EMPTY), ("x" * 4001, ChatErrorCode.TOO_LONG)):
        with pytest.raises(DomainError) as excinfo:
            visitor_says(chat=chat, text=text)
        assert excinfo.value.code == code


def test_ending_a_chat(widget, rep, agent):
    with clock.frozen_at(NOW):
        chat = start_chat(widget=widget, visitor=VISITOR, text="Hi").chat
    ended = end_chat(chat=chat, by=EndedBy.AGENT, actor=rep)
    assert (ended.state, ended.ended_by) == (ChatState.ENDED, EndedBy.AGENT)
    assert end_chat(chat=chat, by=EndedBy.VISITOR).ended_by == EndedBy.AGENT  # the first end stands
    assert TimelineEvent.objects.filter(kind="chat.ended").count() == 1
    with pytest.raises(DomainError) as excinfo:
        visitor_says(chat=ended, text="wait")
    assert excinfo.value.code == ChatErrorCode.CHAT_ENDED
    assert open_chats(agent) == []


def test_a_closed_case_takes_no_more_chat(widget, rep, agent):
    with clock.frozen_at(NOW):
        chat = start_chat(widget=widget, visitor=VISITOR, text="Hi").chat
    change_status(actor=agent, case=chat.case, status=CaseStatus.SOLVED)
    change_status(actor=agent, case=chat.case, status=CaseStatus.CLOSED)
    with pytest.raises(DomainError) as excinfo:
        visitor_says(chat=chat, text="One more thing")
    assert excinfo.value.code == "already_closed"


def test_nobody_there_the_visitor_leaves_an_email_and_gets_the_answer_by_email(
    widget, agent, team, django_capture_on_commit_callbacks
):
    existing = make_contact(name="Ann Smith", email="ann@example.com")
    assert not is_available(widget)
    with clock.frozen_at(NOW):
        chat = leave_offline_message(widget=widget, visitor=VISITOR, text="Can you install on Saturday?")
    case = chat.case
    # the email is how we answer, so it finds the customer who has it
    assert (chat.kind, chat.state, chat.contact_id, case.requester_id) == (
        ChatKind.OFFLINE,
        ChatState.ENDED,
        existing.pk,
        existing.pk,
    )
    assert (case.channel, case.team_id, case.message_count) == (Channel.EMAIL, team.pk, 1)
    message = case.messages.get()
    assert (message.channel, message.direction, message.body_text) == (
        Channel.CHAT,
        Direction.INBOUND,
        "Can you install on Saturday?",
    )
    assert not OutboundEmail.objects.exists()  # no automatic email to an address anyone could type
    # the rep answers on the case like any email case: the answer is queued to that address
    with django_capture_on_commit_callbacks(execute=True):
        add_message(
            actor=agent,
            case=case,
            direction=Direction.OUTBOUND,
            channel=Channel(case.channel),
            body=MessageInput(body_text="Yes, Saturday 10 am works."),
        )
    outbound = OutboundEmail.objects.get()
    assert (outbound.to_address, outbound.case_id, outbound.kind) == ("ann@example.com", case.pk, "reply")


def test_an_offline_message_needs_an_email(widget):
    for email in ("", "not-an-address"):
        with pytest.raises(DomainError) as excinfo:
            leave_offline_message(
                widget=widget,
                visitor=Visitor(origin="https://shop.example", ip_address=None, email=email),
                text="Hello",
            )
        assert excinfo.value.field == "email"
    assert not Case.objects.exists()


def test_the_queue_lists_open_chats_waiting_ones_first(widget, rep, agent):
    with clock.frozen_at(NOW):
        answered = start_chat(widget=widget, visitor=VISITOR, text="First").chat
    with clock.frozen_at(NOW + dt.timedelta(minutes=1)):
        waiting = start_chat(widget=widget, visitor=VISITOR, text="Second").chat
        add_message(
            actor=rep,
            case=answered.case,
            direction=Direction.OUTBOUND,
            channel=Channel.CHAT,
            body=MessageInput(body_text="Hello"),
        )
    rows = open_chats(agent)
    assert [(r.chat.pk, r.waiting_since) for r in rows] == [
        (waiting.pk, NOW + dt.timedelta(minutes=1)),
        (answered.pk, None),
    ]
