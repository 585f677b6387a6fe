"""The most used pages, staff and customer, checked for what a keyboard or screen-reader user needs.

Each page: a title saying where one is, a language, one main landmark and one h1 (the first heading), a
name for every control, button and link (from Chromium's own accessibility tree), alt text on images, and
no aria-describedby / aria-labelledby / label `for` pointing at an id that is not there. A refusal is
read with its field: the error is what the field's aria-describedby names. Uses test_browser.py's
fixtures (console errors fail a test).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from caseloop.cases.actions import create_custom_field
from caseloop.cases.choices import CustomFieldType
from caseloop.feedback.actions import create_survey_rule
from caseloop.feedback.tests.factories import sent_survey, solved_case, token_of
from caseloop.identity.actions import create_user
from caseloop.identity.choices import Role
from caseloop.web.tests.scenario import Scenario
from caseloop.web.tests.test_browser import CHROMIUM, browser, page, scenario, sign_in  # noqa: F401 - fixtures

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"),
]

NAMED_ROLES = {"button", "link", "textbox", "searchbox", "combobox", "listbox", "checkbox", "radio", "spinbutton",
               "slider", "switch", "tab", "menuitem"}  # fmt: skip

PAGE_RULES = r"""() => {
  const problems = [];
  if (!document.title.trim() || document.title.trim().startsWith('·')) problems.push('no title: ' + document.title);
  if (!document.documentElement.lang) problems.push('no <html lang>');
  const h1 = document.querySelectorAll('h1').length;
  if (h1 !== 1) problems.push(h1 + ' h1');
  const first = document.querySelector('h1, h2, h3, h4, h5, h6');
  if (first && first.tagName !== 'H1') problems.push('first heading: ' + first.outerHTML.slice(0, 60));
  const main = document.querySelectorAll('main, [role=main]').length;
  if (main !== 1) problems.push(main + ' main landmarks');
  document.querySelectorAll('img:not([alt])').forEach(i => problems.push('no alt: ' + i.outerHTML.slice(0, 80)));
  for (const attr of ['aria-describedby', 'aria-labelledby', 'for']) {
    document.querySelectorAll('[' + attr + ']').forEach(e => {
      if (attr === 'for' && e.tagName !== 'LABEL') return;
      for (const id of e.getAttribute(attr).split(/\s+/).filter(Boolean)) {
        if (document.getElementById(id)) continue;
        problems.push(attr + ' names a missing #' + id + ' on ' + e.outerHTML.slice(0, 90));
      }
    });
  }
  return problems;
}"""

DESCRIBED_BY = (
    "e => (e.getAttribute('aria-describedby') || '').split(/\\s+/).filter(Boolean)"
    ".map(id => document.getElementById(id)).filter(Boolean).map(d => d.textContent.trim()).join(' ')"
)


def unnamed(tab: Any) -> list[str]:
    """Controls, buttons and links Chromium's accessibility tree gives no name."""
    cdp = tab.context.new_cdp_session(tab)
    try:
        nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
    finally:
        cdp.detach()
    return [
        f"{node['role']['value']} (DOM node {node.get('backendDOMNodeId')})"
        for node in nodes
        if not node.get("ignored")
        and node.get("role", {}).get("value") in NAMED_ROLES
        and not str((node.get("name") or {}).get("value", "")).strip()
    ]


def forget_refusals(tab: Any) -> None:
    """The 4xx answers to the refused forms are the console errors expected; any other still fails the test."""
    tab.problems[:] = [p for p in tab.problems if "responded with a status of 4" not in p]


def check_page(tab: Any, where: str) -> None:
    tab.wait_for_load_state("networkidle")  # the case page's panels arrive after the page
    problems = tab.evaluate(PAGE_RULES) + unnamed(tab)
    assert problems == [], f"{where}: {problems}"


def described_by(tab: Any, selector: str) -> str:
    return str(tab.locator(selector).evaluate(DESCRIBED_BY))


def test_staff_pages_and_their_refusals(page: Any, scenario: Scenario) -> None:  # noqa: F811
    from playwright.sync_api import expect

    create_custom_field(actor=None, key="springs", label="Springs", field_type=CustomFieldType.NUMBER,
                        help_text="How many springs the door has.")  # fmt: skip
    page.goto("/login/")
    check_page(page, "sign-in")
    page.get_by_role("button", name="Sign in").click()  # nothing typed: each field says why beside it
    check_page(page, "sign-in refused")
    expect(page.locator("#id_identifier")).to_have_attribute("aria-invalid", "true")
    assert described_by(page, "#id_identifier") != ""
    sign_in(page)
    case = scenario.case
    for where, url in [("inbox", "/inbox/?view=open"), ("case", f"/cases/{case.pk}/"),
                       ("contact", f"/contacts/{scenario.contact.pk}/"), ("search", "/search/?q=grinding"),
                       ("new case", "/cases/new/")]:  # fmt: skip
        page.goto(url)
        check_page(page, where)
    # the composer's refusal is read with the message box
    page.goto(f"/cases/{case.pk}/")
    page.wait_for_load_state("networkidle")
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator("#composer-error")).to_be_visible()
    expect(page.locator("#composer-body")).to_have_attribute("aria-invalid", "true")
    assert described_by(page, "#composer-body") == page.locator("#composer-error").inner_text().strip()
    # a custom field refused: the reason is the field's description, said at once
    springs = page.get_by_label("Springs")
    springs.fill("many")
    springs.press("Tab")
    expect(page.locator("#cf-error-springs")).to_be_visible()
    expect(springs).to_have_attribute("aria-invalid", "true")
    assert "Not saved." in described_by(page, "#cf-input-springs")
    check_page(page, "case with refusals")
    forget_refusals(page)


def test_customer_pages_and_their_refusals(page: Any, scenario: Scenario, live_server: Any) -> None:  # noqa: F811
    from playwright.sync_api import expect

    page.goto("/contact/")
    check_page(page, "contact form")
    page.get_by_role("button", name="Send message").click()  # nothing filled in
    check_page(page, "contact form refused")
    expect(page.get_by_label("Your email address")).to_have_attribute("aria-invalid", "true")
    assert described_by(page, "#id_email") != ""
    page.goto("/portal/sign-in/")
    check_page(page, "portal sign-in")
    page.get_by_label("Your email address").fill("not an address")
    page.get_by_role("button", name="Email me a sign-in link").click()
    check_page(page, "portal sign-in refused")
    assert described_by(page, "#id_email") != ""

    # Ann, signed in to the portal: her case and an empty answer refused
    ann = create_user(username="ann@example.com", email="ann@example.com", role=Role.CUSTOMER,
                      password="portal-pass-phrase-1")  # fmt: skip
    scenario.contact.user = ann
    scenario.contact.save(update_fields=["user"])
    client = Client()
    client.force_login(ann)
    session = client.cookies["sessionid"].value
    page.context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    page.goto("/portal/")
    check_page(page, "portal requests")
    page.goto(f"/portal/cases/{scenario.case.pk}/")
    check_page(page, "portal case")
    page.get_by_label("Your answer").fill("   ")
    page.get_by_role("button", name="Send").click()
    check_page(page, "portal case, answer refused")

    # the survey: a customer's page, without the workspace's keyboard shortcuts
    create_survey_rule(actor=None, name="After a solve")  # a transactional test starts without the default rule
    token = token_of(sent_survey(solved_case(agent=scenario.agent)))
    page.goto(f"/feedback/s/{token}/")
    check_page(page, "survey")
    expect(page.locator("#shortcuts")).to_have_count(0)
    page.locator("body").press("?")
    expect(page.get_by_role("dialog")).to_have_count(0)
    # a refused answer (a crafted value) is read with the question it is about
    page.locator("input[name=expectations]").first.evaluate("e => { e.value = 'crafted'; e.checked = true; }")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert described_by(page, "fieldset:has(input[name=expectations])") == page.get_by_role("alert").inner_text()
    check_page(page, "survey refused")
    forget_refusals(page)
