"""Cases, their conversation, and the files attached to it."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Case as DbCase
from django.db.models import Q, Value, When

from caseloop.cases.choices import (
    OPEN_STATUSES,
    CaseSort,
    CaseStatus,
    Channel,
    CustomFieldType,
    Direction,
    PresenceActivity,
    Priority,
)
from caseloop.customers.models import Asset, Contact, Organization, Site
from caseloop.identity.models import Team


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)

    def __str__(self) -> str:
        return self.name


class CustomFieldDefinition(models.Model):
    """A typed field an administrator adds to every case (e.g. "door model")."""

    key = models.SlugField(max_length=50, unique=True)
    label = models.CharField(max_length=100)
    field_type = models.CharField(max_length=10, choices=CustomFieldType.choices)
    choices = models.JSONField(default=list, blank=True, help_text="allowed values of a choice field")
    required = models.BooleanField(default=False)
    help_text = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return self.label


class CaseQuerySet(models.QuerySet["Case"]):
    def open(self) -> CaseQuerySet:
        return self.filter(status__in=[CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.PENDING, CaseStatus.ON_HOLD])


class Case(models.Model):
    """A customer's request and everything done about it.

    Its human number is the primary key with a prefix (CL-10234); the id
    sequence starts at 10001 so numbers look like numbers.
    """

    subject = models.CharField(max_length=300)
    status = models.CharField(max_length=10, choices=CaseStatus.choices, default=CaseStatus.NEW)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.API)
    # no index of its own: case_requester_newest leads with it (one index less to write per create)
    requester = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="cases", db_index=False)
    # organization, site and asset: indexed where set (Meta), so a case without one writes no index entry
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases", db_index=False
    )
    site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases", db_index=False
    )
    asset = models.ForeignKey(
        Asset, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases", db_index=False
    )
    # team and assignee lead composite indexes (Meta), which serve their lookups too
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_cases",
        db_index=False,
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases", db_index=False
    )
    # a partner working this case on our behalf sees it (and only such cases)
    partner = models.ForeignKey(  # indexed by case_partner_newest, which leads with it
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="partner_cases", db_index=False
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="cases")
    custom_fields = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField()
    first_response_at = models.DateTimeField(null=True, blank=True)
    solved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    last_message_at = models.DateTimeField(null=True, blank=True)
    message_count = models.PositiveIntegerField(default=0)
    # Kept by the database from `status`. The inbox's views are all "open and …,
    # newest first"; `status IN (four values)` cannot walk an index in id order
    # (neither SQLite nor PostgreSQL merges the four ranges), so at a million
    # cases every page sorted the whole open set. One equality column can.
    is_open = models.GeneratedField(
        expression=DbCase(
            When(status__in=sorted(OPEN_STATUSES), then=Value(True)),
            default=Value(False),
            output_field=models.BooleanField(),
        ),
        output_field=models.BooleanField(),
        db_persist=True,
    )

    objects: ClassVar[CaseQuerySet] = CaseQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        # Every index is written by every create, so each is as cheap to write as it can be:
        # - ascending: both databases walk an index backwards for "newest first", and a new case
        #   (the highest id, the latest update) lands on an index's right edge, where SQLite appends
        #   to the last page; a descending index took it at the left edge, splitting pages there
        #   (the last-update index wrote 4 pages per create instead of 1);
        # - links most cases lack (organization, site, asset, partner) are indexed where set: a
        #   case without them writes nothing there. Lookups say `= id` or `IN (…)`, which both
        #   databases match to such a partial index. Team and assignee keep their empty rows:
        #   "Unassigned" and "no team" are views and counts of their own.
        indexes = [
            # the inbox: open cases (of a team / of a person), newest first or by last update
            models.Index(fields=["is_open", "id"], name="case_open_newest"),
            models.Index(fields=["is_open", "updated_at", "id"], name="case_open_updated"),
            models.Index(fields=["team", "is_open", "id"], name="case_team_open_newest"),
            models.Index(fields=["assignee", "is_open", "id"], name="case_assignee_open_newest"),
            # one status ("waiting on customer"), newest first
            models.Index(fields=["status", "id"], name="case_status_newest"),
            models.Index(fields=["requester", "id"], name="case_requester_newest"),
            models.Index(fields=["partner", "id"], name="case_partner_newest", condition=Q(partner__isnull=False)),
            # the inbox sorted by last update (keyset on updated_at, id)
            models.Index(fields=["updated_at", "id"], name="case_updated_newest"),
            models.Index(fields=["organization"], name="case_organization", condition=Q(organization__isnull=False)),
            models.Index(fields=["site"], name="case_site", condition=Q(site__isnull=False)),
            models.Index(fields=["asset"], name="case_asset", condition=Q(asset__isnull=False)),
            # the managers' team overview counts open cases per team and assignee (with the waiting ones
            # and the oldest): read from this index alone, in its order, instead of every open case's row
            # (1M cases, 95,000 open: the page 178 → 18 ms); only open cases are in it, and an in-process
            # create measured about 1 % dearer with it (1.74 → 1.75 ms, 3 alternating pairs)
            models.Index(
                fields=["team", "assignee", "status", "created_at"],
                name="case_open_load",
                condition=Q(is_open=True),  # a bare `WHERE "is_open"`, as workload() asks: no parameter
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    @property
    def number(self) -> str:
        return f"{settings.CASELOOP_CASE_NUMBER_PREFIX}-{self.pk}"


class Attachment(models.Model):
    """File content stored once by its SHA-256, however often it is attached."""

    sha256 = models.CharField(max_length=64, unique=True)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.sha256[:12]

    @property
    def relative_path(self) -> str:
        return f"{self.sha256[:2]}/{self.sha256[2:4]}/{self.sha256}"


class Message(models.Model):
    """One message of a case's conversation, on any channel, or an internal note.

    `external_id` is the channel's own id (an email Message-ID, a provider's
    SMS id); unique per channel, so a redelivered message is recognised.
    """

    # indexed by message_case_order (case, id), which leads with it
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="messages", db_index=False)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    # a message has one author or the other: each is indexed where set (Meta)
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    author_contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages", db_index=False
    )
    body_text = models.TextField()
    body_html = models.TextField(blank=True, help_text="sanitised before storage")
    external_id = models.CharField(max_length=255, null=True, blank=True)
    created_at = models.DateTimeField()
    attachments: models.ManyToManyField[Attachment, MessageAttachment] = models.ManyToManyField(
        Attachment, through="MessageAttachment", related_name="messages"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                condition=Q(external_id__isnull=False),
                name="message_unique_external_id_per_channel",
            )
        ]
        indexes = [
            models.Index(fields=["case", "id"], name="message_case_order"),
            models.Index(fields=["author_user"], name="message_author_user", condition=Q(author_user__isnull=False)),
            models.Index(
                fields=["author_contact"], name="message_author_contact", condition=Q(author_contact__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.direction} message on case {self.case_id}"

    @property
    def is_public(self) -> bool:
        return self.direction != Direction.NOTE

    def author_name(self) -> str:
        if self.author_user_id is not None and self.author_user is not None:
            return self.author_user.name
        if self.author_contact_id is not None and self.author_contact is not None:
            return self.author_contact.name
        return "System"


class MessageAttachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="message_attachments")
    attachment = models.ForeignKey(Attachment, on_delete=models.PROTECT, related_name="+")
    filename = models.CharField(max_length=255)
    inline = models.BooleanField(default=False)
    content_id = models.CharField(max_length=255, blank=True)

    def __str__(self) -> str:
        return self.filename


def custom_field_value(case: Case, key: str) -> Any:
    return case.custom_fields.get(key)


class Macro(models.Model):
    """A canned reply. Its body may name placeholders such as {{ customer.first_name }};
    `caseloop.cases.macros.render_macro` fills a fixed set of them by plain
    substitution, so a macro is never evaluated as template code."""

    name = models.CharField(max_length=100)
    body = models.TextField()
    # None: shared with every member of staff; otherwise private to its owner
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="macros"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="macro_unique_name_per_owner"),
            models.UniqueConstraint(fields=["name"], condition=Q(owner__isnull=True), name="macro_unique_shared_name"),
        ]

    def __str__(self) -> str:
        return self.name


class SavedView(models.Model):
    """An inbox view someone saved: a name, filters and a sort, private or shared.

    `filters` holds the inbox filter as plain JSON (see
    `caseloop.cases.selectors.saved_view_filter`), validated when saved.
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(max_length=80)
    shared = models.BooleanField(default=False)
    filters = models.JSONField(default=dict, blank=True)
    sort = models.CharField(max_length=10, choices=CaseSort.choices, default=CaseSort.NEWEST)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="saved_view_unique_name_per_owner")]
        indexes = [models.Index(fields=["shared"], name="saved_view_shared")]

    def __str__(self) -> str:
        return self.name


class CasePresence(models.Model):
    """Who has a case open right now, and whether they are writing on it.

    Each open case page refreshes its row every ~10 s; a row older than
    CASELOOP_PRESENCE_SECONDS no longer counts. Kept in the database so any
    number of app servers see the same people.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="presences")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    activity = models.CharField(max_length=10, choices=PresenceActivity.choices, default=PresenceActivity.VIEWING)
    last_seen = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "user"], name="presence_unique_case_user")]
        indexes = [models.Index(fields=["case", "last_seen"], name="presence_case_recent")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.activity} case {self.case_id}"
