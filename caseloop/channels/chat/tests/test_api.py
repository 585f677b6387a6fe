"""The widget's HTTP API: origin checks and CORS on every endpoint, tokens, and the event stream."""

from __future__ import annotations

import json
from typing import Any

import pytest

from caseloop.cases.actions import MessageInput, add_message
from caseloop.cases.choices import Channel, Direction
from caseloop.cases.models import Case, Message
from caseloop.channels.chat import stream
from caseloop.channels.chat.actions import WidgetInput, create_widget, touch_agent
from caseloop.channels.chat.models import Chat
from caseloop.identity.actions import add_member
from caseloop.testing.factories import make_agent, make_team

pytestmark = pytest.mark.django_db

SHOP = "https://shop.example"
EVIL = "https://evil.example"


@pytest.fixture(autouse=True)
def _quick_streams(settings):
    settings.CASELOOP_CHAT_POLL_SECONDS = 0.01
    settings.CASELOOP_CHAT_STREAM_SECONDS = 1
    settings.CASELOOP_CHAT_STREAMS_PER_PROCESS = 2


@pytest.fixture
def team():
    return make_team("Support")


@pytest.fixture
def widget(team):
    return create_widget(actor=None, data=WidgetInput(name="Shop", allowed_origins=[SHOP], team=team))


@pytest.fixture
def rep(team):
    rep = make_agent(username="dana", display_name="Dana Reyes")
    add_member(team=team, user=rep)
    touch_agent(actor=rep)
    return rep


def api(widget, path: str = "") -> str:
    return f"/chat/api/{widget.key}/{path}"


def post(client, url: str, data: dict[str, Any], *, origin: str | None = SHOP, token: str = ""):
    headers = {}
    if origin is not None:
        headers["HTTP_ORIGIN"] = origin
    if token:
        headers["HTTP_X_CHAT_TOKEN"] = token
    return client.post(url, data=json.dumps(data), content_type="application/json", **headers)


def start(client, widget, text: str = "Is the white door in stock?") -> dict[str, Any]:
    response = post(client, api(widget, "chats/"), {"text": text, "name": "Ann", "page": f"{SHOP}/doors"})
    assert response.status_code == 201, response.content
    data: dict[str, Any] = response.json()
    return data


def test_status_tells_the_page_whether_someone_can_chat(client, widget):
    response = client.get(api(widget), HTTP_ORIGIN=SHOP)
    assert response.status_code == 200
    assert (response["Access-Control-Allow-Origin"], response["Vary"]) == (SHOP, "Origin")
    assert response.json() == {
        "name": "Shop",
        "greeting": "Hi! How can we help?",
        "available": False,
        "offline_text": widget.offline_text,
    }
    touch_agent(actor=make_agent(username="x"))  # a rep outside the widget's team does not count
    assert client.get(api(widget), HTTP_ORIGIN=SHOP).json()["available"] is False


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", ""),
        ("post", "chats/"),
        ("post", "offline/"),
        ("get", "chat/"),
        ("post", "chat/messages/"),
        ("post", "chat/end/"),
        ("get", "chat/stream/"),
        ("options", "chats/"),
    ],
)
@pytest.mark.parametrize("origin", [EVIL, "null", "https://shop.example.evil.example", None])
def test_every_endpoint_refuses_pages_not_on_the_list(client, widget, rep, method, path, origin):
    headers = {"HTTP_ORIGIN": origin} if origin is not None else {}
    body = {"data": json.dumps({"text": "hi", "email": "a@example.com"}), "content_type": "application/json"}
    response = getattr(client, method)(api(widget, path), **(body if method == "post" else {}), **headers)
    assert response.status_code == 403
    assert response.json()["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in response
    assert not Case.objects.exists() and not Chat.objects.exists()


def test_a_same_origin_get_without_origin_is_judged_by_its_referer(client, widget):
    assert client.get(api(widget), HTTP_REFERER=f"{SHOP}/doors?x=1").status_code == 200
    assert client.get(api(widget), HTTP_REFERER=f"{EVIL}/").status_code == 403


def test_preflight_answers_for_allowed_pages(client, widget):
    response = client.options(
        api(widget, "chat/messages/"),
        HTTP_ORIGIN=SHOP,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type, x-chat-token",
    )
    assert response.status_code == 204
    assert (
        response["Access-Control-Allow-Origin"],
        response["Access-Control-Allow-Methods"],
        response["Access-Control-Allow-Headers"],
        response["Access-Control-Max-Age"],
    ) == (SHOP, "POST, OPTIONS", "Content-Type, X-Chat-Token", "600")


def test_unknown_and_inactive_widgets(client, widget):
    assert client.get("/chat/api/nope/", HTTP_ORIGIN=SHOP).json()["code"] == "widget_not_found"
    widget.active = False
    widget.save()
    assert client.get(api(widget), HTTP_ORIGIN=SHOP).status_code == 404


def test_starting_writing_resuming_and_ending_a_chat(client, widget, rep):
    started = start(client, widget)
    token = started["token"]
    case = Case.objects.get()
    assert (started["state"], started["case"], [m["text"] for m in started["messages"]]) == (
        "open",
        case.number,
        ["Is the white door in stock?"],
    )
    response = post(client, api(widget, "chat/messages/"), {"text": "Size 9x7", "client_id": "m-1"}, token=token)
    assert response.status_code == 201
    assert (response.json()["from"], response.json()["text"]) == ("visitor", "Size 9x7")
    assert response["Access-Control-Allow-Origin"] == SHOP
    again = post(client, api(widget, "chat/messages/"), {"text": "Size 9x7", "client_id": "m-1"}, token=token)
    assert again.json()["id"] == response.json()["id"] and case.messages.count() == 2
    resumed = client.get(api(widget, "chat/"), HTTP_ORIGIN=SHOP, HTTP_X_CHAT_TOKEN=token).json()
    assert [m["text"] for m in resumed["messages"]] == ["Is the white door in stock?", "Size 9x7"]
    assert post(client, api(widget, "chat/end/"), {}, token=token).json() == {"state": "ended"}
    refused = post(client, api(widget, "chat/messages/"), {"text": "one more"}, token=token)
    assert (refused.status_code, refused.json()["code"]) == (409, "chat_ended")


def test_tokens_are_checked_per_widget(client, widget, rep, team):
    token = start(client, widget)["token"]
    other = create_widget(actor=None, data=WidgetInput(name="Other", allowed_origins=[SHOP], team=team))
    for url, key in ((api(widget, "chat/"), "wrong-token"), (api(other, "chat/"), token)):
        response = client.get(url, HTTP_ORIGIN=SHOP, HTTP_X_CHAT_TOKEN=key)
        assert (response.status_code, response.json()["code"]) == (404, "bad_token")
    assert post(client, api(widget, "chat/messages/"), {"text": "x"}).json()["code"] == "bad_token"
    assert Message.objects.count() == 1


def test_nobody_available_the_page_gets_a_code_and_the_offline_form_works(client, widget):
    response = post(client, api(widget, "chats/"), {"text": "Hello?"})
    assert (response.status_code, response.json()["code"]) == (409, "nobody_available")
    response = post(client, api(widget, "offline/"), {"text": "Call me back", "email": "Ann@Example.com"})
    assert (response.status_code, response.json()) == (201, {"email": "ann@example.com"})
    case = Case.objects.get()
    assert case.channel == Channel.EMAIL and case.requester.identities.get().value == "ann@example.com"
    bad = post(client, api(widget, "offline/"), {"text": "Call me back", "email": "nope"})
    assert (bad.status_code, bad.json()["field"]) == (422, "email")


def test_bad_bodies_are_refused(client, widget, rep):
    for body in (b"not json", b"[1, 2]", b"{" + b" " * 20_000 + b"}", b'{"text": NaN}', b'{"text": "caf\xe9"}'):
        response = client.post(api(widget, "chats/"), data=body, content_type="application/json", HTTP_ORIGIN=SHOP)
        assert response.status_code in (413, 422) and response["Access-Control-Allow-Origin"] == SHOP
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b'{"text": "Hello\\u0000", "name": "Ann"}', "NUL"),
        (b'{"text": "Hello", "name": "\\ud800Ann"}', "surrogate pair"),
        (b'{"text": "Hi", "email": "a@example.com", "page": "\\uDC00"}', "surrogate pair"),
    ],
)
def test_text_no_database_can_store_is_refused_at_the_door(client, widget, rep, body, says):
    # a visitor's page is outside input: JSON may escape NUL or half a surrogate pair, no column can hold either
    for path in ("chats/", "offline/"):
        response = client.post(api(widget, path), data=body, content_type="application/json", HTTP_ORIGIN=SHOP)
        assert response.status_code == 422 and says in response.json()["message"], response.content
    assert not Case.objects.exists()


def test_a_body_nested_too_deeply_to_read_is_refused_not_a_server_error(client, widget, rep):
    body = b'{"text": ' + b"[" * 5000 + b"]" * 5000 + b"}"  # under the size limit, past the parser's stack
    for path in ("chats/", "offline/"):
        response = client.post(api(widget, path), data=body, content_type="application/json", HTTP_ORIGIN=SHOP)
        assert response.status_code == 422 and response.json()["message"] == "The document is nested too deeply."
    assert not Case.objects.exists()


def events_of(chunks: list[str]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for chunk in chunks:
        fields = dict(line.split(": ", 1) for line in chunk.strip().splitlines() if ": " in line and line[0] != ":")
        if "event" in fields:
            found.append((fields["event"], json.loads(fields["data"])))
    return found


def test_the_stream_delivers_a_reps_reply_but_never_a_note(client, widget, rep):
    started = start(client, widget)
    first_id = started["messages"][0]["id"]
    response = client.get(api(widget, "chat/stream/") + f"?token={started['token']}&after={first_id}", HTTP_ORIGIN=SHOP)
    assert response.status_code == 200 and response["Content-Type"] == "text/event-stream; charset=utf-8"
    assert response["Access-Control-Allow-Origin"] == SHOP and response["Cache-Control"] == "no-store"
    chunks = iter(response.streaming_content)
    assert next(chunks) == b"retry: 1000\n\n"
    case = Case.objects.get()
    add_message(
        actor=rep,
        case=case,
        direction=Direction.NOTE,
        channel=Channel.INTERNAL,
        body=MessageInput(body_text="checking stock"),
    )
    reply = add_message(
        actor=rep,
        case=case,
        direction=Direction.OUTBOUND,
        channel=Channel.CHAT,
        body=MessageInput(body_text="Yes, in stock!"),
    ).message
    chunk = next(chunks).decode()
    assert chunk.startswith(f"id: {reply.pk}\nevent: message\n")
    assert events_of([chunk]) == [
        (
            "message",
            {
                "id": reply.pk,
                "from": "agent",
                "name": "Dana",
                "text": "Yes, in stock!",
                "at": reply.created_at.isoformat(),
            },
        )
    ]
    rest = [c.decode() for c in chunks]  # the stream ends by itself after CASELOOP_CHAT_STREAM_SECONDS
    assert events_of(rest) == []
    chat = Chat.objects.get()
    assert chat.delivered_message_id == reply.pk and chat.visitor_seen_at is not None
    assert stream.open_streams() == 0


def test_the_stream_resumes_from_last_event_id_and_says_when_the_chat_ended(client, widget, rep):
    started = start(client, widget)
    first_id = started["messages"][0]["id"]
    post(client, api(widget, "chat/messages/"), {"text": "hello?"}, token=started["token"])
    response = client.get(
        api(widget, "chat/stream/") + f"?token={started['token']}", HTTP_ORIGIN=SHOP, HTTP_LAST_EVENT_ID=str(first_id)
    )
    chunks = iter(response.streaming_content)
    next(chunks)
    assert [e[1]["text"] for e in events_of([next(chunks).decode()])] == ["hello?"]
    Chat.objects.update(state="ended")
    assert events_of([c.decode() for c in chunks]) == [("ended", {"id": Chat.objects.get().pk})]


def test_a_resume_point_that_is_no_number_is_ignored_and_the_stream_starts_at_the_beginning(client, widget, rep):
    # "²" passes str.isdigit() but int() refuses it: it was a 500 on a public endpoint
    started = start(client, widget)
    response = client.get(
        api(widget, "chat/stream/") + f"?token={started['token']}&after=²", HTTP_ORIGIN=SHOP, HTTP_LAST_EVENT_ID="³"
    )
    assert response.status_code == 200
    chunks = iter(response.streaming_content)
    next(chunks)
    assert [e[1]["text"] for e in events_of([next(chunks).decode()])] == ["Is the white door in stock?"]
    response.close()


def test_past_the_streams_a_process_may_hold_a_visitor_is_served_by_polling(client, widget, rep, settings):
    settings.CASELOOP_CHAT_STREAMS_PER_PROCESS = 0
    started = start(client, widget)
    response = client.get(api(widget, "chat/stream/") + f"?token={started['token']}&after=0", HTTP_ORIGIN=SHOP)
    chunks = [c.decode() for c in response.streaming_content]  # ends at once, after what is there
    assert chunks[0] == "retry: 2000\n\n"
    assert [e[1]["text"] for e in events_of(chunks)] == ["Is the white door in stock?"]


@pytest.mark.parametrize(("threads", "held"), [(1, False), (2, True)])
def test_a_stream_leaves_its_server_process_a_thread_for_everything_else(client, widget, rep, monkeypatch, threads,
                                                                         held):  # fmt: skip
    # `caseloop serve` tells its workers their thread count; with one thread (its SQLite default) a held stream
    # would leave the process nothing to answer the workspace with, so that visitor polls
    from caseloop.core import server

    monkeypatch.setenv(server.THREADS_ENV, str(threads))
    started = start(client, widget)
    response = client.get(api(widget, "chat/stream/") + f"?token={started['token']}&after=0", HTTP_ORIGIN=SHOP)
    chunks = iter(response.streaming_content)
    first = next(chunks).decode()
    assert (first == "retry: 2000\n\n") is not held
    assert stream.open_streams() == (1 if held else 0)
    for _ in chunks:  # the held stream ends after CASELOOP_CHAT_STREAM_SECONDS
        pass
    assert stream.open_streams() == 0


def test_the_widget_files_are_served_for_other_sites(client):
    script = client.get("/chat/widget.js")
    assert script.status_code == 200 and script["Content-Type"] == "text/javascript; charset=utf-8"
    assert script["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert b"attachShadow" in script.content and b"EventSource" in script.content
    style = client.get("/chat/widget.css")
    assert style.status_code == 200 and style["Content-Type"] == "text/css; charset=utf-8"
