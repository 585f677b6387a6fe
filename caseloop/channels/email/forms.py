"""The mailbox form parses what the browser sends; the actions decide what is allowed."""

from __future__ import annotations

from typing import Any

from django import forms

from caseloop.channels.email.actions import MAX_POLL_SECONDS, MIN_POLL_SECONDS
from caseloop.channels.email.models import Mailbox
from caseloop.identity.models import Team


class MailboxForm(forms.Form):
    address = forms.CharField(label="Support address", max_length=254, help_text="e.g. support@example.com")
    name = forms.CharField(label="Display name", max_length=100, required=False,
                           help_text="the name replies are sent from")  # fmt: skip
    team = forms.ModelChoiceField(label="Team", queryset=Team.objects.order_by("name"), required=False,
                                  empty_label="(no team)",
                                  help_text="new cases from this address go to it")  # fmt: skip
    acknowledge = forms.BooleanField(label="Confirm new cases to the people who write in", required=False,
                                     initial=True)  # fmt: skip
    imap_host = forms.CharField(label="IMAP server", max_length=255, required=False,
                                help_text="leave empty to receive by SMTP only")  # fmt: skip
    imap_port = forms.IntegerField(label="Port", min_value=1, max_value=65535, initial=993,
                                   help_text="IMAP over TLS (IMAPS), 993 usually")  # fmt: skip
    imap_username = forms.CharField(label="User name", max_length=255, required=False)
    imap_password = forms.CharField(
        label="Password", required=False, strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )  # fmt: skip
    clear_imap_password = forms.BooleanField(label="Remove the stored password", required=False)
    imap_folder = forms.CharField(label="Folder", max_length=255, initial="INBOX")
    imap_archive_folder = forms.CharField(
        label="Archive folder", max_length=255, required=False,
        help_text="move fetched mail there; empty: mark it read and leave it",
    )  # fmt: skip
    poll_seconds = forms.IntegerField(label="Poll every (seconds)", required=False, min_value=MIN_POLL_SECONDS,
                                      max_value=MAX_POLL_SECONDS,
                                      help_text="empty: CASELOOP_EMAIL_POLL_SECONDS")  # fmt: skip

    def __init__(self, *args: Any, mailbox: Mailbox | None = None, **kwargs: Any) -> None:
        if mailbox is not None and "initial" not in kwargs:
            kwargs["initial"] = {name: getattr(mailbox, name) for name in self.declared_fields
                                 if name not in ("imap_password", "clear_imap_password")}  # fmt: skip
        super().__init__(*args, **kwargs)
        self.mailbox = mailbox
        password = self.fields["imap_password"]
        if mailbox is not None and mailbox.has_imap_password:
            password.help_text = "a password is stored (sealed); leave empty to keep it"
        else:
            del self.fields["clear_imap_password"]
