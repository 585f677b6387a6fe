"""The contact form: parsing what the browser sends; the action decides what is allowed."""

from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile

from caseloop.cases.attachments import AttachmentInput
from caseloop.channels.webform import conf
from caseloop.channels.webform.actions import MAX_MESSAGE, MAX_NAME


def new_form_token() -> str:
    """A one-time token for one rendering of the form: submitting it twice makes one message."""
    return secrets.token_urlsafe(18)


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


def attachment_inputs(files: list[UploadedFile]) -> list[AttachmentInput]:
    """Uploaded files as the actions take them (the browser's content type is not trusted, so not passed)."""
    return [AttachmentInput(filename=f.name or "file", content=f.read()) for f in files]


class ContactForm(forms.Form):
    name = forms.CharField(label="Your name", max_length=MAX_NAME)
    email = forms.EmailField(label="Your email address", max_length=254,
                             help_text="We answer you here. We never share it.")  # fmt: skip
    topic = forms.ChoiceField(label="What is it about?")
    message = forms.CharField(label="Your message", max_length=MAX_MESSAGE, widget=forms.Textarea(attrs={"rows": 8}))
    attachments = MultipleFileField(label="Photos or documents", required=False)
    # the honeypot: hidden from people by CSS and from screen readers by aria-hidden; robots fill it in
    website = forms.CharField(label="Leave this field empty", required=False)
    form_token = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        topic = self.fields["topic"]
        assert isinstance(topic, forms.ChoiceField)
        topic.choices = [("", "Choose a topic…"), *((t.key, t.label) for t in conf.topics())]
        self.fields["name"].widget.attrs.update({"autocomplete": "name"})
        self.fields["email"].widget.attrs.update({"autocomplete": "email"})
        self.fields["website"].widget.attrs.update({"autocomplete": "off", "tabindex": "-1"})
        self.fields["attachments"].widget.attrs.update(
            {"accept": ",".join(f".{e}" for e in sorted(conf.allowed_extensions()))}
        )
