"""The price book and quotes through the REST API.

`GET /price-book` is public (no token): the same published prices as the
public page and every quote. The rest is for staff.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja import Query, Router, Status

from caseloop.core.money import Money
from caseloop.core.schemas import changes_of
from caseloop.identity.api import actor_of
from caseloop.identity.choices import Role
from caseloop.identity.selectors import require_role
from caseloop.pricing import actions, selectors
from caseloop.pricing.models import PriceItem, Quote
from caseloop.pricing.schemas import (
    ItemIn,
    ItemOut,
    ItemPatch,
    LineIn,
    PriceBookQuery,
    PriceIn,
    PublicPriceOut,
    QuoteIn,
    QuoteOut,
    SettleIn,
)
from caseloop.promises.api import case_by_ref

router = Router(tags=["pricing"])


def _currency(code: str) -> str:
    return Money.parse(0, code or settings.CASELOOP_CURRENCY).currency


@router.get(
    "/price-book",
    response=list[PublicPriceOut],
    auth=None,
    description="Public: every public item with its price in effect now (no token needed).",
)
def public_price_book(request: HttpRequest, params: Query[PriceBookQuery]) -> list[dict[str, Any]]:
    lines = selectors.price_list(currency=_currency(params.currency), public_only=True, query=params.q)
    return [
        {
            "sku": line.item.sku,
            "name": line.item.name,
            "description": line.item.description,
            "kind": line.item.kind,
            "unit": line.item.unit,
            "amount": f"{line.price.amount:.2f}",
            "currency": line.price.currency,
            "valid_from": line.price.valid_from,
            "valid_to": line.price.valid_to,
        }
        for line in lines
    ]


@router.get("/price-book/items", response=list[ItemOut], description="Every item with its price history (staff).")
def list_items(request: HttpRequest) -> list[PriceItem]:
    actor = actor_of(request)
    if not actor.is_staff_member:
        return []
    return list(selectors.items_visible_to(actor).prefetch_related("prices"))


@router.post("/price-book/items", response={201: ItemOut}, description="Administrators.")
def create_item(request: HttpRequest, payload: ItemIn) -> Status[PriceItem]:
    item = actions.save_item(actor=actor_of(request), **payload.model_dump())
    return Status(201, item)


@router.patch("/price-book/items/{sku}", response=ItemOut, description="Absent fields stay as they are.")
def patch_item(request: HttpRequest, sku: str, payload: ItemPatch) -> PriceItem:
    actor = actor_of(request)
    item = selectors.access_item(actor, sku)
    current = {
        "sku": item.sku,
        "name": item.name,
        "description": item.description,
        "kind": item.kind,
        "unit": item.unit,
        "is_public": item.is_public,
        "is_active": item.is_active,
    }
    return actions.save_item(actor=actor, item=item, **{**current, **changes_of(payload)})


@router.post(
    "/price-book/items/{sku}/prices",
    response={201: ItemOut},
    description="Publish a price (administrators); the price in effect at its start ends there.",
)
def publish_price(request: HttpRequest, sku: str, payload: PriceIn) -> Status[PriceItem]:
    actor = actor_of(request)
    require_role(actor, Role.ADMIN)  # the action checks it too; asked first, so nobody else is told about currencies
    item = selectors.access_item(actor, sku)
    amount = actions.parse_price(payload.amount, _currency(payload.currency))
    actions.publish_price(
        actor=actor, item=item, amount=amount, valid_from=payload.valid_from, valid_to=payload.valid_to
    )
    return Status(201, selectors.access_item(actor, sku))


def _lines(lines: list[LineIn]) -> list[actions.LineInput]:
    return [actions.LineInput(sku=line.sku, quantity=line.quantity, unit_price=line.unit_price) for line in lines]


@router.post(
    "/cases/{case_ref}/quotes", response={201: QuoteOut}, description="Quote the case's customer from the price book."
)
def create_quote(request: HttpRequest, case_ref: str, payload: QuoteIn) -> Status[Quote]:
    actor = actor_of(request)
    case = case_by_ref(actor, case_ref)
    result = actions.create_quote(
        actor=actor,
        case=case,
        lines=_lines(payload.lines),
        currency=_currency(payload.currency),
        discount_percent=payload.discount_percent,
        valid_days=payload.valid_days,
        note=payload.note,
        override_reason=payload.override_reason,
        ask_approval=payload.ask_approval,
    )
    return Status(201, selectors.access_quote(actor, result.quote.pk))


@router.get("/cases/{case_ref}/quotes", response=list[QuoteOut], description="Newest first (staff).")
def list_quotes(request: HttpRequest, case_ref: str) -> list[Quote]:
    actor = actor_of(request)
    return selectors.quotes_of_case(actor, case_by_ref(actor, case_ref))


@router.get("/quotes/{quote_id}", response=QuoteOut)
def get_quote(request: HttpRequest, quote_id: int) -> Quote:
    return selectors.access_quote(actor_of(request), quote_id)


@router.post("/quotes/{quote_id}/accept", response=QuoteOut, description="The customer accepted.")
def accept(request: HttpRequest, quote_id: int) -> Quote:
    actor = actor_of(request)
    actions.accept_quote(actor=actor, quote=selectors.access_quote(actor, quote_id))
    return selectors.access_quote(actor, quote_id)


@router.post("/quotes/{quote_id}/decline", response=QuoteOut, description="The customer said no.")
def decline(request: HttpRequest, quote_id: int, payload: SettleIn) -> Quote:
    actor = actor_of(request)
    actions.decline_quote(actor=actor, quote=selectors.access_quote(actor, quote_id), reason=payload.reason)
    return selectors.access_quote(actor, quote_id)


@router.post(
    "/quotes/{quote_id}/withdraw",
    response=QuoteOut,
    description="We take the offer back (its price promise is broken), with the reason.",
)
def withdraw(request: HttpRequest, quote_id: int, payload: SettleIn) -> Quote:
    actor = actor_of(request)
    actions.withdraw_quote(actor=actor, quote=selectors.access_quote(actor, quote_id), reason=payload.reason)
    return selectors.access_quote(actor, quote_id)
