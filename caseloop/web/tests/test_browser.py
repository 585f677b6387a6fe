"""The workspace in a real browser: Debian's Chromium driven by Playwright against a live server.

Few and broad on purpose (each starts a page and a server round trip); the view tests
cover the details. Every test saves a screenshot to test-artifacts/screenshots/, and
console errors (a Content-Security-Policy violation shows up as one) fail the test.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from caseloop.cases.models import Case, Message
from caseloop.testing import live
from caseloop.web.tests.scenario import PASSWORD, Scenario, add_inbox_cases, build_scenario

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[3]
SHOTS = REPO / "test-artifacts" / "screenshots"
DOCS_SHOTS = REPO / "docs" / "screenshots"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run"]  # fmt: skip

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian's chromium is not installed at /usr/bin/chromium (python3 bootstrap.py test installs it)",
    ),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django's ORM, called by the
    # test between browser steps, refuses to run under one unless told it is safe (it is:
    # the calls are ordinary synchronous calls, not coroutines).
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def scenario(transactional_db: None) -> Scenario:
    s = build_scenario()
    add_inbox_cases(s)
    return s


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1440, "height": 900})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    problems: list[str] = []
    tab.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    tab.on("pageerror", lambda exc: problems.append(str(exc)))
    tab.problems = problems
    yield tab
    # Closing the page fires its "left the case" beacon; refuse every request first so that no
    # request reaches the live server after this test's database access has ended, then let the
    # server finish those already under way (a flush meeting one fails on a table lock)
    context.route("**/*", lambda route: route.abort())
    tab.goto("about:blank")
    context.close()
    live.wait_until_idle()
    assert problems == [], f"browser console errors: {problems}"


def shot(tab: Any, name: str, *, docs: bool = False, full_page: bool = False) -> None:
    """Save a screenshot; with CASELOOP_UPDATE_SCREENSHOTS=1 the README's copies are refreshed too
    (only then, so that a test run leaves the committed files alone)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    tab.screenshot(path=str(path), full_page=full_page)
    if docs and os.environ.get("CASELOOP_UPDATE_SCREENSHOTS") == "1":
        DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_SHOTS / f"{name}.png")


def sign_in(tab: Any, identifier: str = "dana") -> None:
    tab.goto("/login/")
    tab.get_by_label("Username or email").fill(identifier)
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Sign in").click()
    tab.wait_for_url("**/inbox/")


def test_sign_in_inbox_views_and_bulk_assign(page: Any, scenario: Scenario) -> None:
    from playwright.sync_api import expect

    page.goto("/inbox/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/inbox/"))
    sign_in(page, "dana@support.test")  # email works as well as the username
    expect(page.get_by_role("heading", name="Mine")).to_be_visible()
    page.get_by_role("link", name=re.compile("All open")).click()
    expect(page.locator("tr[data-list-item]")).to_have_count(12)
    expect(page.get_by_role("link", name=re.compile("Unassigned"))).to_contain_text("6")
    shot(page, "inbox", docs=True)
    # bulk: two unassigned cases to me, one summary
    unassigned = list(Case.objects.filter(assignee__isnull=True, status="new").order_by("-id")[:2])
    for case in unassigned:
        page.get_by_label(f"Select {case.number}").check()
    expect(page.locator("[data-selected-count]")).to_have_text("2 selected")
    page.get_by_label("Assign to", exact=True).select_option("me")
    page.get_by_role("button", name="Assign", exact=True).click()
    expect(page.locator(".flash-success")).to_contain_text("2 cases assigned to Dana Reyes.")
    assert {c.assignee_id for c in Case.objects.filter(pk__in=[c.pk for c in unassigned])} == {scenario.agent.pk}
    # filter, then keep the filter as a saved view
    page.get_by_text("Filter and sort").click()
    page.get_by_label("Urgent").check()
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("tr[data-list-item]")).to_have_count(2)
    page.get_by_label("Save these filters as a view").fill("Urgent ones")
    page.get_by_role("button", name="Save view").click()
    expect(page.get_by_role("heading", name="Urgent ones")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Urgent ones"))).to_have_attribute("aria-current", "page")
    shot(page, "inbox-saved-view")


def test_case_page_reply_note_status_and_timeline(page: Any, scenario: Scenario) -> None:
    from playwright.sync_api import expect

    sign_in(page)
    page.get_by_role("link", name=re.compile("Garage door opener grinding")).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Garage door opener grinding")
    page.wait_for_load_state("load")  # htmx and the page's script run after the heading shows
    # the sanitised customer HTML shows its markup but never its script
    expect(page.locator(".message-inbound b")).to_have_text("It is loud")
    expect(page.get_by_role("region", name="Customer")).to_contain_text("Spring snapped on the garage door")
    shot(page, "case", docs=True)
    # a canned reply fills its placeholders, then the reply is sent
    page.get_by_label("Insert a canned reply").select_option(label="Ask for photo")
    expect(page.locator("#composer-body")).to_have_value(
        f"Hi Ann, could you send a photo? Regards, Dana Reyes ({scenario.case.number})"
    )
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator(".message-outbound").last).to_contain_text("could you send a photo?")
    expect(page.locator("#composer-body")).to_have_value("")
    # n: an internal note
    page.locator("body").press("n")
    expect(page.locator("#composer-body")).to_be_focused()
    page.locator("#composer-body").fill("Ordered the drive gear kit.")
    page.locator("#composer-body").press("Control+Enter")
    expect(page.locator(".message-note").last).to_contain_text("Ordered the drive gear kit.")
    # status in place; the timeline refreshes itself
    page.get_by_label("Status", exact=True).select_option("pending")
    expect(page.get_by_label("Status", exact=True)).to_have_value("pending")
    expect(page.locator("#case-timeline")).to_contain_text("open → pending")
    shot(page, "case-after-reply", full_page=True)
    kinds = list(Message.objects.filter(case=scenario.case).order_by("id").values_list("direction", flat=True))
    assert kinds[-2:] == ["outbound", "note"]
    assert Case.objects.get(pk=scenario.case.pk).status == "pending"


def test_search_and_asset_history(page: Any, scenario: Scenario) -> None:
    from playwright.sync_api import expect

    sign_in(page)
    page.locator("body").press("/")
    expect(page.locator("#global-search")).to_be_focused()
    page.keyboard.type("grinding")
    page.keyboard.press("Enter")
    expect(page.locator(".hits mark").first).to_have_text(re.compile("grinding", re.IGNORECASE))
    shot(page, "search")
    page.locator("#global-search").fill("GD-2040")
    page.keyboard.press("Enter")
    page.get_by_role("link", name="Garage door").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Garage door")
    history = page.locator("section", has=page.get_by_role("heading", name="Service history"))
    expect(history).to_contain_text("Spring snapped on the garage door")
    expect(history).to_contain_text("Tom Older (earlier owner)")
    shot(page, "asset-history")


def test_keyboard_shortcuts(page: Any, scenario: Scenario) -> None:
    from playwright.sync_api import expect

    sign_in(page)
    page.goto("/inbox/?view=open")
    page.locator("body").press("?")
    expect(page.get_by_role("dialog")).to_be_visible()
    shot(page, "shortcuts")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    rows = page.locator("tr[data-list-item]")
    page.locator("body").press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    expect(rows.nth(0)).to_have_class(re.compile("is-selected"))
    page.keyboard.press("j")
    expect(rows.nth(1)).to_have_class(re.compile("is-selected"))
    page.keyboard.press("x")
    expect(page.locator("[data-selected-count]")).to_have_text("1 selected")
    number = rows.nth(1).locator(".case-number").inner_text()
    page.keyboard.press("o")
    expect(page.get_by_role("heading", level=1)).to_contain_text(number)
    # the heading shows before the page's script has run; a key pressed then has no handler yet (a loaded
    # machine showed it: the composer was never focused)
    page.wait_for_load_state("load")
    page.locator("body").press("r")
    expect(page.locator("#composer-body")).to_be_focused()
    expect(page.locator("#composer input[value='reply']")).to_be_checked()


def assert_fits(tab: Any, width: int) -> None:
    """Nothing is wider than the screen: the page never scrolls sideways."""
    too_wide = tab.evaluate(
        "w => Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > w + 0.5)"
        ".slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))",
        width,
    )
    assert tab.evaluate("document.documentElement.scrollWidth") <= width, too_wide


def test_phone_sized_screen(page: Any, scenario: Scenario) -> None:
    from playwright.sync_api import expect

    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page)
    page.goto("/inbox/?view=open")
    expect(page.locator("tr[data-list-item]").first).to_be_visible()
    shot(page, "inbox-phone")
    assert_fits(page, 390)
    page.goto(f"/cases/{scenario.case.pk}/")
    shot(page, "case-phone")
    assert_fits(page, 390)
