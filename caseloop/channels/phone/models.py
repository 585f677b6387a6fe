"""The phone channel's records: IVR flows and their versions, our phone lines, every call, and every
signed provider webhook request (calls and texts) as it arrived."""

from __future__ import annotations

import json

from django.conf import settings
from django.db import models
from django.db.models import Q

from caseloop.cases.models import Case, Message
from caseloop.channels.phone.choices import CallDirection, CallOutcome, CallSource, IvrState, WebhookState
from caseloop.customers.models import Contact
from caseloop.identity.models import Team


def clock_text(seconds: int | None) -> str:
    """4:05 (minutes:seconds), or 1:02:05 from an hour up."""
    hours, rest = divmod(seconds or 0, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class IvrFlow(models.Model):
    """A named IVR ("Main line") whose content lives in numbered versions."""

    name = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.name


class IvrVersion(models.Model):
    """One version of a flow's menus (the JSON of `caseloop.channels.phone.ivr`).

    draft → published → retired. A flow has at most one draft (edited in place)
    and at most one published version (the one calls use); publishing checks the
    rules first and retires the version it replaces. Published and retired
    versions never change, so a call that started on version 3 keeps reading
    version 3 even if version 4 is published mid-call.
    """

    flow = models.ForeignKey(IvrFlow, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    definition = models.JSONField()
    state = models.CharField(max_length=10, choices=IvrState.choices, default=IvrState.DRAFT)
    note = models.CharField(max_length=200, blank=True, help_text="what changed, for the version list")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["flow", "number"], name="ivr_version_unique_number"),
            models.UniqueConstraint(
                fields=["flow"], condition=Q(state=IvrState.PUBLISHED), name="ivr_version_one_published"
            ),
            models.UniqueConstraint(fields=["flow"], condition=Q(state=IvrState.DRAFT), name="ivr_version_one_draft"),
        ]

    def __str__(self) -> str:
        return f"{self.flow} v{self.number} ({self.state})"


class PhoneLine(models.Model):
    """One of our numbers at the provider: which IVR answers it, and the team its calls and texts belong to."""

    number = models.CharField(max_length=20, unique=True, help_text="E.164, e.g. +15550100")
    name = models.CharField(max_length=100)
    flow = models.ForeignKey(IvrFlow, null=True, blank=True, on_delete=models.SET_NULL, related_name="lines")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="phone_lines")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} ({self.number})"


class Call(models.Model):
    """One phone call: from the provider's webhooks, or logged by hand by a rep.

    A provider call is created by the first webhook (`call_sid` unique, so a
    retried webhook finds it), walks the IVR (`ivr_path`), may be put through
    to a team (`routed_at`), and is written to the case and timeline once, when
    the provider reports that it ended (`logged_at` marks that it was).
    Times are whole seconds: `ivr_seconds` from answer to being put through
    (or to the end), `queue_seconds` ringing the team, `talk_seconds` connected.
    """

    call_sid = models.CharField(max_length=64, unique=True, null=True, blank=True)
    source = models.CharField(max_length=10, choices=CallSource.choices)
    direction = models.CharField(max_length=10, choices=CallDirection.choices)
    line = models.ForeignKey(PhoneLine, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls")
    from_number = models.CharField(max_length=40)
    to_number = models.CharField(max_length=40)
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls")
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls")
    message = models.OneToOneField(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="call")
    ivr_version = models.ForeignKey(IvrVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="calls")
    ivr_path = models.JSONField(default=list, blank=True, help_text="the menus and keys, in order")
    routed_team = models.CharField(max_length=100, blank=True, help_text="slug of the team it was put through to")
    outcome = models.CharField(max_length=15, choices=CallOutcome.choices, default=CallOutcome.IN_PROGRESS)
    provider_status = models.CharField(max_length=20, blank=True)
    started_at = models.DateTimeField()
    routed_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ivr_seconds = models.PositiveIntegerField(null=True, blank=True)
    queue_seconds = models.PositiveIntegerField(null=True, blank=True)
    talk_seconds = models.PositiveIntegerField(null=True, blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    recording_url = models.URLField(max_length=500, blank=True)
    notes = models.TextField(blank=True)
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    logged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["case", "id"], name="call_case_order"),
            models.Index(fields=["contact", "-started_at"], name="call_contact_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.direction} call {self.from_number} → {self.to_number}"

    @property
    def path_labels(self) -> list[str]:
        return [str(step.get("label", "")) for step in self.ivr_path]

    def times_text(self) -> str:
        """ "0:30 in the menu · 0:38 waiting · 5:02 talking" (a call logged by hand: its length)."""
        if self.source == CallSource.MANUAL:
            return clock_text(self.duration_seconds)
        parts = [f"{clock_text(self.ivr_seconds)} in the menu"]
        if self.routed_at is not None:
            parts.append(f"{clock_text(self.queue_seconds)} waiting")
            parts.append(f"{clock_text(self.talk_seconds)} talking" if self.talk_seconds else "nobody answered")
        return " · ".join(parts)


class WebhookDelivery(models.Model):
    """One signed provider webhook request (calls and texts) kept as it arrived, committed before it is processed.

    A request whose signature is refused is never kept. `params` is the POST
    body as a JSON list of [name, value] pairs (repeated names survive), kept
    as JSON text: PostgreSQL's jsonb cannot hold U+0000 (refused before any view
    today, ADR 0069, but the kept row must never be what fails).
    `path` is what Django routed (path and query string; a replay routes it
    again), `url` the public URL the provider signed.

    received → processed | failed. A failed row keeps the exception's class
    and text; `attempts` counts each processing (the live one is the first),
    `last_tried_at` the latest. Call status and recording callbacks and both
    SMS webhooks can be replayed (their processing is idempotent: a text is
    one message per MessageSid); the interactive call flow (voice, menu, dial)
    cannot. Processed rows are purged after CASELOOP_WEBHOOK_KEEP_DAYS; failed
    rows stay until retried or purged by hand.
    """

    provider = models.CharField(max_length=20, default="twilio")
    endpoint = models.CharField(max_length=100, help_text='the URL name, e.g. "sms_channel:inbound"')
    path = models.TextField(help_text="the path and query string Django routed")
    url = models.TextField(help_text="the public URL the provider signed")
    params = models.TextField(help_text="the POST parameters: JSON list of [name, value] pairs")
    received_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=WebhookState.choices, default=WebhookState.RECEIVED)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True, help_text="what processing answered")
    error_type = models.CharField(max_length=200, blank=True, help_text="the exception's class")
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=1)
    last_tried_at = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "received_at"], name="webhook_state_received")]

    def __str__(self) -> str:
        return f"webhook {self.pk} {self.endpoint} ({self.state})"

    @property
    def pairs(self) -> list[tuple[str, str]]:
        return [(str(name), str(value)) for name, value in json.loads(self.params)]
