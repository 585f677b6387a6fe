"""Exact money: Decimal amounts with an ISO 4217 currency, never floats."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from caseloop.core.errors import Invalid

# every money column is DecimalField(max_digits=14, decimal_places=2)
MAX_AMOUNT = Decimal("999999999999.99")
DECIMALS = 2
_CENT = Decimal(1).scaleb(-DECIMALS)

# ISO 4217's currencies (list one, 2025), less the codes nobody pays an order in: precious metals (XAU XAG
# XPD XPT), bond-market units (XBA-XBD), the IMF's and regional settlement units (XDR XSU XUA), the testing
# code XTS and XXX, "no currency". Kept as well: codes withdrawn since 2018, which old orders imported from a
# shop's history still carry (MRO STD VEF CUC HRK SLL ZWL ANG BGN). No list of them is installed (babel,
# pycountry); update this one when ISO amends the standard.
_CURRENCIES_TEXT = """
    AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD CAD CDF
    CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP
    GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT
    LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR
    NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN
    SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF
    XCD XCG XOF XPF YER ZAR ZMW ZWG
    MRO STD VEF CUC HRK SLL ZWL ANG BGN
"""
CURRENCIES = frozenset(_CURRENCIES_TEXT.split())


def check_currency(code: str) -> str:
    """`code` when it is an ISO 4217 currency code (upper case), or a refusal naming `currency`."""
    if code not in CURRENCIES:
        raise Invalid(f"{code!r} is not an ISO 4217 currency code (USD, EUR …).", field="currency")
    return code


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError("Money.amount must be a Decimal")
        check_currency(self.currency)

    @classmethod
    def parse(cls, amount: str | int | Decimal, currency: str, *, exact: bool = False) -> Money:
        """`amount` rounded half-even to the cent, or, when `exact`, refused if that would change its value.

        Use `exact` for an amount someone wrote (an order's total): rounding it would store another number
        than the one given, without saying so.
        """
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
        cents = value.quantize(_CENT, rounding=ROUND_HALF_EVEN)
        if exact and cents != value:
            raise Invalid(f"{amount} has more than {DECIMALS} decimals.", field="amount")
        return cls(cents, currency.upper())

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise Invalid(f"Cannot add {other.currency} to {self.currency}.", field="currency")
        return Money(self.amount + other.amount, self.currency)

    def __str__(self) -> str:
        return f"{self.amount:.2f} {self.currency}"
