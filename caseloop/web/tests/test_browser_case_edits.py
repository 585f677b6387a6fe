"""The case page's Details panel in a real browser: each select saves its own field.

Uses test_browser.py's fixtures (a module-wide Chromium, a page that fails on console errors,
the scenario in a transactional database).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs

import pytest

from caseloop.cases.actions import create_macro
from caseloop.cases.models import Case, Macro, Message
from caseloop.web.tests.scenario import Scenario
from caseloop.web.tests.test_browser import CHROMIUM, browser, page, scenario, shot, sign_in  # noqa: F401 - fixtures

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"),
]


def choose(tab: Any, label: str, option: dict[str, str]) -> dict[str, list[str]]:
    """Pick `option` in the Details select `label`; the fields the panel posted for it.

    Returns once htmx has swapped the new panel in: a choice made on the old panel between the
    answer and the swap would post nothing (the selects are marked stale to tell them apart).
    """
    from playwright.sync_api import expect

    tab.locator("#case-props select").evaluate_all("all => all.forEach(s => { s.dataset.stale = 'yes' })")
    with tab.expect_response(re.compile(r"/cases/\d+/edit/$")) as answer:
        tab.get_by_label(label, exact=True).select_option(**option)
    response = answer.value
    expect(tab.locator("#case-props select[data-stale]")).to_have_count(0)
    assert response.status == 200, response.text()
    posted = parse_qs(response.request.post_data or "", keep_blank_values=True)
    posted.pop("csrfmiddlewaretoken", None)
    return posted


def test_priority_assignee_and_team_change_in_place(page: Any, scenario: Scenario) -> None:  # noqa: F811 - fixtures
    from playwright.sync_api import expect

    case = scenario.case
    sign_in(page)
    page.goto(f"/cases/{case.pk}/")
    page.wait_for_load_state("load")

    assert choose(page, "Priority", {"value": "urgent"}) == {"priority": ["urgent"]}
    expect(page.get_by_label("Priority", exact=True)).to_have_value("urgent")
    said = page.locator("#case-edit-status")  # the page's live region, outside the panel htmx replaces
    expect(said).to_have_text("Priority saved: Urgent.")
    assert Case.objects.get(pk=case.pk).priority == "urgent"

    assert choose(page, "Assignee", {"label": "Eli Brooks"}) == {"assignee": [str(scenario.colleague.pk)]}
    expect(page.get_by_label("Assignee", exact=True)).to_have_value(str(scenario.colleague.pk))
    expect(said).to_have_text("Assignee saved: Eli Brooks.")
    assert Case.objects.get(pk=case.pk).assignee_id == scenario.colleague.pk

    assert choose(page, "Team", {"label": "No team"}) == {"team": [""]}
    expect(page.get_by_label("Team", exact=True)).to_have_value("")
    expect(said).to_have_text("Team saved: No team.")
    assert Case.objects.get(pk=case.pk).team_id is None

    # the status still changes, and nothing else moved with it
    assert choose(page, "Status", {"value": "pending"}) == {"status": ["pending"]}
    expect(page.locator("#case-timeline")).to_contain_text("open → pending")
    expect(said).to_have_text("Status saved: Pending (waiting on customer).")
    expect(page.locator("#case-props #case-edit-status")).to_have_count(0)
    shot(page, "case-details-changed")
    after = Case.objects.get(pk=case.pk)
    assert (after.status, after.priority, after.assignee_id, after.team_id) == (
        "pending", "urgent", scenario.colleague.pk, None)  # fmt: skip


def test_a_deleted_canned_reply_keeps_the_typed_text(page: Any, scenario: Scenario) -> None:  # noqa: F811 - fixtures
    from playwright.sync_api import expect

    case = scenario.case
    create_macro(actor=scenario.agent, name="Sign off", body="Kind regards")
    sign_in(page)
    page.goto(f"/cases/{case.pk}/")
    page.wait_for_load_state("load")
    page.locator("#composer-body").fill("Half a reply, typed with care.")
    Macro.objects.filter(name="Ask for photo").delete()  # by someone else, after the page loaded
    page.get_by_label("Insert a canned reply").select_option(label="Ask for photo")
    expect(page.locator("#macro-error")).to_contain_text("That canned reply is no longer available.")
    expect(page.locator("#composer-body")).to_have_value("Half a reply, typed with care.")
    expect(page.locator("#macro-select option")).to_have_count(2)  # the picker no longer offers it
    shot(page, "case-macro-gone")
    # a canned reply that works clears the refusal
    page.get_by_label("Insert a canned reply").select_option(label="Sign off")
    expect(page.locator("#composer-body")).to_have_value(re.compile(r"^Half a reply, typed with care\.\s+Kind regards"))
    expect(page.locator("#macro-error")).to_be_hidden()
    # the composer still works
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator(".message-outbound").last).to_contain_text("Half a reply, typed with care.")
    assert Message.objects.filter(case=case, body_text__startswith="Half a reply, typed with care.").count() == 1
    # the refusal is a 404 (the reply is gone), which Chromium logs; nothing else may be logged
    expected = "Failed to load resource: the server responded with a status of 404 (Not Found)"
    assert page.problems == [expected]
    page.problems.clear()
