"""The forms of the promise pages (parsing only; the actions check the rest)."""

from __future__ import annotations

from django import forms

from caseloop.promises.choices import PromiseKind

_LOCAL = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]


class PromiseForm(forms.Form):
    kind = forms.ChoiceField(choices=PromiseKind.choices)
    description = forms.CharField(max_length=300)
    due_at = forms.DateTimeField(widget=_LOCAL, input_formats=_FORMATS)
    window_start = forms.DateTimeField(widget=_LOCAL, input_formats=_FORMATS, required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=500)


class KeptRateForm(forms.Form):
    by = forms.ChoiceField(
        choices=[("person", "Person"), ("team", "Team"), ("kind", "Kind"), ("partner", "Partner")], required=False
    )
    days = forms.TypedChoiceField(choices=[(7, "7 days"), (30, "30 days"), (90, "90 days")], coerce=int, required=False)
