"""Reads of the price book and quotes: one published price, the same for the public page, the API and a quote."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from caseloop.cases.models import Case
from caseloop.core import clock
from caseloop.core.errors import NotFound
from caseloop.identity.models import User
from caseloop.identity.selectors import require_staff
from caseloop.pricing.models import Price, PriceItem, Quote


def _in_effect(at: dt.datetime) -> Q:
    return Q(valid_from__lte=at) & (Q(valid_to__isnull=True) | Q(valid_to__gt=at))


def published_price(item: PriceItem, *, currency: str, at: dt.datetime | None = None) -> Price | None:
    """The price of `item` in `currency` in effect at `at` (now): the one answer every channel gives."""
    return Price.objects.filter(_in_effect(at or clock.now()), item=item, currency=currency).first()


@dataclass(frozen=True, slots=True)
class PriceLine:
    item: PriceItem
    price: Price


def price_list(*, currency: str, public_only: bool, at: dt.datetime | None = None, query: str = "") -> list[PriceLine]:
    """Active items with their price in effect now (items without one are left out), by name."""
    moment = at or clock.now()
    items = PriceItem.objects.filter(is_active=True)
    if public_only:
        items = items.filter(is_public=True)
    if query.strip():
        items = items.filter(Q(name__icontains=query.strip()) | Q(sku__iexact=query.strip()))
    prices = {p.item_id: p for p in Price.objects.filter(_in_effect(moment), currency=currency, item__in=items)}
    return [PriceLine(item=i, price=prices[i.pk]) for i in items.order_by("name", "sku") if i.pk in prices]


def items_visible_to(actor: User | None) -> QuerySet[PriceItem]:
    """Staff see every item; anyone else (and the public) only public, active ones."""
    qs = PriceItem.objects.order_by("name", "sku")
    if actor is not None and actor.is_staff_member:
        return qs
    return qs.filter(is_public=True, is_active=True)


def access_item(actor: User | None, sku: str) -> PriceItem:
    item = items_visible_to(actor).filter(sku=sku).first()
    if item is None:
        raise NotFound("Item", sku)
    return item


def access_item_by_id(actor: User, item_id: int) -> PriceItem:
    """An item of the price book for its staff pages (any item, public or not, active or not)."""
    require_staff(actor)
    item = PriceItem.objects.filter(pk=item_id).first()
    if item is None:
        raise NotFound("Item", item_id)
    return item


@dataclass(frozen=True, slots=True)
class BookRow:
    """An item as the price book's page lists it: its price now and the next one scheduled (default currency)."""

    item: PriceItem
    current: Price | None
    scheduled: Price | None


def price_book(actor: User, *, currency: str, at: dt.datetime | None = None) -> list[BookRow]:
    """Every item (staff), by name, with its price in effect now and the next one scheduled; two queries."""
    require_staff(actor)
    moment = at or clock.now()
    items = list(PriceItem.objects.order_by("name", "sku"))
    current: dict[int, Price] = {}
    scheduled: dict[int, Price] = {}
    for price in (
        Price.objects.filter(currency=currency)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=moment))
        .order_by("valid_from")
    ):
        if price.valid_from <= moment:
            current[price.item_id] = price
        else:
            scheduled.setdefault(price.item_id, price)
    return [BookRow(item=i, current=current.get(i.pk), scheduled=scheduled.get(i.pk)) for i in items]


def price_history(item: PriceItem) -> list[Price]:
    return list(item.prices.order_by("currency", "-valid_from"))


def quotes_of_case(actor: User, case: Case) -> list[Quote]:
    require_staff(actor)
    return list(
        Quote.objects.filter(case=case)
        .prefetch_related("lines")
        .select_related("created_by", "concession")
        .order_by("-id")
    )


def access_quote(actor: User, quote_id: int) -> Quote:
    require_staff(actor)
    quote = (
        Quote.objects.select_related("case", "contact", "concession")
        .prefetch_related("lines")
        .filter(pk=quote_id)
        .first()
    )
    if quote is None:
        raise NotFound("Quote", quote_id)
    return quote
