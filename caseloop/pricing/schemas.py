"""What the API takes and gives for the price book and quotes. Amounts are decimal strings with a currency."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import StringConstraints

from caseloop.core.schemas import NO_NUL, InSchema, OutSchema, Text
from caseloop.pricing.choices import ItemKind, QuoteState


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


class PublicPriceOut(OutSchema):
    sku: str
    name: str
    description: str
    kind: ItemKind
    unit: str
    amount: str
    currency: str
    valid_from: dt.datetime
    valid_to: dt.datetime | None


class PriceBookQuery(Schema):
    currency: str = Field("", max_length=3, description="default: the installation's currency")
    q: str = Field("", max_length=100, description="part of a name, or an exact SKU")


class PriceOut(OutSchema):
    id: int
    amount: str
    currency: str
    valid_from: dt.datetime
    valid_to: dt.datetime | None
    published_at: dt.datetime

    @staticmethod
    def resolve_amount(obj: Any) -> str | None:
        return _money(obj.amount)


class ItemOut(OutSchema):
    id: int
    sku: str
    name: str
    description: str
    kind: ItemKind
    unit: str
    is_public: bool
    is_active: bool
    prices: list[PriceOut]

    @staticmethod
    def resolve_prices(obj: Any) -> list[Any]:
        return sorted(obj.prices.all(), key=lambda p: (p.currency, p.valid_from), reverse=True)


class ItemIn(InSchema):
    sku: Text = Field(max_length=64)
    name: Text = Field(max_length=200)
    description: Text = ""
    kind: ItemKind = ItemKind.SERVICE
    unit: Text = Field("each", max_length=30)
    is_public: bool = True
    is_active: bool = True


class ItemPatch(InSchema):
    name: Annotated[str, StringConstraints(max_length=200), NO_NUL] | None = None
    description: Text | None = None
    kind: ItemKind | None = None
    unit: Annotated[str, StringConstraints(max_length=30), NO_NUL] | None = None
    is_public: bool | None = None
    is_active: bool | None = None


class PriceIn(InSchema):
    amount: Decimal
    currency: str = Field("", max_length=3)
    valid_from: dt.datetime | None = Field(None, description="default: now; the price in effect then ends there")
    valid_to: dt.datetime | None = None


class LineIn(InSchema):
    sku: Text = Field(max_length=64)
    quantity: int = Field(1, ge=1, le=10_000)
    unit_price: Decimal | None = Field(None, description="optional: refused unless it is the published price")


class QuoteIn(InSchema):
    lines: list[LineIn] = Field(min_length=1, max_length=100)
    currency: str = Field("", max_length=3)
    discount_percent: Decimal = Field(Decimal(0), description="within your authority, or with ask_approval")
    valid_days: int = Field(30, ge=1, le=365)
    note: Text = Field("", max_length=500)
    override_reason: Text = ""
    ask_approval: bool = False


class QuoteLineOut(OutSchema):
    sku: str
    description: str
    quantity: int
    unit_price: str
    line_total: str

    @staticmethod
    def resolve_sku(obj: Any) -> str:
        return str(obj.item.sku)

    @staticmethod
    def resolve_unit_price(obj: Any) -> str | None:
        return _money(obj.unit_price)

    @staticmethod
    def resolve_line_total(obj: Any) -> str | None:
        return _money(obj.line_total)


class QuoteOut(OutSchema):
    id: int
    case_id: int
    state: QuoteState
    currency: str
    subtotal: str
    discount_percent: str
    total: str
    valid_until: dt.datetime | None
    concession_id: int | None
    note: str
    created_at: dt.datetime
    issued_at: dt.datetime | None
    lines: list[QuoteLineOut]

    @staticmethod
    def resolve_subtotal(obj: Any) -> str | None:
        return _money(obj.subtotal)

    @staticmethod
    def resolve_discount_percent(obj: Any) -> str | None:
        return _money(obj.discount_percent)

    @staticmethod
    def resolve_total(obj: Any) -> str | None:
        return _money(obj.total)

    @staticmethod
    def resolve_lines(obj: Any) -> list[Any]:
        return sorted(obj.lines.all(), key=lambda line: line.pk)


class SettleIn(InSchema):
    reason: Text = Field("", max_length=500)
