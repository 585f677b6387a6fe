"""Live chat in a real browser: a visitor on another website (its own origin and a strict CSP) chats with a rep.

The host page is served by a tiny server on 127.0.0.1 and embeds the widget with one script tag
pointing at the caseloop server under test (live_server, on "localhost": another origin). Its
Content-Security-Policy allows the caseloop server only for scripts, styles and connections,
so a widget that needed inline code or styles would fail with a console error, which fails
the test. The rep works in a second browser context (another person).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from caseloop.channels.chat import stream
from caseloop.channels.chat.actions import WidgetInput, create_widget
from caseloop.channels.chat.models import Chat, ChatWidget
from caseloop.identity.actions import add_member
from caseloop.testing import live
from caseloop.testing.factories import make_agent, make_team

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[4] / "test-artifacts" / "screenshots"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "correct-horse-battery-1"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian's chromium is not installed at /usr/bin/chromium (python3 bootstrap.py test installs it)",
    ),
]


class HostSite(BaseHTTPRequestHandler):
    """A customer's website: one page with the widget's script tag, under a strict CSP."""

    caseloop = ""
    key = ""

    def do_GET(self) -> None:
        if self.path != "/":
            self.send_response(204)  # the browser's favicon request: nothing, and no error in the console
            self.end_headers()
            return
        body = (
            f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Door shop</title></head>'
            f"<body><h1>Garage doors</h1><p>Our white 9x7 door.</p>"
            f'<script src="{self.caseloop}/chat/widget.js" data-widget="{self.key}" async></script>'
            f"</body></html>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header(
            "Content-Security-Policy",
            f"default-src 'self'; script-src {self.caseloop}; style-src {self.caseloop}; connect-src {self.caseloop}",
        )
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def host_site(live_server: Any) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), HostSite)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    # the test calls the ORM between browser steps, under Playwright's event loop (plain sync calls)
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


def context_page(browser: Any, base_url: str) -> Any:
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 860})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    tab.problems = []
    tab.on("console", lambda msg: tab.problems.append(msg.text) if msg.type == "error" else None)
    tab.on("pageerror", lambda exc: tab.problems.append(str(exc)))
    return tab


def test_a_visitor_on_another_site_chats_with_a_rep(
    browser: Any, live_server: Any, host_site: str, transactional_db: None, settings: Any
) -> None:
    # Playwright starts before the database is touched: its event loop changes which connection the ORM
    # uses in this thread, and a connection opened before it would be left open (PostgreSQL then cannot
    # drop the test database)
    from playwright.sync_api import expect

    settings.CASELOOP_CHAT_STREAMS_PER_PROCESS = 8
    settings.CASELOOP_CHAT_STREAM_SECONDS = 5  # short, so the visitor's page also reconnects during the test
    team = make_team("Support")
    rep = make_agent(username="dana", display_name="Dana Reyes", password=PASSWORD)
    add_member(team=team, user=rep)
    widget = create_widget(
        actor=None,
        data=WidgetInput(
            name="Door shop", allowed_origins=[host_site], team=team, greeting="Hi! Ask us anything about doors."
        ),
    )
    HostSite.caseloop, HostSite.key = live_server.url, widget.key

    # the rep signs in, opens the chat queue and takes chats: from now on someone is available
    desk = context_page(browser, live_server.url)
    desk.goto("/login/")
    desk.get_by_label("Username or email").fill("dana")
    desk.get_by_label("Password").fill(PASSWORD)
    desk.get_by_role("button", name="Sign in").click()
    desk.wait_for_url("**/inbox/")
    desk.goto("/chat/")
    expect(desk.get_by_text("You are not taking chats.")).to_be_visible()  # opening the page changes nothing
    desk.get_by_role("button", name="Take chats").click()
    expect(desk.get_by_text("You are taking chats while this page is open.")).to_be_visible()

    # the visitor, on the shop's own website
    visitor = context_page(browser, host_site)
    visitor.goto("/")
    visitor.get_by_role("button", name="Chat with us").click()
    expect(visitor.get_by_text("Hi! Ask us anything about doors.")).to_be_visible()
    visitor.get_by_label("Your name (optional)").fill("Ann")
    visitor.get_by_label("Your message").fill("Is the white 9x7 door in stock?")
    visitor.get_by_role("button", name="Start chat").click()
    expect(visitor.get_by_role("log", name="Messages")).to_contain_text("Is the white 9x7 door in stock?")
    chat = Chat.objects.get()
    assert chat.origin == host_site and chat.widget_id == widget.pk

    # the chat shows up in the rep's queue (it polls); the rep takes it and answers from the case page
    desk.get_by_role("button", name="Take", exact=True).click()
    desk.wait_for_url(f"**/cases/{chat.case_id}/")
    expect(desk.locator("#chat-panel")).to_contain_text("The visitor is on the chat")
    desk.locator("#composer-body").fill("Yes, we have three in stock. Shall I reserve one?")
    desk.get_by_role("button", name="Send reply").click()

    # the visitor sees the reply arrive by itself
    log = visitor.get_by_role("log", name="Messages")
    expect(log).to_contain_text("Yes, we have three in stock. Shall I reserve one?")
    expect(visitor.locator(".msg-agent .who").last).to_have_text("Dana")
    visitor.wait_for_timeout(5_500)  # past one stream's life: the page reconnects from the last message
    visitor.get_by_role("textbox", name="Your message").fill("Yes please, for Saturday.")
    visitor.get_by_role("textbox", name="Your message").press("Enter")
    expect(log).to_contain_text("Yes please, for Saturday.")
    # ... and the rep sees it in the conversation without reloading
    expect(desk.locator("#thread .message-inbound").last).to_contain_text("Yes please, for Saturday.")
    SHOTS.mkdir(parents=True, exist_ok=True)
    visitor.screenshot(path=str(SHOTS / "chat-visitor.png"))
    desk.screenshot(path=str(SHOTS / "chat-rep.png"))
    assert list(chat.case.messages.order_by("id").values_list("direction", "channel")) == [
        ("inbound", "chat"),
        ("outbound", "chat"),
        ("inbound", "chat"),
    ]
    # the visitor ends the chat: their page says so, the rep's panel stops polling, the stream closes
    visitor.get_by_role("button", name="End chat").click()
    expect(visitor.get_by_text("This chat has ended. Thank you!")).to_be_visible()
    expect(desk.locator("#chat-panel")).to_contain_text("Chat ended", timeout=20_000)
    chat.refresh_from_db()
    assert (chat.state, chat.ended_by) == ("ended", "visitor")
    for _ in range(100):  # the server's stream thread notices within a poll or two
        if stream.open_streams() == 0:
            break
        time.sleep(0.1)
    assert stream.open_streams() == 0
    assert visitor.problems == [] and desk.problems == []
    assert ChatWidget.objects.count() == 1
    visitor.context.close()
    desk.context.close()
    live.wait_until_idle()  # the desk's last polls finish before the database is flushed
