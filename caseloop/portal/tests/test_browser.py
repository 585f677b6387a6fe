"""The portal in Debian's Chromium against a live server: sign in through the emailed link, see one's
own case without the internal note, answer it. Reuses the workspace's browser fixtures (console errors,
a Content-Security-Policy violation among them, fail the test)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail

from caseloop.cases.choices import Channel, Direction
from caseloop.cases.models import Message
from caseloop.portal.tests.world import NOTE_TEXT, World, build_world
from caseloop.web.tests.test_browser import CHROMIUM, assert_fits, browser, page, shot

__all__ = ["browser", "page"]  # fixtures used by name

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"),
]


@pytest.fixture
def world(transactional_db: None, live_server: Any, settings: Any) -> World:
    settings.SITE_URL = live_server.url  # the emailed link points at the server under test
    settings.CASELOOP_PORTAL_NAME = "Maple Doors service"
    built = build_world()
    mail.outbox = []  # building emailed the rep's reply; only the sign-in link counts below
    return built


def test_sign_in_by_link_see_own_case_and_answer(page: Any, world: World) -> None:
    from playwright.sync_api import expect

    page.goto(f"/portal/cases/{world.ann_case.pk}/")
    expect(page).to_have_url(re.compile(r"/portal/sign-in/\?next="))
    page.get_by_label("Your email address").fill("ann@example.com")
    shot(page, "portal-sign-in")
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    assert len(mail.outbox) == 1
    link = re.search(r"(http://\S+/portal/sign-in/\S+/)", str(mail.outbox[0].body))
    assert link is not None
    page.goto(link.group(1))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="My requests")).to_be_visible()
    requests = page.locator(".request-list li")
    expect(requests).to_have_count(1)
    expect(requests.first).to_contain_text("Door grinding")
    shot(page, "portal-requests", docs=True)
    requests.first.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Door grinding")
    expect(page.locator(".talk")).to_contain_text("Here is our quote.")
    expect(page.locator("body")).not_to_contain_text(NOTE_TEXT)
    page.get_by_label("Your answer").fill("Thank you, Tuesday morning suits me.")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".talk-yours").last).to_contain_text("Tuesday morning suits me.")
    shot(page, "portal-case", docs=True, full_page=True)
    answer = Message.objects.filter(case=world.ann_case).order_by("id").last()
    assert answer is not None
    assert (answer.direction, answer.channel, answer.body_text) == (Direction.INBOUND, Channel.PORTAL,
                                                                    "Thank you, Tuesday morning suits me.")  # fmt: skip
    # the equipment page: her door, her request about it, nothing of the previous owner's
    page.get_by_role("link", name="My places and equipment").click()
    page.get_by_role("link", name=re.compile("Garage door")).click()
    history = page.locator("section", has=page.get_by_role("heading", name="Service history"))
    expect(history).to_contain_text("Door grinding")
    expect(page.locator("body")).not_to_contain_text("Spring snapped")
    shot(page, "portal-equipment")
    # another customer's case by URL: not found
    page.goto(f"/portal/cases/{world.oscar_case.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("We could not find that")
    # the 404 status is the one console error expected; anything before it would show here too
    assert page.problems == ["Failed to load resource: the server responded with a status of 404 (Not Found)"]
    page.problems.clear()
    # a phone-sized screen fits
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/portal/cases/{world.ann_case.pk}/")
    assert_fits(page, 390)
    shot(page, "portal-case-phone")
