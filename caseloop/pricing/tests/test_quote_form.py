"""The case page's quote form: a refused quote comes back with the lines as they were chosen."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from caseloop.core import clock
from caseloop.core.money import Money
from caseloop.pricing.actions import publish_price, save_item
from caseloop.pricing.models import Quote
from caseloop.promises.tests.support import T0
from caseloop.testing.factories import make_case
from caseloop.testing.web import signed_in

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture
def book(admin_user) -> None:
    with clock.frozen_at(T0 - dt.timedelta(days=10)):
        for sku, name, amount in (("SPRING-1", "Spring replacement", "120"), ("VISIT", "Service visit", "89")):
            item = save_item(actor=admin_user, sku=sku, name=name)
            publish_price(actor=admin_user, item=item, amount=Money.parse(amount, "USD"))


def chosen(html: str, n: int) -> tuple[list[str], str]:
    """Line `n` of the form as shown: the selected item(s), and the quantity."""
    select = re.search(rf'<select name="sku_{n}".*?</select>', html, re.S)
    quantity = re.search(rf'<input name="quantity_{n}"[^>]*value="([^"]*)"', html)
    assert select is not None and quantity is not None
    return re.findall(r'<option value="([^"]*)" selected>', select.group(0)), quantity.group(1)


def test_a_refused_quote_keeps_its_items_and_quantities(book, agent) -> None:
    case = make_case()
    data = {"sku_0": "SPRING-1", "quantity_0": "3", "sku_1": "VISIT", "quantity_1": "2", "sku_2": "",
            "quantity_2": "", "discount_percent": "150", "valid_days": "30", "note": "note kept"}  # fmt: skip
    with clock.frozen_at(T0):
        response = signed_in(agent).post(f"/prices/cases/{case.pk}/quotes/", data, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 422 and "A discount is 0 to less than 100 percent." in html
    assert [chosen(html, n) for n in range(3)] == [(["SPRING-1"], "3"), (["VISIT"], "2"), ([], "1")]
    assert 'value="note kept"' in html and 'value="150"' in html
    assert not Quote.objects.filter(case=case).exists()


def test_a_new_form_offers_empty_lines_of_one(book, agent) -> None:
    case = make_case()
    with clock.frozen_at(T0):
        html = signed_in(agent).get(f"/prices/cases/{case.pk}/quotes/", headers=HTMX).content.decode()
    assert [chosen(html, n) for n in range(3)] == [([], "1")] * 3
