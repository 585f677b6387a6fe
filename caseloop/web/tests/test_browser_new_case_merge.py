"""A new case from the phone and a contact merge, in a real browser (the fixtures are test_browser's)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from caseloop.cases.models import Case, Message
from caseloop.customers.models import Contact
from caseloop.testing.factories import make_case, make_contact
from caseloop.web.tests import test_browser
from caseloop.web.tests.scenario import Scenario
from caseloop.web.tests.test_browser import CHROMIUM, shot, sign_in

# test_browser's fixtures (the Chromium, a checked page on the live server, the scenario), used here by name
browser, page, scenario = test_browser.browser, test_browser.page, test_browser.scenario

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"),
]


def test_a_rep_opens_a_case_for_a_caller_found_by_name(page: Any, scenario: Scenario) -> None:
    from playwright.sync_api import expect

    sign_in(page)
    page.goto("/cases/new/")
    page.wait_for_load_state("load")
    # a refusal first: nobody chosen, and what was typed stays
    page.get_by_label("Subject").fill("Opener light flickers after the storm")
    page.get_by_label("First message", exact=True).fill("Caller says the light flickers when the door moves.")
    page.get_by_role("button", name="Open case").click()
    expect(page.locator("#nc-requester-error")).to_contain_text("Choose someone")
    expect(page.get_by_label("Subject")).to_have_value("Opener light flickers after the storm")
    # the refused form came back as 422, which Chromium logs; that one is expected
    page.problems[:] = [p for p in page.problems if "status of 422" not in p]
    # the live lookup finds Ann by a word of her name; choosing her offers her site and garage door
    page.get_by_label("Find a person by name, email or phone").press_sequentially("smi", delay=30)
    page.get_by_label(re.compile("Ann Smith")).check()
    page.get_by_label("Asset (optional)").select_option(str(scenario.door.pk))
    page.get_by_label("Priority").select_option("high")
    page.get_by_label("Team").select_option(label="Doors and openers")
    page.get_by_label("Tags (separated by spaces)").fill("lights")
    shot(page, "new-case", full_page=True)
    page.get_by_role("button", name="Open case").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Opener light flickers after the storm")
    case = Case.objects.latest("pk")
    expect(page.locator(".flash-success")).to_contain_text(f"{case.number} opened for Ann Smith.")
    expected = (scenario.contact.pk, scenario.door.pk, "high", "phone")
    assert (case.requester_id, case.asset_id, case.priority, case.channel) == expected
    assert Message.objects.get(case=case).direction == "inbound"


def test_a_duplicate_contact_is_merged_into_the_one_that_lives_on(page: Any, scenario: Scenario) -> None:
    from playwright.sync_api import expect

    duplicate = make_contact(name="Ann S.", email="ann.smith@work.test")
    make_case(requester=duplicate, subject="Second remote needed")
    sign_in(page)
    page.goto(f"/contacts/{duplicate.pk}/")
    page.get_by_role("link", name="Merge into another contact…").click()
    page.wait_for_load_state("load")
    page.get_by_label("Find a person by name, email or phone").press_sequentially("ann@example.com", delay=10)
    page.get_by_label(re.compile("Ann Smith")).check()
    page.get_by_role("button", name="Review the merge").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Merge Ann S. into Ann Smith?")
    expect(page.get_by_role("region", name=re.compile("What moves"))).to_contain_text("1 case they asked for")
    shot(page, "merge-confirm", full_page=True)
    page.get_by_role("button", name="Merge into Ann Smith").click()
    expect(page).to_have_url(re.compile(f"/contacts/{scenario.contact.pk}/$"))
    expect(page.locator(".flash-success")).to_contain_text("Ann S.")
    expect(page.get_by_role("region", name="Cases")).to_contain_text("Second remote needed")
    assert Contact.objects.get(pk=duplicate.pk).merged_into_id == scenario.contact.pk
