"""What the API takes and gives for cases, messages, search and custom fields.

Outputs read model instances directly; the few values that cost a query per
row (tags, the first message, the message count a customer may see) are set on
the instances by the route for a whole page at once and only read here.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import AfterValidator, PrivateAttr, StringConstraints, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from caseloop.cases.choices import CaseSort, CaseStatus, Channel, CustomFieldType, Direction, Priority
from caseloop.cases.search import MAX_QUERY_LENGTH
from caseloop.core.pagination import PageQuery
from caseloop.core.schemas import NO_NUL, Id, InSchema, OutSchema, Text
from caseloop.identity.schemas import Ref

MAX_SUBJECT = 300
MAX_BODY = 1_000_000
MAX_ATTACHMENTS = 20


def _subject(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("string_too_short", "The subject cannot be empty.")
    if len(value) > MAX_SUBJECT:
        raise PydanticCustomError("string_too_long", "The subject is at most {max} characters.", {"max": MAX_SUBJECT})
    return value


Subject = Annotated[Text, AfterValidator(_subject)]
ExternalId = Annotated[str, StringConstraints(min_length=1, max_length=255), NO_NUL]


def _staff_reads(context: Any) -> bool:
    actor = getattr((context or {}).get("request"), "auth", None)
    return actor is not None and bool(actor.is_staff_member)


# --- cases -------------------------------------------------------------------------------
class CaseOut(OutSchema):
    id: int
    number: str = Field(description="the human number, e.g. CL-10234")
    subject: str
    status: CaseStatus
    priority: Priority
    channel: Channel
    requester: Ref
    organization_id: int | None
    site_id: int | None
    asset_id: int | None
    partner_id: int | None
    team: Ref | None = Field(description="staff only: null for customers and partners")
    assignee: Ref | None
    tags: list[str] = Field(description="staff only: empty for customers and partners")
    custom_fields: dict[str, Any] = Field(description="staff only: empty for customers and partners")
    created_at: dt.datetime
    updated_at: dt.datetime
    first_response_at: dt.datetime | None
    solved_at: dt.datetime | None
    closed_at: dt.datetime | None
    last_message_at: dt.datetime | None
    message_count: int = Field(description="messages the caller can see")
    first_message_id: int | None

    # Tags, custom fields and the team are how staff sort and route work ("vip", "refund-risk", an internal
    # score): a customer or partner reading the case gets none of them, as the portal shows none.
    @staticmethod
    def resolve_tags(obj: Any, context: Any) -> list[str]:
        if not _staff_reads(context):
            return []
        names: list[str] | None = getattr(obj, "tag_names", None)  # cases.selectors.attach_tag_names
        return names if names is not None else sorted(t.name for t in obj.tags.all())

    @staticmethod
    def resolve_custom_fields(obj: Any, context: Any) -> dict[str, Any]:
        return dict(obj.custom_fields) if _staff_reads(context) else {}

    @staticmethod
    def resolve_team(obj: Any, context: Any) -> Any:
        return obj.team if _staff_reads(context) else None

    @staticmethod
    def resolve_message_count(obj: Any) -> int:
        return int(getattr(obj, "api_message_count", obj.message_count))

    @staticmethod
    def resolve_first_message_id(obj: Any) -> int | None:
        return getattr(obj, "api_first_message_id", None)


class RequesterIn(InSchema):
    """Exactly one of `id`, `email` or `phone`; `name` names a contact created for a new address."""

    id: Id | None = None
    email: Annotated[str, StringConstraints(max_length=254), NO_NUL] | None = None
    phone: Annotated[str, StringConstraints(max_length=64), NO_NUL] | None = None
    name: Annotated[str, StringConstraints(max_length=200), NO_NUL] | None = None

    @model_validator(mode="after")
    def _one_way_to_name_someone(self) -> RequesterIn:
        given = [n for n in ("id", "email", "phone") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of id, email or phone")
        if self.id is not None and self.name is not None:
            raise ValueError("name goes with email or phone, not with id")
        return self


class AttachmentIn(InSchema):
    filename: Text = Field(min_length=1, max_length=255)
    content_type: Text = Field("", max_length=150)
    content_base64: str
    _content: bytes = PrivateAttr(default=b"")

    @model_validator(mode="after")
    def _decode(self) -> AttachmentIn:
        try:
            self._content = base64.b64decode(self.content_base64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("content_base64 is not valid base64") from exc
        return self

    @property
    def content(self) -> bytes:
        return self._content


class MessageBodyIn(InSchema):
    body_text: Text = Field("", max_length=MAX_BODY)
    body_html: Text = Field("", max_length=MAX_BODY)
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)


class CaseCreateIn(InSchema):
    subject: Subject
    requester: RequesterIn
    message: MessageBodyIn | None = None
    # left out (None): normal priority, the API channel; customers may not choose either (403)
    priority: Priority | None = Field(None, description="staff only; normal when left out")
    channel: Channel | None = Field(None, description="staff only; api when left out")
    team: Id | None = None
    assignee: Id | None = None
    organization: Id | None = None
    site: Id | None = None
    asset: Id | None = None
    partner: Id | None = None
    tags: list[Text] = Field(default_factory=list, max_length=30)
    custom_fields: dict[Text, Any] = Field(default_factory=dict, max_length=100)
    external_id: ExternalId | None = Field(
        None, description="your id for this case; a repeat with the same id answers 200 with the case already made"
    )


class CasePatch(InSchema):
    status: CaseStatus | None = None
    override_reason: Annotated[str, StringConstraints(max_length=2000), NO_NUL] | None = Field(
        None,
        description="with `status`: why a guideline is bent, when one applies (refused: guideline_reason_required)",
    )
    subject: Subject | None = None
    priority: Priority | None = None
    team: Id | None = None
    assignee: Id | None = None
    organization: Id | None = None
    site: Id | None = None
    asset: Id | None = None
    partner: Id | None = None
    custom_fields: dict[Text, Any] | None = Field(None, max_length=100, description="merged in; null values remove")
    tags: list[Text] | None = Field(None, max_length=30, description="the whole set, replacing the current one")
    add_tags: list[Text] | None = Field(None, max_length=30, description="not with `tags`")
    remove_tags: list[Text] | None = Field(None, max_length=30, description="not with `tags`, nor a tag added")

    # Fields are validated in the order declared, so `tags` (and `add_tags`) are in `info.data` here; a
    # field that failed its own checks is missing from it, and is not blamed twice.
    @field_validator("add_tags", "remove_tags")
    @classmethod
    def _one_way_to_change_tags(cls, value: list[str] | None, info: ValidationInfo) -> list[str] | None:
        if value is None:
            return value
        if info.data.get("tags") is not None and (info.field_name == "add_tags" or "add_tags" in info.data):
            raise PydanticCustomError("conflicting_tags", "send tags (the whole set) or add_tags/remove_tags, not both")
        if info.field_name == "remove_tags":
            both = _tag_names(info.data.get("add_tags") or []) & _tag_names(value)
            if both:
                raise PydanticCustomError("conflicting_tags", "{tags} cannot be both added and removed",
                                          {"tags": ", ".join(sorted(both))})  # fmt: skip
        return value


def _tag_names(values: list[str]) -> set[str]:
    # as actions._normalise_tags reads them; an empty one is its bad_tag, not a contradiction
    return {name for name in (v.strip().lower() for v in values) if name}


class CaseQuery(PageQuery):
    status: list[CaseStatus] = Field(default_factory=list, description="repeatable")
    open: bool = Field(False, description="only new, open, pending and on-hold cases")
    priority: list[Priority] = Field(default_factory=list)
    channel: list[Channel] = Field(default_factory=list)
    team: Id | None = None
    assignee: Annotated[str, StringConstraints(max_length=20), NO_NUL] | None = Field(
        None, description="a user id, or `me`"
    )
    unassigned: bool = False
    requester: Id | None = None
    organization: Id | None = None
    site: Id | None = None
    asset: Id | None = None
    tag: Annotated[str, StringConstraints(max_length=50), NO_NUL] | None = None
    sort: CaseSort = Field(CaseSort.NEWEST, description="newest (by id, the default), oldest, updated, priority")


# --- messages ------------------------------------------------------------------------------
class AuthorOut(OutSchema):
    kind: Literal["user", "contact", "system"]
    id: int | None
    name: str


class AttachmentOut(OutSchema):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    inline: bool

    @staticmethod
    def resolve_content_type(obj: Any) -> str:
        return str(obj.attachment.content_type)

    @staticmethod
    def resolve_size(obj: Any) -> int:
        return int(obj.attachment.size)

    @staticmethod
    def resolve_sha256(obj: Any) -> str:
        return str(obj.attachment.sha256)


class MessageOut(OutSchema):
    id: int
    case_id: int
    direction: Direction
    channel: Channel
    author: AuthorOut
    body_text: str
    body_html: str
    external_id: str | None
    created_at: dt.datetime
    attachments: list[AttachmentOut]

    @staticmethod
    def resolve_author(obj: Any) -> dict[str, Any]:
        if obj.author_user_id is not None and obj.author_user is not None:
            return {"kind": "user", "id": obj.author_user_id, "name": obj.author_user.name}
        if obj.author_contact_id is not None and obj.author_contact is not None:
            return {"kind": "contact", "id": obj.author_contact_id, "name": obj.author_contact.name}
        return {"kind": "system", "id": None, "name": "System"}

    @staticmethod
    def resolve_attachments(obj: Any) -> list[Any]:
        return list(obj.message_attachments.all())  # prefetched with their attachment


class MessageIn(InSchema):
    direction: Direction = Field(description="inbound (from the customer), outbound (to them) or note (internal)")
    body_text: Text = Field("", max_length=MAX_BODY)
    body_html: Text = Field("", max_length=MAX_BODY)
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)
    channel: Channel | None = Field(None, description="staff only; api when left out")
    external_id: ExternalId | None = None


# --- search ---------------------------------------------------------------------------------
class SearchQuery(Schema):
    # No length bounds here: an empty, wordless or over-long query is the domain's `400 bad_query`
    # (search._terms), not a validation error. It measures the length first, so an absurdly long one is
    # refused before anything tokenises it or asks the database.
    q: Text = Field(description=f"up to {MAX_QUERY_LENGTH} characters; `word*` matches a prefix")
    limit: int = Field(20, ge=1, le=50)


class SearchHitOut(OutSchema):
    case_id: int
    number: str
    subject: str
    message_id: int | None = Field(description="null when the case subject matched")
    snippet_html: str = Field(description="escaped text with <mark> around the matched words")
    rank: float


class SearchOut(OutSchema):
    items: list[SearchHitOut]


# --- custom fields ---------------------------------------------------------------------------
class CustomFieldOut(OutSchema):
    id: int
    key: str
    label: str
    field_type: CustomFieldType
    choices: list[str]
    required: bool
    help_text: str


class CustomFieldIn(InSchema):
    key: Text = Field(min_length=1, max_length=50, pattern=r"^[a-z][a-z0-9_]*$")
    label: Text = Field(min_length=1, max_length=100)
    field_type: CustomFieldType
    choices: list[Text] = Field(default_factory=list, max_length=100)
    required: bool = False
    help_text: Text = Field("", max_length=300)
