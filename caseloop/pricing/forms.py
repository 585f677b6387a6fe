"""The quote form beside a case and the price book's forms (parsing only; the actions check the rest)."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from caseloop.pricing.choices import ItemKind

LINES = 3


class QuoteForm(forms.Form):
    discount_percent = forms.DecimalField(max_digits=5, decimal_places=2, required=False, min_value=Decimal(0))
    valid_days = forms.IntegerField(min_value=1, max_value=365, required=False)
    note = forms.CharField(max_length=500, required=False)
    override_reason = forms.CharField(required=False)
    ask_approval = forms.BooleanField(required=False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for n in range(LINES):
            self.fields[f"sku_{n}"] = forms.CharField(max_length=64, required=False)
            self.fields[f"quantity_{n}"] = forms.IntegerField(min_value=1, max_value=10_000, required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=500, required=False)


class ItemForm(forms.Form):
    """A product or service of the price book (its prices are published separately, never edited)."""

    sku = forms.CharField(max_length=64)
    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=ItemKind.choices)
    unit = forms.CharField(max_length=30, required=False)
    description = forms.CharField(max_length=2000, required=False)
    is_public = forms.BooleanField(required=False)
    is_active = forms.BooleanField(required=False)


class PriceForm(forms.Form):
    """A new price: an amount from a moment (empty: now) until another (empty: until replaced), in the
    publisher's own time zone."""

    amount = forms.CharField(max_length=20)
    currency = forms.CharField(max_length=3)
    valid_from = forms.DateTimeField(required=False, input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"])
    valid_to = forms.DateTimeField(required=False, input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"])
