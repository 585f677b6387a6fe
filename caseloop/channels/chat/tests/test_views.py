"""The reps' side: the chat queue, the case page's live chat panel, and the widget set-up pages."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client

from caseloop.cases.actions import MessageInput, add_message
from caseloop.cases.choices import Channel, Direction
from caseloop.channels.chat.actions import Visitor, WidgetInput, create_widget, start_chat, touch_agent
from caseloop.channels.chat.models import Chat, ChatAgent, ChatWidget
from caseloop.channels.chat.selectors import is_available
from caseloop.core import clock
from caseloop.identity.actions import add_member
from caseloop.testing.factories import make_agent, make_case, make_team

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-1"
START = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
VISITOR = Visitor(origin="https://shop.example", ip_address="203.0.113.7", name="Ann")


@pytest.fixture
def rep():
    return make_agent(username="dana", display_name="Dana Reyes")


@pytest.fixture
def chat(rep):
    team = make_team("Support")
    add_member(team=team, user=rep)
    widget = create_widget(
        actor=None, data=WidgetInput(name="Shop", allowed_origins=["https://shop.example"], team=team)
    )
    touch_agent(actor=rep)
    return start_chat(widget=widget, visitor=VISITOR, text="Do you install on Saturdays?").chat


def signed_in(client, user):
    client.force_login(user)
    return client


def test_the_queue_lists_waiting_chats_and_opening_it_changes_nothing(client, rep, chat):
    """ADR 0076: a GET of the queue used to make the rep available (a prefetch, a restored tab or an
    image tag on another site could); now a GET only shows."""
    ChatAgent.objects.all().delete()
    page = signed_in(client, rep).get("/chat/")
    assert page.status_code == 200
    html = page.content.decode()
    assert chat.case.number in html and "chat-waiting" in html and "Take" in html
    assert "You are not taking chats." in html and 'name="away" value="0"' in html
    fragment = client.get("/chat/", HTTP_HX_REQUEST="true")
    assert "<html" not in fragment.content.decode() and chat.case.number in fragment.content.decode()
    panel = client.get(f"/chat/cases/{chat.case_id}/", HTTP_HX_REQUEST="true")
    assert panel.status_code == 200
    assert not ChatAgent.objects.exists() and not is_available(chat.widget)


def test_only_a_post_with_csrf_makes_a_rep_available_and_the_page_keeps_them_so(rep, chat):
    ChatAgent.objects.all().delete()
    browser = signed_in(Client(enforce_csrf_checks=True), rep)
    page = browser.get("/chat/").content.decode()
    # another site's form (no token) is refused and changes nothing
    assert browser.post("/chat/", {"away": "0"}).status_code == 403
    assert browser.post("/chat/", {"poll": "1"}).status_code == 403
    assert not ChatAgent.objects.exists()
    # the page's own button and poll carry the token
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None and 'hx-post="/chat/" hx-vals=\'{"poll": "1"}\'' in page
    with clock.frozen_at(START):
        assert browser.post("/chat/", {"away": "0"}, HTTP_X_CSRFTOKEN=token.group(1)).status_code == 302
        assert is_available(chat.widget)
    # the open page's polls (and an open chat's panel) keep the rep available past the 90 s
    for seconds in (60, 120, 180):
        with clock.frozen_at(START + dt.timedelta(seconds=seconds)):
            url = "/chat/" if seconds != 120 else f"/chat/cases/{chat.case_id}/"
            polled = browser.post(url, {"poll": "1"}, HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=token.group(1))
            assert polled.status_code == 200
    assert is_available(chat.widget, now=START + dt.timedelta(seconds=250))
    assert "You are taking chats while this page is open." in polled.content.decode()


def test_a_poll_never_brings_back_a_rep_whose_presence_lapsed(client, rep, chat):
    """A tab the browser restores the next morning polls again; it must not put the rep back on chat."""
    ChatAgent.objects.all().delete()
    signed_in(client, rep)
    with clock.frozen_at(START):
        client.post("/chat/", {"away": "0"})
    later = START + dt.timedelta(hours=14)
    with clock.frozen_at(later):
        polled = client.post("/chat/", {"poll": "1"}, HTTP_HX_REQUEST="true")
        client.post(f"/chat/cases/{chat.case_id}/", HTTP_HX_REQUEST="true")
        assert not is_available(chat.widget)
    assert "You are not taking chats." in polled.content.decode()
    assert ChatAgent.objects.get(user=rep).last_seen == START


def test_taking_a_chat_assigns_its_case_and_opens_it(client, rep, chat):
    response = signed_in(client, rep).post("/chat/", {"take": chat.pk})
    assert response.status_code == 302 and response["Location"] == f"/cases/{chat.case_id}/"
    chat.case.refresh_from_db()
    assert chat.case.assignee_id == rep.pk


def test_a_rep_can_stop_taking_new_chats(client, rep, chat):
    signed_in(client, rep).post("/chat/", {"away": "1"})
    assert ChatAgent.objects.get(user=rep).away is True
    assert "You are not taking chats." in client.get("/chat/").content.decode()
    client.post("/chat/", {"poll": "1"}, HTTP_HX_REQUEST="true")
    assert ChatAgent.objects.get(user=rep).away is True  # the page open does not undo it
    client.post("/chat/", {"away": "0"})
    assert ChatAgent.objects.get(user=rep).away is False
    assert "You are taking chats while this page is open." in client.get("/chat/").content.decode()


def test_only_staff_see_the_queue(client, customer):
    assert client.get("/chat/").status_code == 302
    assert signed_in(client, customer).get("/chat/").status_code == 403


def test_the_case_page_has_the_live_panel_only_for_chat_cases(client, rep, chat):
    page = signed_in(client, rep).get(f"/cases/{chat.case_id}/").content.decode()
    assert f'hx-get="/chat/cases/{chat.case_id}/"' in page and f'hx-get="/phone/cases/{chat.case_id}/calls/"' in page
    other = make_case()
    assert "/chat/cases/" not in client.get(f"/cases/{other.pk}/").content.decode()


def test_the_panel_polls_and_brings_new_messages_into_the_conversation(client, rep, chat):
    panel = signed_in(client, rep).get(f"/chat/cases/{chat.case_id}/", HTTP_HX_REQUEST="true")
    html = panel.content.decode()
    latest = chat.case.messages.latest("id").pk
    assert f'hx-post="/chat/cases/{chat.case_id}/?after={latest}"' in html and 'hx-trigger="every 2s"' in html
    assert "The visitor is on the chat" in html and "hx-swap-oob" not in html
    # nothing new since `after`: no conversation in the answer
    quiet = client.get(f"/chat/cases/{chat.case_id}/?after={latest}", HTTP_HX_REQUEST="true")
    assert "hx-swap-oob" not in quiet.content.decode() and "HX-Trigger" not in quiet
    # the visitor wrote: the answer carries the whole conversation, swapped in place, and refreshes the timeline
    add_message(
        actor=None,
        case=chat.case,
        direction=Direction.INBOUND,
        channel=Channel.CHAT,
        body=MessageInput(body_text="Or Sundays?"),
    )
    grown = client.get(f"/chat/cases/{chat.case_id}/?after={latest}", HTTP_HX_REQUEST="true")
    html = grown.content.decode()
    assert 'hx-swap-oob="innerHTML:#thread .messages"' in html and "Or Sundays?" in html
    assert grown["HX-Trigger"] == "case-changed"
    assert len(re.findall(r'<li class="message ', html)) == 2


def test_a_rep_ends_the_chat_from_the_case(client, rep, chat):
    response = signed_in(client, rep).post(f"/chat/cases/{chat.case_id}/end/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Chat ended" in response.content.decode()
    assert "every 2s" not in response.content.decode()  # an ended chat stops polling
    chat.refresh_from_db()
    assert (chat.state, chat.ended_by) == ("ended", "agent")


def test_widget_pages_are_for_administrators(client, rep, admin_user):
    assert signed_in(client, rep).get("/chat/widgets/").status_code == 403
    client.force_login(admin_user)
    response = client.post(
        "/chat/widgets/",
        {
            "name": "Shop",
            "allowed_origins": "https://shop.example\nhttps://*.shop.example",
            "greeting": "Hello!",
            "offline_text": "Leave a note.",
            "hours": "mon-fri 08:00-18:00",
            "time_zone": "Europe/Berlin",
            "active": "on",
        },
    )
    widget = ChatWidget.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/chat/widgets/{widget.pk}/"
    assert (widget.allowed_origins, widget.hours["fri"], widget.time_zone) == (
        ["https://shop.example", "https://*.shop.example"],
        [["08:00", "18:00"]],
        "Europe/Berlin",
    )
    page = client.get(f"/chat/widgets/{widget.pk}/").content.decode()
    assert f'data-widget="{widget.key}"' in page and "http://127.0.0.1:8000/chat/widget.js" in page
    bad = client.post(
        f"/chat/widgets/{widget.pk}/",
        {"name": "Shop", "allowed_origins": "shop.example", "greeting": "Hi", "offline_text": "x", "hours": ""},
    )
    assert bad.status_code == 422 and "an origin starts with https://" in bad.content.decode()
    bad_hours = client.post(
        f"/chat/widgets/{widget.pk}/",
        {
            "name": "Shop",
            "allowed_origins": "https://shop.example",
            "greeting": "Hi",
            "offline_text": "x",
            "hours": "weekdays",
        },
    )
    assert bad_hours.status_code == 422
    assert ChatWidget.objects.get().allowed_origins == ["https://shop.example", "https://*.shop.example"]
    assert Chat.objects.count() == 0


def test_the_navigation_offers_chats_to_staff_and_the_set_up_to_administrators(client, rep, admin_user):
    page = signed_in(client, rep).get("/chat/").content.decode()
    assert '<a href="/chat/" aria-current="page">Chats</a>' in page
    assert "/phone/ivr/" not in page and "/chat/widgets/" not in page
    page = signed_in(client, admin_user).get("/chat/").content.decode()
    assert '<a href="/phone/ivr/">Phone</a>' in page and '<a href="/chat/widgets/">Chat widgets</a>' in page
    page = client.get("/chat/widgets/").content.decode()
    assert '<a href="/chat/" aria-current="page">Chats</a>' in page


def test_taking_a_chat_that_does_not_exist_is_refused(client, rep, chat):
    # "²" and "٣" pass str.isdigit() but are no id; twenty digits are past any id
    for value in ("abc", "999999", "", "²", "٣", "9" * 20):
        response = signed_in(client, rep).post("/chat/", {"take": value})
        assert response.status_code == 422
    chat.case.refresh_from_db()
    assert chat.case.assignee_id is None


@pytest.mark.parametrize("after", ["²", "١٢", "9" * 40])
def test_a_panel_poll_with_an_after_that_is_no_id_is_a_quiet_poll(client, rep, chat, after):
    response = signed_in(client, rep).get(f"/chat/cases/{chat.case_id}/?after={after}", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "hx-swap-oob" not in response.content.decode() and "HX-Trigger" not in response
