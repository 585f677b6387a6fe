"""The price book's pages: items listed for managers; administrators add and change items and publish prices."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client, override_settings

from caseloop.core import clock
from caseloop.core.money import Money
from caseloop.pricing.actions import publish_price, save_item
from caseloop.pricing.models import Price, PriceItem
from caseloop.promises.tests.support import T0
from caseloop.testing.web import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def spring(admin_user):
    with clock.frozen_at(T0 - dt.timedelta(days=30)):
        item = save_item(actor=admin_user, sku="SPRING-1", name="Spring replacement", kind="product")
        publish_price(actor=admin_user, item=item, amount=Money.parse("120", "USD"))
    return item


def item_post(**changes: str) -> dict[str, str]:
    return {"sku": "VISIT-1", "name": "Technician visit", "kind": "service", "unit": "visit",
            "description": "Up to an hour on site.", "is_public": "on", "is_active": "on", **changes}  # fmt: skip


def test_an_administrator_adds_an_item_and_is_taken_to_publish_its_price(admin_user, spring):
    response = signed_in(admin_user).post("/prices/book/", item_post())
    item = PriceItem.objects.get(sku="VISIT-1")
    assert (response.status_code, response["Location"]) == (302, f"/prices/book/{item.pk}/")
    assert (item.name, item.kind, item.unit, item.is_public, item.is_active) == (
        "Technician visit", "service", "visit", True, True)  # fmt: skip
    page = signed_in(admin_user).get(f"/prices/book/{item.pk}/").content.decode()
    assert "No price yet" in page and "Publish the price" in page


def test_a_refused_item_says_which_field_and_keeps_what_was_typed(admin_user, spring):
    client = signed_in(admin_user)
    taken = client.post("/prices/book/", item_post(sku="spring-1"))
    assert taken.status_code == 409 and 'id="item-sku-error"' in taken.content.decode()
    assert 'value="Technician visit"' in taken.content.decode()
    spaced = client.post("/prices/book/", item_post(sku="VISIT 1"))
    assert spaced.status_code == 422 and "without spaces" in spaced.content.decode()
    nameless = client.post("/prices/book/", item_post(name=""))
    assert nameless.status_code == 422 and 'id="item-name-error"' in nameless.content.decode()
    assert PriceItem.objects.count() == 1


def test_the_book_lists_each_item_with_its_price_now_and_the_next_one(admin_user, manager, spring):
    with clock.frozen_at(T0):
        publish_price(
            actor=admin_user, item=spring, amount=Money.parse("135", "USD"), valid_from=T0 + dt.timedelta(days=7)
        )
        hidden = save_item(actor=admin_user, sku="PART-9", name="Internal part", is_public=False)
        page = signed_in(manager).get("/prices/book/").content.decode()
    assert "120.00" in page and "135.00 from 9 Mar 2026 09:00 UTC" in page
    assert "Internal part" in page and "staff only" in page and "no price" in page
    assert f'href="/prices/book/{hidden.pk}/"' in page
    assert "Add a product or service" not in page  # managers read, administrators edit


def test_publishing_a_new_price_ends_the_old_one_and_keeps_the_history(admin_user, spring):
    client = signed_in(admin_user)
    with clock.frozen_at(T0):
        response = client.post(f"/prices/book/{spring.pk}/prices/", {"amount": "129.50", "currency": "usd",
                                                                     "valid_from": "", "valid_to": ""})  # fmt: skip
        assert (response.status_code, response["Location"]) == (302, f"/prices/book/{spring.pk}/")
        old, new = Price.objects.filter(item=spring).order_by("valid_from")
        assert (old.amount, old.valid_to) == (Decimal("120.00"), T0)  # ended, not changed
        assert (new.amount, new.currency, new.valid_from, new.valid_to) == (Decimal("129.50"), "USD", T0, None)
        page = client.get(f"/prices/book/{spring.pk}/").content.decode()
    assert "129.50 USD" in page and "120.00 USD" in page and "<strong>in effect</strong>" in page and "ended" in page


def test_a_scheduled_price_is_read_in_the_publishers_time_zone(admin_user, spring):
    admin_user.time_zone = "Europe/Paris"
    admin_user.save(update_fields=["time_zone"])
    with clock.frozen_at(T0):
        response = signed_in(admin_user).post(
            f"/prices/book/{spring.pk}/prices/",
            {"amount": "140", "currency": "USD", "valid_from": "2026-04-01T00:00", "valid_to": "2026-05-01T00:00"},
        )
    assert response.status_code == 302
    price = Price.objects.get(amount=Decimal("140"))
    assert price.valid_from == dt.datetime(2026, 3, 31, 22, 0, tzinfo=dt.UTC)  # midnight in Paris, summer time
    assert price.valid_to == dt.datetime(2026, 4, 30, 22, 0, tzinfo=dt.UTC)


def test_a_refused_price_says_why_beside_its_field_and_publishes_nothing(admin_user, spring):
    client = signed_in(admin_user)
    url = f"/prices/book/{spring.pk}/prices/"
    with clock.frozen_at(T0):
        negative = client.post(url, {"amount": "-5", "currency": "USD"})
        words = client.post(url, {"amount": "a lot", "currency": "USD"})
        currency = client.post(url, {"amount": "5", "currency": "XX"})
        decimals = client.post(url, {"amount": "5.999", "currency": "USD"})  # it was published as 6.00
        backwards = client.post(url, {"amount": "5", "currency": "USD", "valid_from": "2026-04-02T00:00",
                                      "valid_to": "2026-04-01T00:00"})  # fmt: skip
        early = client.post(url, {"amount": "5", "currency": "USD", "valid_from": "2026-01-01T00:00"})
    assert negative.status_code == 422 and 'id="price-amount-error"' in negative.content.decode()
    assert words.status_code == 422 and 'id="price-amount-error"' in words.content.decode()
    assert currency.status_code == 422 and 'id="price-currency-error"' in currency.content.decode()
    assert decimals.status_code == 422 and 'id="price-amount-error"' in decimals.content.decode()
    assert backwards.status_code == 422 and 'id="price-to-error"' in backwards.content.decode()
    assert early.status_code == 409 and 'id="price-from-error"' in early.content.decode()
    assert 'value="a lot"' in words.content.decode()
    assert Price.objects.filter(item=spring).count() == 1


def test_an_administrator_changes_an_item_but_not_its_sku_history(admin_user, spring):
    response = signed_in(admin_user).post(
        f"/prices/book/{spring.pk}/", item_post(sku="SPRING-1", name="Torsion spring replacement", is_public="")
    )
    assert response.status_code == 302
    spring.refresh_from_db()
    assert (spring.name, spring.is_public, spring.unit) == ("Torsion spring replacement", False, "visit")
    assert Price.objects.filter(item=spring).count() == 1


def test_a_manager_reads_and_an_agent_is_refused(manager, agent, spring):
    for_manager = signed_in(manager)
    page = for_manager.get(f"/prices/book/{spring.pk}/").content.decode()
    assert "120.00 USD" in page and "Publish the price" not in page
    assert for_manager.post(f"/prices/book/{spring.pk}/prices/", {"amount": "1", "currency": "USD"}).status_code == 403
    assert for_manager.post("/prices/book/", item_post()).status_code == 403
    for_agent = signed_in(agent)
    assert for_agent.get("/prices/book/").status_code == 403
    assert for_agent.get(f"/prices/book/{spring.pk}/").status_code == 403
    assert for_agent.post(f"/prices/book/{spring.pk}/prices/", {"amount": "1", "currency": "USD"}).status_code == 403
    assert Price.objects.count() == 1 and PriceItem.objects.count() == 1
    assert signed_in(manager).get("/prices/book/999999/").status_code == 404


@override_settings(CASELOOP_PORTAL_NAME="Acme Doors")
def test_the_public_price_list_is_a_customer_page_in_the_portal_layout(spring):
    html = Client().get("/prices/").content.decode()
    assert '<body class="portal">' in html and "Prices · Acme Doors</title>" in html and "Acme Doors</a>" in html
    assert "auth-card" not in html and "caseloop" not in html.replace("/static/", "")
    assert "<h1>Prices</h1>" in html
