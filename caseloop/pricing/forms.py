"""The quote form beside a case (parsing only; the actions check prices, discounts and rules)."""

from __future__ import annotations

from decimal import Decimal

from django import forms

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
