"""The SLA set-up in a real browser: an administrator adds a business calendar (with a mistake first), then an
SLA policy on it, and changes the policy. Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

from typing import Any

import pytest

from caseloop.identity.choices import Role
from caseloop.policies.tests.test_browser import sign_in
from caseloop.sla.models import BusinessCalendar, SlaPolicy
from caseloop.testing.factories import make_agent
from caseloop.web.tests.test_browser import CHROMIUM, browser, page, shot  # noqa: F401  (fixtures)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"),
]


def test_an_administrator_sets_up_business_hours_and_an_sla_policy(page: Any, transactional_db: None) -> None:  # noqa: F811
    from playwright.sync_api import expect

    admin = make_agent(username="root", role=Role.ADMIN)
    sign_in(page, admin)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Policies").click()
    page.get_by_role("link", name="Business calendars").first.click()
    expect(page.get_by_role("heading", name="Business calendars")).to_be_visible()

    form = page.get_by_role("region", name="Add a calendar")
    form.get_by_label("Name").fill("Lyon office")
    form.get_by_label("Time zone").fill("Europe/Paris")
    form.get_by_label("Tuesday").fill("17:00-09:00")
    form.get_by_label("Saturday").fill("09:00-12:00")
    form.get_by_label("Holidays (closed all day), one date a line: YYYY-MM-DD").fill("2026-12-25")
    form.get_by_role("button", name="Add the calendar").click()
    # refused: the mistake is named beside Tuesday, and everything typed is still there
    expect(page.get_by_text("tue: '17:00-09:00' must start before it ends, within the day.")).to_be_visible()
    expect(page.get_by_label("Tuesday")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Saturday")).to_have_value("09:00-12:00")
    page.get_by_label("Tuesday").fill("09:00-12:00, 13:00-17:00")
    page.get_by_role("button", name="Add the calendar").click()
    expect(page.get_by_text("Calendar “Lyon office” saved.")).to_be_visible()
    expect(page.get_by_role("cell", name="Europe/Paris")).to_be_visible()
    calendar = BusinessCalendar.objects.get()
    assert calendar.hours["tue"] == ["09:00-12:00", "13:00-17:00"] and calendar.holidays == ["2026-12-25"]
    shot(page, "sla-calendars", full_page=True)

    page.get_by_role("link", name="SLA policies").first.click()
    form = page.get_by_role("region", name="Add a policy")
    form.get_by_label("Name", exact=True).fill("Urgent")
    form.get_by_label("Urgent", exact=True).check()
    form.get_by_label("Phone").check()
    form.get_by_label("First response").fill("30")
    form.get_by_label("Resolution").fill("480")
    form.get_by_label("Business hours").select_option(label="Lyon office (Europe/Paris)")
    form.get_by_role("button", name="Add the policy").click()
    expect(page.get_by_text("SLA policy “Urgent” saved; it applies to cases opened from now on.")).to_be_visible()
    policy = SlaPolicy.objects.get()
    assert (policy.priorities, policy.channels, policy.calendar_id) == (["urgent"], ["phone"], calendar.pk)
    assert (policy.first_response_minutes, policy.resolution_minutes) == (30, 480)

    page.get_by_role("link", name="Urgent", exact=True).click()
    form = page.get_by_role("region", name="Match and targets")
    expect(form.get_by_label("First response")).to_have_value("30")
    form.get_by_label("First response").fill("20")
    form.get_by_label("Chat").check()
    form.get_by_role("button", name="Save the policy").click()
    expect(page.get_by_text("SLA policy “Urgent” saved; it applies to cases opened from now on.")).to_be_visible()
    policy.refresh_from_db()
    assert (policy.first_response_minutes, policy.channels) == (20, ["chat", "phone"])
    shot(page, "sla-policies", full_page=True)
    # the refused calendar above is a 422 the page shows, not a fault
    page.problems[:] = [p for p in page.problems if "status of 422" not in p]
