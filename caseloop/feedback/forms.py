"""Parsing what the pages post; the rules (ranges, what a survey asks) are checked by the actions."""

from __future__ import annotations

from django import forms

from caseloop.cases.choices import Channel
from caseloop.feedback.choices import Expectation, FollowUpMethod, Question


class TextareaField(forms.CharField):
    """Text typed in a textarea, its line breaks as LF.

    A browser counts a line break as one character against `maxlength` but
    submits it as CRLF: a comment in paragraphs that the page accepted would be
    refused as too long here if CRLF were counted as two.
    """

    def to_python(self, value: object) -> str | None:
        text = super().to_python(value)
        return text.replace("\r\n", "\n").replace("\r", "\n") if text is not None else None


class SurveyForm(forms.Form):
    expectations = forms.ChoiceField(choices=[("", "—"), *Expectation.choices], required=False)
    ces = forms.TypedChoiceField(choices=[(str(i), str(i)) for i in range(1, 8)], coerce=int, required=False,
                                 empty_value=None)  # fmt: skip
    csat = forms.TypedChoiceField(choices=[(str(i), str(i)) for i in range(1, 6)], coerce=int, required=False,
                                  empty_value=None)  # fmt: skip
    nps = forms.TypedChoiceField(choices=[(str(i), str(i)) for i in range(11)], coerce=int, required=False,
                                 empty_value=None)  # fmt: skip
    comment = TextareaField(required=False, max_length=5000)
    no_more_surveys = forms.BooleanField(required=False)


class FollowUpAnswerForm(forms.Form):
    answer = forms.ChoiceField(choices=[("yes", "Yes"), ("no", "No")])


class CallResultForm(forms.Form):
    held = forms.TypedChoiceField(choices=[("yes", "It held"), ("no", "It did not hold")],
                                  coerce=lambda v: v == "yes")  # fmt: skip
    note = forms.CharField(required=False, max_length=5000)


class ThankYouForm(forms.Form):
    body = forms.CharField(max_length=5000)


class PhoneThanksForm(forms.Form):
    note = forms.CharField(required=False, max_length=300)


class SurveyRuleForm(forms.Form):
    name = forms.CharField(max_length=100)
    questions = forms.MultipleChoiceField(choices=Question.choices, required=False)
    delay_minutes = forms.IntegerField(min_value=0)
    fatigue_days = forms.IntegerField(min_value=0)
    team = forms.IntegerField(required=False)
    channels = forms.MultipleChoiceField(choices=Channel.choices, required=False)


class FollowUpRuleForm(forms.Form):
    name = forms.CharField(max_length=100)
    delay_hours = forms.IntegerField(min_value=1)
    method = forms.ChoiceField(choices=FollowUpMethod.choices)
    team = forms.IntegerField(required=False)
    tags = forms.CharField(required=False, max_length=500)
    needs_asset = forms.BooleanField(required=False)


class ActiveForm(forms.Form):
    is_active = forms.BooleanField(required=False)
