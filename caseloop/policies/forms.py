"""The forms of the policies pages (parsing only; the actions check the rest)."""

from __future__ import annotations

from django import forms

from caseloop.cases.choices import CaseStatus
from caseloop.identity.choices import Role
from caseloop.policies.choices import ActionKind, ConcessionKind, RuleKind


class ConcessionForm(forms.Form):
    kind = forms.ChoiceField(choices=ConcessionKind.choices)
    value = forms.CharField(max_length=20, help_text="an amount (25.50), or a percentage for a discount")
    note = forms.CharField(max_length=500)
    override_reason = forms.CharField(required=False)
    ask_approval = forms.BooleanField(required=False)
    approval_reason = forms.CharField(max_length=500, required=False)
    tell_customer = forms.BooleanField(required=False)


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=CaseStatus.choices)
    override_reason = forms.CharField(required=False)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("decline", "Decline")])
    reason = forms.CharField(max_length=2000)


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=500)


class RuleForm(forms.Form):
    name = forms.CharField(max_length=120)
    explanation = forms.CharField()
    kind = forms.ChoiceField(choices=RuleKind.choices)
    applies_to = forms.MultipleChoiceField(choices=ActionKind.choices)
    condition = forms.CharField(max_length=2000)


class LimitForm(forms.Form):
    action = forms.ChoiceField(choices=ConcessionKind.choices)
    role = forms.ChoiceField(choices=[("", "—"), *Role.choices], required=False)
    team = forms.IntegerField(required=False)
    user = forms.IntegerField(required=False)
    per_case = forms.DecimalField(max_digits=14, decimal_places=2)
    per_period = forms.DecimalField(max_digits=14, decimal_places=2, required=False)
    period_days = forms.IntegerField(min_value=1, max_value=366, required=False)
    currency = forms.CharField(max_length=3, required=False)


class PeriodForm(forms.Form):
    days = forms.TypedChoiceField(choices=[(7, "7 days"), (30, "30 days"), (90, "90 days")], coerce=int, required=False)
