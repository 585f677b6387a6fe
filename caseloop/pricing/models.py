"""The price book (what we sell, at which published price, from when to when) and quotes built from it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from caseloop.cases.models import Case
from caseloop.customers.models import Contact
from caseloop.policies.models import Concession
from caseloop.pricing.choices import ItemKind, QuoteState


class PriceItem(models.Model):
    """A product or service with a stable SKU; its prices are PriceItem.prices over time."""

    sku = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=10, choices=ItemKind.choices, default=ItemKind.SERVICE)
    unit = models.CharField(max_length=30, default="each", help_text="each, hour, visit …")
    is_public = models.BooleanField(default=True, help_text="shown on the public price page")
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class Price(models.Model):
    """A published price of an item in one currency, valid from a moment until another (or until replaced).

    Prices of one item and currency never overlap: publishing a new one ends
    the one in effect at its start (see `pricing.actions.publish_price`).
    """

    item = models.ForeignKey(PriceItem, on_delete=models.CASCADE, related_name="prices")
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    valid_from = models.DateTimeField()
    valid_to = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField()
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="price_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=models.F("valid_from")),
                name="price_validity_ordered",
            ),
        ]
        indexes = [models.Index(fields=["item", "currency", "valid_from"], name="price_item_currency_from")]

    def __str__(self) -> str:
        return f"{self.item.sku} {self.amount} {self.currency} from {self.valid_from:%Y-%m-%d}"


class Quote(models.Model):
    """A priced offer on a case, built from price-book lines at their published prices.

    A discount is a percentage of the whole, given within the author's
    authority or approved (`concession`, the policies domain's record of it).
    Issued, it promises its total until `valid_until` (a promise in the ledger).
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="quotes")
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="quotes")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=20, choices=QuoteState.choices)
    currency = models.CharField(max_length=3)
    subtotal = models.DecimalField(max_digits=14, decimal_places=2)
    discount_percent = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    total = models.DecimalField(max_digits=14, decimal_places=2)
    valid_days = models.PositiveSmallIntegerField(default=30)
    valid_until = models.DateTimeField(null=True, blank=True, help_text="set when issued")
    concession = models.OneToOneField(
        Concession, null=True, blank=True, on_delete=models.SET_NULL, related_name="quote"
    )
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    issued_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True, help_text="accepted, declined, withdrawn or refused")

    class Meta:
        indexes = [models.Index(fields=["case", "-id"], name="quote_case_newest")]

    def __str__(self) -> str:
        return f"Quote {self.pk} on case {self.case_id}: {self.total} {self.currency} ({self.state})"


class QuoteLine(models.Model):
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")
    item = models.ForeignKey(PriceItem, on_delete=models.PROTECT, related_name="+")
    price = models.ForeignKey(Price, on_delete=models.PROTECT, related_name="+", help_text="the price it was quoted at")
    description = models.CharField(max_length=200)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=14, decimal_places=2)
    line_total = models.DecimalField(max_digits=14, decimal_places=2)

    def __str__(self) -> str:
        return f"{self.quantity} x {self.description}"
