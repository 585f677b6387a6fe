"""The case page's Fields block in a real browser: each custom field saves itself in place.

Uses test_browser.py's fixtures (a module-wide Chromium, a page that fails on console errors,
the scenario in a transactional database).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs

import pytest

from caseloop.cases.actions import create_custom_field
from caseloop.cases.choices import CustomFieldType
from caseloop.cases.models import Case
from caseloop.web.tests.scenario import Scenario
from caseloop.web.tests.test_browser import CHROMIUM, browser, page, scenario, shot, sign_in  # noqa: F401 - fixtures

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"),
]
SAVE = re.compile(r"/cases/\d+/fields/$")


def saved(tab: Any, action: Any, status: int = 200) -> dict[str, list[str]]:
    """Run `action`; what the field's form posted (the answer having the status expected)."""
    with tab.expect_response(lambda r: bool(SAVE.search(r.url)) and r.request.method == "POST") as answer:
        action()
    response = answer.value
    assert response.status == status, response.text()
    posted = parse_qs(response.request.post_data or "", keep_blank_values=True)
    posted.pop("csrfmiddlewaretoken", None)
    return posted


def test_fields_save_one_at_a_time_refuse_in_place_and_close(page: Any, scenario: Scenario) -> None:  # noqa: F811
    from playwright.sync_api import expect

    create_custom_field(actor=None, key="door_model", label="Door model", field_type=CustomFieldType.CHOICE,
                        choices=["8000", "9100"], required=True, help_text="On the label inside the door.")  # fmt: skip
    create_custom_field(actor=None, key="springs", label="Springs", field_type=CustomFieldType.NUMBER)
    create_custom_field(actor=None, key="visit_on", label="Visit on", field_type=CustomFieldType.DATE)
    case = scenario.case
    sign_in(page)
    page.goto(f"/cases/{case.pk}/")
    fields = page.locator("#case-fields")
    expect(fields.get_by_text("On the label inside the door.")).to_be_visible()  # loaded after the page
    expect(fields.get_by_text("Required: not filled in yet.")).to_be_visible()

    # a choice: the select posts itself alone, and the timeline shows the change
    door = page.get_by_label("Door model")
    assert saved(page, lambda: door.select_option("9100")) == {"custom_fields.door_model": ["9100"]}
    expect(fields.get_by_text("Required: not filled in yet.")).to_have_count(0)
    expect(page.locator("#case-timeline")).to_contain_text("changed field door_model")
    said = page.locator("#case-edit-status")  # the page's live region: the row's "Saved." is replaced content
    expect(said).to_have_text("Door model saved.")

    # a number typed and left (Tab): saved on change; the date input sends YYYY-MM-DD
    springs = page.get_by_label("Springs")
    springs.fill("2")
    assert saved(page, lambda: springs.press("Tab")) == {"custom_fields.springs": ["2"]}
    expect(page.locator("#cf-springs")).to_contain_text("Saved.")
    expect(said).to_have_text("Springs saved.")
    assert saved(page, lambda: page.get_by_label("Visit on").fill("2027-05-05")) == {
        "custom_fields.visit_on": ["2027-05-05"]}  # fmt: skip
    assert Case.objects.get(pk=case.pk).custom_fields == {"door_model": "9100", "springs": 2, "visit_on": "2027-05-05"}

    # a refusal beside the field, the typed text kept, the other fields as they were
    springs = page.get_by_label("Springs")
    springs.fill("2.5")
    assert saved(page, lambda: springs.press("Tab"), status=422) == {"custom_fields.springs": ["2.5"]}
    expect(page.locator("#cf-error-springs")).to_contain_text("Springs must be a whole number")
    expect(said).to_have_text("")  # the refusal is the field's alert; nothing is said saved
    expect(page.get_by_label("Springs")).to_have_value("2.5")
    expect(page.get_by_label("Door model")).to_have_value("9100")
    page.problems[:] = [p for p in page.problems if "status of 422" not in p]
    shot(page, "case-fields-refused")

    # cleared: the value goes
    springs = page.get_by_label("Springs")
    springs.fill("")
    assert saved(page, lambda: springs.press("Tab")) == {"custom_fields.springs": [""]}
    expect(page.get_by_label("Springs")).to_have_value("")
    assert "springs" not in Case.objects.get(pk=case.pk).custom_fields

    # solved, then closed in the Details panel: the block reloads read-only
    for status in ("solved", "closed"):
        # mark the select, so the next choice waits for the panel htmx swaps in (a choice made on
        # the old select between the answer and the swap posts nothing)
        page.locator("#prop-status").evaluate("select => { select.dataset.stale = 'yes' }")
        with page.expect_response(re.compile(r"/cases/\d+/edit/$")):
            page.get_by_label("Status", exact=True).select_option(status)
        expect(page.locator("#prop-status[data-stale]")).to_have_count(0)
    expect(fields.get_by_text("its fields cannot change")).to_be_visible()
    expect(fields.locator("input, select")).to_have_count(0)
    expect(fields).to_contain_text("9100")
    shot(page, "case-fields-closed")
