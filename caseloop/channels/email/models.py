"""The email channel's records: mailboxes, every raw message received, and every email sent."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from caseloop.cases.models import Case, Message
from caseloop.channels.email.choices import (
    AutoKind,
    InboundSource,
    InboundState,
    OutboundKind,
    OutboundState,
    ParticipantRole,
)
from caseloop.customers.models import Contact
from caseloop.identity.models import Team


class Mailbox(models.Model):
    """A support address we receive mail for, and optionally the IMAP account that holds its mail.

    With no mailbox configured, the SMTP server accepts mail for any address
    into the default team (CASELOOP_EMAIL_DEFAULT_TEAM). With IMAP settings,
    `caseloop fetchmail` reads `imap_folder` over TLS; `imap_last_uid` and
    `imap_uidvalidity` remember how far it got, so nothing is fetched twice and
    a message read by someone in a mail client is still fetched. A disabled
    mailbox (`active` false) neither receives nor is fetched; its cases keep it.
    """

    address = models.EmailField(unique=True, help_text="lower-cased, e.g. support@example.com")
    name = models.CharField(max_length=100, blank=True, help_text="the display name replies are sent from")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="mailboxes")
    acknowledge = models.BooleanField(default=True, help_text="confirm new cases to people who write in")
    active = models.BooleanField(default=True)
    imap_host = models.CharField(max_length=255, blank=True)
    imap_port = models.PositiveIntegerField(default=993)
    imap_username = models.CharField(max_length=255, blank=True)
    # Never the password itself: sealed by caseloop.core.secretbox (Fernet, key from
    # CASELOOP_SECRETS_KEY or SECRET_KEY), opened only to log in. See docs/channels/email.md.
    imap_password_sealed = models.TextField(blank=True)
    imap_folder = models.CharField(max_length=255, default="INBOX")
    imap_archive_folder = models.CharField(
        max_length=255, blank=True, help_text="move fetched mail here; empty: flag it as seen and leave it"
    )
    poll_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="how often fetchmail polls it; empty: CASELOOP_EMAIL_POLL_SECONDS"
    )
    imap_uidvalidity = models.BigIntegerField(null=True, blank=True)
    imap_last_uid = models.BigIntegerField(default=0)
    imap_last_polled_at = models.DateTimeField(null=True, blank=True)
    imap_last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.address

    @property
    def uses_imap(self) -> bool:
        return bool(self.imap_host and self.imap_username)

    @property
    def has_imap_password(self) -> bool:
        return bool(self.imap_password_sealed)

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]


class InboundEmail(models.Model):
    """One raw message as it arrived, stored (and committed) before it is parsed.

    `raw` holds the exact bytes; `sha256` is their digest, unique, so the same
    delivery arriving twice (an SMTP client retrying after a lost reply, an IMAP
    fetch repeated after a crash) is one row. `message_id` is the Message-ID
    header, or `<sha256>@synthetic.caseloop` when the message has none; the
    conversation message it became (`case_message`) carries it as `Message.external_id`.

    received → processed | quarantined | ignored. A quarantined or ignored row
    keeps its `reason_code` and `reason`; an administrator may re-process it.
    """

    mailbox = models.ForeignKey(Mailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound")
    source = models.CharField(max_length=10, choices=InboundSource.choices)
    envelope_from = models.CharField(max_length=998, blank=True)
    envelope_to = models.JSONField(default=list, blank=True)
    message_id = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, unique=True)
    size = models.PositiveIntegerField()
    raw = models.BinaryField()
    received_at = models.DateTimeField()
    state = models.CharField(max_length=12, choices=InboundState.choices, default=InboundState.RECEIVED)
    auto_kind = models.CharField(max_length=12, choices=AutoKind.choices, default=AutoKind.NONE)
    reason_code = models.CharField(max_length=30, blank=True)
    reason = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)
    # what parsing found, for the quarantine list (filled when parsing got that far)
    from_address = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    case_message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        indexes = [
            models.Index(fields=["state", "-id"], name="inbound_state_newest"),
            models.Index(fields=["message_id"], name="inbound_message_id"),
        ]

    def __str__(self) -> str:
        return f"inbound {self.pk} {self.message_id} ({self.state})"


class DisplayBody(models.Model):
    """The text of an inbound email message as shown in the conversation: quoted
    replies and the signature trimmed away. `Message.body_text` keeps the full text."""

    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="email_display")
    text = models.TextField()

    def __str__(self) -> str:
        return f"display body of message {self.message_id}"


class CaseEmail(models.Model):
    """How a case talks by email: the support address it came in on and where replies go."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="email")
    mailbox = models.ForeignKey(Mailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    our_address = models.CharField(max_length=254, help_text="the support address the customer wrote to")
    reply_address = models.CharField(max_length=254, help_text="the customer's address replies go to")

    def __str__(self) -> str:
        return f"{self.reply_address} on case {self.case_id}"


class CaseParticipant(models.Model):
    """Someone copied on a case's email conversation besides the requester.

    Keyed by address (not only by contact) so that merging two contacts who
    are both on one case never collides with the uniqueness rule.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="participants")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="case_participations")
    address = models.CharField(max_length=254)
    role = models.CharField(max_length=4, choices=ParticipantRole.choices, default=ParticipantRole.CC)
    added_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "address"], name="participant_unique_case_address")]

    def __str__(self) -> str:
        return f"{self.address} on case {self.case_id}"


class OutboundEmail(models.Model):
    """One email we send: a rep's reply (linked to its `case_message`) or an acknowledgement.

    `message_id` is generated when the row is queued and reused by every retry,
    so a mail client never sees two versions of one reply. The state is what
    the conversation shows next to the reply.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="outbound_emails")
    case_message = models.OneToOneField(
        Message, null=True, blank=True, on_delete=models.CASCADE, related_name="outbound_email"
    )
    kind = models.CharField(max_length=6, choices=OutboundKind.choices, default=OutboundKind.REPLY)
    message_id = models.CharField(max_length=255, unique=True)
    from_address = models.CharField(max_length=254)
    to_address = models.CharField(max_length=254)
    cc = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=400)
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.TextField(blank=True)
    state = models.CharField(max_length=10, choices=OutboundState.choices, default=OutboundState.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="outbound_due"),
            models.Index(fields=["case", "id"], name="outbound_case_order"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind=OutboundKind.ACKNOWLEDGEMENT) | Q(case_message__isnull=False),
                name="outbound_reply_has_message",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to_address} ({self.state})"


class OutboundRateWindow(models.Model):
    """How many emails went to one address in one clock hour.

    Kept in the database so every worker counts against the same limit: a
    loop with another system's auto-responder stops after a few messages.
    """

    address = models.CharField(max_length=254)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["address", "window_start"], name="rate_window_unique_address_hour")
        ]

    def __str__(self) -> str:
        return f"{self.address} {self.window_start:%Y-%m-%d %H}: {self.count}"
