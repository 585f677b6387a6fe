"""The forms of the SLA set-up pages (parsing only; the actions check calendars and targets)."""

from __future__ import annotations

import re

from django import forms

from caseloop.cases.choices import Channel, Priority
from caseloop.customers.choices import CustomerTier
from caseloop.sla.engine import DAYS

DAY_LABELS = dict(
    zip(DAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"), strict=True)
)
MAX_MINUTES = 60 * 24 * 365


class CalendarForm(forms.Form):
    name = forms.CharField(max_length=100)
    time_zone = forms.CharField(max_length=64)
    holidays = forms.CharField(required=False, max_length=10_000)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for day in DAYS:
            self.fields[f"hours_{day}"] = forms.CharField(required=False, max_length=200)

    def hours(self) -> dict[str, list[str]]:
        """{"mon": ["09:00-12:00", "13:00-17:00"], …} from "09:00-12:00, 13:00-17:00"; an empty day is closed."""
        out = {}
        for day in DAYS:
            ranges = [r.strip() for r in self.cleaned_data[f"hours_{day}"].split(",") if r.strip()]
            if ranges:
                out[day] = ranges
        return out

    def holiday_list(self) -> list[str]:
        """ISO dates, one a line (or separated by commas or spaces)."""
        return [d for d in re.split(r"[\s,;]+", self.cleaned_data["holidays"]) if d]


class PolicyForm(forms.Form):
    name = forms.CharField(max_length=100)
    position = forms.IntegerField(min_value=0, max_value=1_000_000)
    is_active = forms.BooleanField(required=False)
    priorities = forms.MultipleChoiceField(choices=Priority.choices, required=False)
    channels = forms.MultipleChoiceField(choices=Channel.choices, required=False)
    tiers = forms.MultipleChoiceField(choices=CustomerTier.choices, required=False)
    organization = forms.CharField(max_length=200, required=False)
    calendar = forms.IntegerField(required=False)
    first_response_minutes = forms.IntegerField(min_value=1, max_value=MAX_MINUTES, required=False)
    next_response_minutes = forms.IntegerField(min_value=1, max_value=MAX_MINUTES, required=False)
    resolution_minutes = forms.IntegerField(min_value=1, max_value=MAX_MINUTES, required=False)
    warn_minutes = forms.IntegerField(min_value=0, max_value=MAX_MINUTES)
    promise_first_response = forms.BooleanField(required=False)
