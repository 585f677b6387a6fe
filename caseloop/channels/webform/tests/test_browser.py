"""The contact form in Debian's Chromium against a live server (few and broad; the view tests hold the details).

Console errors fail the test (a Content-Security-Policy violation is one), as in the workspace's browser tests,
whose fixtures these reuse.
"""

from __future__ import annotations

from typing import Any

import pytest

from caseloop.cases.choices import Channel
from caseloop.cases.models import Case
from caseloop.web.tests.test_browser import CHROMIUM, assert_fits, browser, page, shot

__all__ = ["browser", "page"]  # fixtures used by name

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"),
]

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_submit_the_contact_form(page: Any, transactional_db: None, settings: Any) -> None:
    from playwright.sync_api import expect

    settings.CASELOOP_WEBFORM_TOPICS = "question=A question,repair=A repair or a service visit,billing=Billing"
    page.goto("/contact/")
    page.get_by_label("Your name").fill("Ann Smith")
    page.get_by_label("Your email address").fill("ann@example.com")
    page.get_by_label("What is it about?").select_option(label="A repair or a service visit")
    page.get_by_label("Your message").fill("The garage door stops half way and goes back up.")
    page.get_by_label("Photos or documents").set_input_files(
        [{"name": "door.png", "mimeType": "image/png", "buffer": PNG}]
    )
    honeypot = page.locator("#id_website").bounding_box()
    assert honeypot is not None and honeypot["x"] + honeypot["width"] <= 0  # out of sight, still in the form
    shot(page, "contact-form", docs=True)
    page.get_by_role("button", name="Send message").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you, we have your message")
    case = Case.objects.get()
    # the page names no case: whoever typed the address may not be its owner (ADR 0076)
    expect(page.get_by_role("status")).to_have_text(
        "We will reply by email to the address you gave, on working days usually within one day."
    )
    expect(page.get_by_text(case.number)).to_have_count(0)
    assert (case.channel, case.subject) == (Channel.WEB, "A repair or a service visit: The garage door stops half "
                                                         "way and goes back up.")  # fmt: skip
    assert case.messages.get().message_attachments.get().filename == "door.png"
    shot(page, "contact-sent")
    # on a phone-sized screen the form fits without sideways scrolling
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/contact/")
    expect(page.get_by_role("button", name="Send message")).to_be_visible()
    assert_fits(page, 390)
    shot(page, "contact-form-phone")
