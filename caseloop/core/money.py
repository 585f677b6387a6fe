"""Exact money: Decimal amounts with an ISO 4217 currency, never floats."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from caseloop.core.errors import Invalid

# every money column is DecimalField(max_digits=14, decimal_places=2)
MAX_AMOUNT = Decimal("999999999999.99")


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError("Money.amount must be a Decimal")
        if len(self.currency) != 3 or not self.currency.isalpha() or not self.currency.isupper():
            raise Invalid(f"{self.currency!r} is not an ISO 4217 currency code.", field="currency")

    @classmethod
    def parse(cls, amount: str | int | Decimal, currency: str) -> Money:
        try:
            value = Decimal(str(amount))
        except InvalidOperation as exc:
            raise Invalid(f"{amount!r} is not an amount of money.", field="amount") from exc
        if not value.is_finite():
            raise Invalid("An amount of money must be a finite number.", field="amount")
        # before rounding (quantize() fails on more digits than its context holds), at the first amount that would
        # round past the largest storable one
        if abs(value) >= MAX_AMOUNT + Decimal("0.005"):
            raise Invalid(f"An amount of money is at most {MAX_AMOUNT:,} either way.", field="amount")
        return cls(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN), currency.upper())

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise Invalid(f"Cannot add {other.currency} to {self.currency}.", field="currency")
        return Money(self.amount + other.amount, self.currency)

    def __str__(self) -> str:
        return f"{self.amount:.2f} {self.currency}"
