"""Forms parse what the browser sends; the actions decide what is allowed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile

from caseloop.cases.choices import CaseStatus


class LoginForm(forms.Form):
    identifier = forms.CharField(label="Username or email", max_length=254)
    password = forms.CharField(label="Password", strip=False, widget=forms.PasswordInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["identifier"].widget.attrs.update({"autocomplete": "username", "autofocus": True})
        self.fields["password"].widget.attrs.update({"autocomplete": "current-password"})


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented pattern)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class ComposerForm(forms.Form):
    KIND_CHOICES = [("reply", "Public reply"), ("note", "Internal note")]

    kind = forms.ChoiceField(choices=KIND_CHOICES, initial="reply", widget=forms.RadioSelect)
    body = forms.CharField(label="Message", required=False, strip=False, widget=forms.Textarea(attrs={"rows": 5}))
    attachments = MultipleFileField(label="Attach files", required=False)


class SaveViewForm(forms.Form):
    name = forms.CharField(label="View name", max_length=80)
    shared = forms.BooleanField(label="Share with everyone", required=False)


class BulkForm(forms.Form):
    OPS = [("assign", "Assign"), ("status", "Set status"), ("tag", "Add tag")]

    cases = forms.TypedMultipleChoiceField(coerce=int, required=True)
    op = forms.ChoiceField(choices=OPS)
    assignee = forms.CharField(required=False)  # a user id, "me" or "none"
    status = forms.ChoiceField(choices=[("", ""), *CaseStatus.choices], required=False)
    tag = forms.CharField(required=False, max_length=50)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # the choices are whatever ids were posted; visibility is checked by the selector
        field = self.fields["cases"]
        assert isinstance(field, forms.TypedMultipleChoiceField)
        raw = self.data.getlist("cases") if hasattr(self.data, "getlist") else []
        field.choices = [(value, value) for value in raw if str(value).isdigit()][:500]


class MacroForm(forms.Form):
    name = forms.CharField(max_length=100)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}))
    shared = forms.BooleanField(label="Shared with all staff", required=False)
