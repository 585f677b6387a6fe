"""Chat starts per IP behind a reverse proxy: each visitor its own budget (ADR 0076, fix 8)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from caseloop.channels.chat.actions import WidgetInput, create_widget, touch_agent
from caseloop.channels.chat.models import Chat, ChatWidget
from caseloop.identity.actions import add_member
from caseloop.testing.factories import make_agent, make_team

pytestmark = pytest.mark.django_db

SHOP = "https://shop.example"
PROXY = "10.0.0.5"


@pytest.fixture
def widget() -> ChatWidget:
    team = make_team("Support")
    rep = make_agent(username="dana")
    add_member(team=team, user=rep)
    touch_agent(actor=rep)  # someone is there to chat
    return create_widget(actor=None, data=WidgetInput(name="Shop", allowed_origins=[SHOP], team=team))


def start(widget: ChatWidget, *, peer: str, forwarded: str) -> int:
    response = Client().post(f"/chat/api/{widget.key}/chats/", data=json.dumps({"text": "Is the door in stock?"}),
                             content_type="application/json", REMOTE_ADDR=peer,
                             headers={"Origin": SHOP, "X-Forwarded-For": forwarded})  # fmt: skip
    return response.status_code


def test_two_visitors_behind_a_trusted_proxy_have_a_limit_each(settings, widget):
    settings.CASELOOP_TRUSTED_PROXIES = "10.0.0.0/8"
    settings.CASELOOP_CHAT_STARTS_PER_IP_PER_HOUR = 1
    assert start(widget, peer=PROXY, forwarded="203.0.113.7") == 201
    assert start(widget, peer=PROXY, forwarded="203.0.113.7") == 429
    assert start(widget, peer=PROXY, forwarded="198.51.100.20") == 201
    assert list(Chat.objects.order_by("pk").values_list("ip_address", flat=True)) == ["203.0.113.7", "198.51.100.20"]


def test_a_visitor_that_is_no_proxy_cannot_name_another_address(settings, widget):
    settings.CASELOOP_TRUSTED_PROXIES = "10.0.0.0/8"
    settings.CASELOOP_CHAT_STARTS_PER_IP_PER_HOUR = 1
    assert start(widget, peer="198.51.100.66", forwarded="203.0.113.1") == 201
    assert start(widget, peer="198.51.100.66", forwarded="203.0.113.2") == 429
    assert list(Chat.objects.values_list("ip_address", flat=True)) == ["198.51.100.66"]
