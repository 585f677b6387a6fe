"""A refused set-up form (SLA calendars and policies, the price book) reads each reason with its field.

Without a browser: each refused page's aria-describedby ids are all in the page, and every
field error is named by the aria-describedby of a field it is about (test_browser_accessibility.py
checks the same, in Chromium, on the pages it walks).
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from caseloop.pricing.actions import save_item
from caseloop.sla.actions import save_calendar, save_policy
from caseloop.testing.web import signed_in

pytestmark = pytest.mark.django_db

WEEK = {f"hours_{day}": "" for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.described: set[str] = set()
        self.errors: list[str] = []  # each field error's id ("" when it has none)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(str(found["id"]))
        self.described.update((found.get("aria-describedby") or "").split())
        if "field-error" in (found.get("class") or "").split():
            self.errors.append(found.get("id") or "")


def problems(html: str) -> list[str]:
    page = _Ids()
    page.feed(html)
    assert page.errors, "the page shows no field error"
    dangling = [f"aria-describedby names a missing #{i}" for i in sorted(page.described - page.ids)]
    unread = [f"a field error #{e or '(no id)'} no field names" for e in page.errors if e not in page.described]
    return dangling + unread


def test_each_refused_setup_form_ties_its_errors_to_their_fields(admin_user):
    client = signed_in(admin_user)
    office = save_calendar(actor=admin_user, name="Office", time_zone="Europe/Paris", hours={"mon": ["09:00-17:00"]})
    policy = save_policy(actor=admin_user, name="Urgent", position=10, first_response_minutes=15)
    item = save_item(actor=admin_user, sku="SPRING-1", name="Spring replacement", kind="product")
    bad_calendar = {"name": "", "time_zone": "Mars/Olympus", **WEEK, "hours_mon": "nine to five", "holidays": "soon"}
    bad_policy = {"name": "", "position": "-1", "priorities": ["whenever"], "channels": ["pigeon"],
                  "tiers": ["gold-plated"], "first_response_minutes": "0", "calendar": "999999",
                  "warn_minutes": "x"}  # fmt: skip
    bad_item = {"sku": "", "name": "", "kind": "gadget", "unit": "", "description": ""}
    refused = {
        "new calendar": client.post("/sla/calendars/", bad_calendar),
        "calendar": client.post(f"/sla/calendars/{office.pk}/", bad_calendar),
        "new policy": client.post("/sla/policies/", bad_policy),
        "policy": client.post(f"/sla/policies/{policy.pk}/", bad_policy),
        "new item": client.post("/prices/book/", bad_item),
        "item": client.post(f"/prices/book/{item.pk}/", bad_item),
        "price": client.post(f"/prices/book/{item.pk}/prices/", {"amount": "a lot", "currency": "XX"}),
    }
    found = {where: (r.status_code, problems(r.content.decode())) for where, r in refused.items()}
    assert found == {where: (422, []) for where in refused}
