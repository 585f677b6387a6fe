"""Portal forms: parsing what the browser sends; the actions decide what is allowed."""

from __future__ import annotations

from typing import Any

from django import forms

from caseloop.cases.actions import MAX_SUBJECT
from caseloop.channels.webform.forms import MultipleFileField
from caseloop.portal.actions import MAX_MESSAGE


class SignInForm(forms.Form):
    email = forms.EmailField(label="Your email address", max_length=254)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs.update({"autocomplete": "email", "autofocus": True})


class ReplyForm(forms.Form):
    message = forms.CharField(label="Your answer", required=False, max_length=MAX_MESSAGE,
                              widget=forms.Textarea(attrs={"rows": 5}))  # fmt: skip
    attachments = MultipleFileField(label="Photos or documents", required=False)
    form_token = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)


class NewCaseForm(forms.Form):
    subject = forms.CharField(label="In a few words, what is it about?", max_length=MAX_SUBJECT)
    message = forms.CharField(label="Tell us more", required=False, max_length=MAX_MESSAGE,
                              widget=forms.Textarea(attrs={"rows": 8}))  # fmt: skip
    about = forms.ChoiceField(label="Which place or equipment is it about?", required=False)
    attachments = MultipleFileField(label="Photos or documents", required=False)
    form_token = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)

    def __init__(self, *args: Any, about: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["about"]
        assert isinstance(field, forms.ChoiceField)
        # "site:<id>" or "asset:<id>" from the customer's own places; the action checks them again
        field.choices = [("", "Nothing in particular"), *about]

    def about_ids(self) -> tuple[int | None, int | None]:
        kind, _, ident = str(self.cleaned_data.get("about") or "").partition(":")
        if not ident.isdigit():
            return None, None
        return (int(ident), None) if kind == "site" else (None, int(ident))
