"""Every write to cases and messages.

Each action checks input and permission first, then writes in one
transaction (one commit per create: on PostgreSQL each commit is a disk
flush), records the timeline and audit, and leaves side effects to after
commit through `core.events`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction

from caseloop.cases.attachments import AttachmentInput, safe_filename, store_attachment
from caseloop.cases.choices import (
    ALLOWED_TRANSITIONS,
    CaseSort,
    CaseStatus,
    Channel,
    CustomFieldType,
    Direction,
    PresenceActivity,
    Priority,
)
from caseloop.cases.custom_fields import validate_custom_fields
from caseloop.cases.errors import CaseError, CaseErrorCode
from caseloop.cases.macros import PLACEHOLDERS, unknown_placeholders
from caseloop.cases.models import (
    Case,
    CasePresence,
    CustomFieldDefinition,
    Macro,
    Message,
    MessageAttachment,
    SavedView,
    Tag,
)
from caseloop.cases.selectors import clean_view_filters
from caseloop.core import clock, guards
from caseloop.core.errors import Invalid, PermissionDenied
from caseloop.core.events import prepare as prepare_event
from caseloop.core.events import publish, publish_in_transaction
from caseloop.core.fastdb import draft, get_by, insert
from caseloop.core.fastdb import update as update_row
from caseloop.core.sanitize import html_to_text, one_line, sanitize_html
from caseloop.customers.actions import ContactDraft
from caseloop.customers.choices import OrganizationKind
from caseloop.customers.models import Asset, Contact, Organization, Site
from caseloop.customers.selectors import contact_of, surviving_contact
from caseloop.identity.choices import Role
from caseloop.identity.models import Team, User
from caseloop.identity.selectors import require_role, require_staff
from caseloop.timeline.actions import record_audit, record_event
from caseloop.timeline.choices import SubjectKind as S

MAX_SUBJECT = 300
MAX_BODY = 1_000_000
MAX_TAGS = 30


@dataclass(frozen=True, slots=True)
class MessageInput:
    """A message body as it arrives: text, HTML or both (HTML is sanitised)."""

    body_text: str = ""
    body_html: str = ""
    attachments: Sequence[AttachmentInput] = field(default_factory=tuple)
    external_id: str | None = None


def _subjects(case: Case) -> list[tuple[S, int | None]]:
    return [
        (S.CASE, case.pk),
        (S.CONTACT, case.requester_id),
        (S.ORGANIZATION, case.organization_id),
        (S.SITE, case.site_id),
        (S.ASSET, case.asset_id),
    ]


def _clean_body(body: MessageInput) -> tuple[str, str]:
    html = sanitize_html(body.body_html) if body.body_html else ""
    text = body.body_text if body.body_text.strip() else (html_to_text(html) if html else "")
    if not text.strip() and not body.attachments:
        raise CaseError(CaseErrorCode.EMPTY_MESSAGE, "A message needs some text or an attachment.", field="body")
    if len(text) > MAX_BODY:
        raise CaseError(CaseErrorCode.EMPTY_MESSAGE, f"A message is at most {MAX_BODY} characters.",
                        status=413, field="body")  # fmt: skip
    return text, html


def _check_links(
    *, site: Site | None, asset: Asset | None, assignee: User | None, partner: Organization | None
) -> None:
    if asset is not None and site is not None and asset.site_id not in (None, site.pk):
        raise CaseError(CaseErrorCode.ASSET_NOT_AT_SITE, f"Asset {asset.pk} is not at site {site.pk}.",
                        field="asset")  # fmt: skip
    if assignee is not None and not assignee.is_staff_member:
        raise CaseError(
            CaseErrorCode.ASSIGNEE_NOT_STAFF,
            f"{assignee} cannot be assigned cases.",
            field="assignee",
        )
    if partner is not None and partner.kind != OrganizationKind.PARTNER:
        raise Invalid(f"{partner} is not a partner organization.", field="partner")


def _normalise_tags(names: Sequence[str]) -> list[str]:
    cleaned = []
    for name in names:
        tag = name.strip().lower()
        if not tag or len(tag) > 50 or any(c.isspace() for c in tag):
            raise CaseError(CaseErrorCode.BAD_TAG, f"{name!r} is not a tag (one word, at most 50 characters).",
                            field="tags")  # fmt: skip
        if tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > MAX_TAGS:
        raise CaseError(CaseErrorCode.BAD_TAG, f"A case has at most {MAX_TAGS} tags.", field="tags")
    return cleaned


def _tags_for(names: Sequence[str]) -> list[Tag]:
    if not names:
        return []
    existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
    missing = [Tag(name=n) for n in names if n not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
    return [existing[n] for n in names]


def _store_attachments(message: Message, items: Sequence[AttachmentInput]) -> None:
    links = []
    for item in items:
        attachment = store_attachment(item)
        links.append(MessageAttachment(message=message, attachment=attachment, filename=safe_filename(item.filename),
                                       inline=item.inline, content_id=item.content_id[:255]))  # fmt: skip
    MessageAttachment.objects.bulk_create(links)


def _existing_message(channel: str, external_id: str | None) -> Message | None:
    if not external_id:
        return None
    # a prepared unique-key read (core.fastdb): every inbound email asks this, and it is almost always a miss
    message = get_by(Message, channel=channel, external_id=external_id)
    if message is not None:
        message.case = Case.objects.get(pk=message.case_id)
    return message


# The channel a customer or partner may name: the portal's own pages name it for them. Any other choice,
# through the API, is refused (an `internal` or `phone` message the customer did not send that way would
# mislead the reps and the reports); not choosing is the API.
OUTSIDE_CHANNELS = frozenset({Channel.PORTAL})


def _check_outside_channel(channel: Channel | None) -> None:
    if channel is not None and channel not in OUTSIDE_CHANNELS:
        raise PermissionDenied("Customers and partners cannot choose the channel; it is the one they write through.")


@dataclass(frozen=True, slots=True)
class CaseCreated:
    case: Case
    message: Message | None
    duplicate: bool = False  # True: the first message was seen before; nothing was written


def create_case(
    *,
    actor: User | None,
    requester: Contact | ContactDraft,
    subject: str,
    body: MessageInput | None,
    channel: Channel | None = None,
    priority: Priority | None = None,
    team: Team | None = None,
    assignee: User | None = None,
    organization: Organization | None = None,
    site: Site | None = None,
    asset: Asset | None = None,
    partner: Organization | None = None,
    tags: Sequence[str] = (),
    custom_fields: Mapping[str, Any] | None = None,
    opened_at: dt.datetime | None = None,
) -> CaseCreated:
    """Open a case with its first message in one transaction.

    A customer may open a case only for themselves, and sets nothing but the
    subject, the message and what it is about (site/asset). The first message
    is always inbound, what the requester said, whoever records it; a rep who
    writes first opens the case without a body and adds the reply or note with
    `add_message` in the same transaction (the workspace's New case page does).

    `channel` and `priority` None mean "not chosen": the API channel and normal
    priority. A customer chooses neither (naming normal priority is no
    choice); the one channel taken with a customer actor is the portal's,
    which the portal names for them (`OUTSIDE_CHANNELS`).
    """
    new_requester = requester if isinstance(requester, ContactDraft) else None
    if new_requester is not None:  # saved in the case's transaction, below
        requester = new_requester.contact
    else:
        assert isinstance(requester, Contact)
        requester = surviving_contact(requester)
    is_customer = actor is not None and not actor.is_staff_member
    if is_customer:
        assert actor is not None
        own = contact_of(actor)
        if own is None or surviving_contact(own).pk != requester.pk:
            raise PermissionDenied("You can open cases only for yourself.")
        if any(x is not None for x in (team, assignee, partner)) or tags or custom_fields:
            raise PermissionDenied("Customers cannot set team, assignee, partner, tags or custom fields.")
        if priority not in (None, Priority.NORMAL):
            raise PermissionDenied("Customers cannot set a case's priority; a rep sets it.")
        _check_outside_channel(channel)
    channel = channel or Channel.API
    priority = priority or Priority.NORMAL
    subject = one_line(subject)
    if not subject:
        raise Invalid("A case needs a subject.", field="subject")
    if len(subject) > MAX_SUBJECT:
        raise Invalid(f"A subject is at most {MAX_SUBJECT} characters.", field="subject")
    _check_links(site=site, asset=asset, assignee=assignee, partner=partner)
    tag_names = _normalise_tags(tags)
    text, html = _clean_body(body) if body is not None else ("", "")
    if body is not None and (duplicate := _existing_message(channel, body.external_id)):
        return CaseCreated(case=duplicate.case, message=duplicate, duplicate=True)
    when = opened_at or clock.now()
    if site is None and asset is not None and asset.site_id is not None:
        site = asset.site
    # everything but the writes is done before the transaction: on SQLite it holds the one write lock
    fields = validate_custom_fields(custom_fields or {}, creating=True)
    case = Case(
        subject=subject, status=CaseStatus.NEW, priority=priority, channel=channel, requester=requester,
        organization_id=organization.pk if organization else requester.organization_id, site=site,
        asset=asset, assignee=assignee, team=team, partner=partner, custom_fields=fields, created_at=when,
        updated_at=when, last_message_at=when if body is not None else None,
        message_count=1 if body is not None else 0,
    )  # fmt: skip
    case_row = draft(case)  # prepared INSERTs (core.fastdb): this is the hottest write of the product
    message_row = None
    if body is not None:
        message_row = draft(Message(
            case=case, direction=Direction.INBOUND, channel=channel, author_contact=requester,
            body_text=text, body_html=html, external_id=body.external_id or None, created_at=when,
        ))  # fmt: skip
    opening = prepare_event("case.opened", case=case)  # e.g. the SLA clocks, worked out now, written inside
    try:
        with transaction.atomic():
            if new_requester is not None:
                saved = new_requester.write(actor=actor)
                if saved is not requester and organization is None:  # another request took the address first
                    case_row.set("organization_id", saved.organization_id)
                requester = saved
                case_row.set("requester_id", saved.pk)
                case.requester = saved  # setting the id dropped the cached instance; the answer shows it
                if message_row is not None:
                    message_row.set("author_contact_id", saved.pk)
            case_row.insert()
            message = None
            if message_row is not None:
                message_row.set("case_id", case.pk)
                message = message_row.insert()
                message.case = case
                if body is not None and body.attachments:
                    _store_attachments(message, body.attachments)
            if tag_names:
                case.tags.set(_tags_for(tag_names))
            record_event(kind="case.opened", subjects=_subjects(case), actor=actor, case_id=case.pk, occurred_at=when,
                         summary=f"{case.number} opened: {subject}",
                         data={"channel": channel, "priority": priority,
                               "message": message.pk if message else None})  # fmt: skip
            record_audit(action="case.create", object_type="case", object_id=case.pk, actor=actor,
                         after={"subject": subject, "requester": requester.pk, "channel": channel,
                                "priority": priority, "team": team.pk if team else None,
                                "assignee": assignee.pk if assignee else None, "tags": tag_names})  # fmt: skip
            opening.publish(case=case, message=message)  # what was prepared before BEGIN
            publish_in_transaction("case.opened", case=case, message=message)  # listeners that need the rows
    except IntegrityError:
        # a concurrent delivery of the same external id won the race
        if body is not None and (duplicate := _existing_message(channel, body.external_id)):
            return CaseCreated(case=duplicate.case, message=duplicate, duplicate=True)
        raise
    publish("case.opened", case_id=case.pk)
    return CaseCreated(case=case, message=message)


@dataclass(frozen=True, slots=True)
class MessageAdded:
    message: Message
    duplicate: bool = False


def add_message(
    *,
    actor: User | None,
    case: Case,
    direction: Direction,
    body: MessageInput,
    channel: Channel | None = None,
    author_contact: Contact | None = None,
    occurred_at: dt.datetime | None = None,
) -> MessageAdded:
    """Add a reply, an inbound message or an internal note.

    Inbound on a pending or solved case reopens it; the first public reply of
    staff sets `first_response_at`; a closed case takes no more messages.

    `channel` None means "not chosen": the API. A customer or a partner (an
    outsider: not staff) only posts inbound messages, and chooses no channel
    but the portal's own.
    """
    is_customer = actor is not None and not actor.is_staff_member
    if is_customer:
        assert actor is not None
        if direction != Direction.INBOUND:
            refusal = (
                "Partners post updates (inbound messages) to the cases given to them; replies and notes are for staff."
                if actor.role == Role.PARTNER
                else "Customers can only write to us."
            )
            raise CaseError(CaseErrorCode.NOTE_NOT_ALLOWED, refusal, status=403)
        _check_outside_channel(channel)
        author_contact = contact_of(actor)
    channel = channel or Channel.API
    if direction == Direction.INBOUND and author_contact is None:
        author_contact = case.requester
    text, html = _clean_body(body)
    if duplicate := _existing_message(channel, body.external_id):
        return MessageAdded(message=duplicate, duplicate=True)
    when = occurred_at or clock.now()
    with transaction.atomic():
        # The case row is locked until commit (FOR UPDATE on PostgreSQL; on SQLite the IMMEDIATE
        # transaction took the write lock at BEGIN), so its status and counters read here stay true.
        locked = get_by(Case, for_update=True, id=case.pk)
        if locked is None:
            raise Case.DoesNotExist(f"Case {case.pk} does not exist.")
        case = locked
        if case.status == CaseStatus.CLOSED:
            raise CaseError(CaseErrorCode.ALREADY_CLOSED, f"{case.number} is closed; open a follow-up case.",
                            status=409)  # fmt: skip
        message = insert(Message(
            case=case, direction=direction, channel=channel,
            author_user=actor if direction != Direction.INBOUND or not is_customer else None,
            author_contact=author_contact if direction == Direction.INBOUND else None,
            body_text=text, body_html=html, external_id=body.external_id or None, created_at=when,
        ))  # fmt: skip
        if body.attachments:
            _store_attachments(message, body.attachments)
        changed = ["updated_at", "last_message_at"]
        case.updated_at = when
        case.message_count += 1  # the locked row's count; the database adds 1 itself below
        case.last_message_at = when
        status_before = case.status
        if direction == Direction.INBOUND and case.status in (
            CaseStatus.PENDING,
            CaseStatus.SOLVED,
        ):
            case.status = CaseStatus.OPEN
            case.solved_at = None
            changed += ["status", "solved_at"]
        elif direction == Direction.OUTBOUND:
            if case.first_response_at is None:
                case.first_response_at = when
                changed.append("first_response_at")
            if case.status == CaseStatus.NEW:
                case.status = CaseStatus.OPEN
                changed.append("status")
        update_row(case, changed, increment={"message_count": 1})  # a prepared UPDATE (core.fastdb)
        kind = {Direction.INBOUND: "message.received", Direction.OUTBOUND: "message.sent",
                Direction.NOTE: "note.added"}[direction]  # fmt: skip
        label = {Direction.INBOUND: "Message from", Direction.OUTBOUND: "Reply by",
                 Direction.NOTE: "Note by"}[direction]  # fmt: skip
        author = author_contact.name if direction == Direction.INBOUND and author_contact else (
            actor.name if actor else "caseloop")  # fmt: skip
        subjects = _subjects(case) if direction != Direction.NOTE else [(S.CASE, case.pk)]
        record_event(kind=kind, subjects=subjects, actor=actor, case_id=case.pk, occurred_at=when,
                     summary=f"{label} {author} on {case.number}: {text[:120]}",
                     data={"message": message.pk, "channel": channel})  # fmt: skip
        if case.status != status_before:
            record_event(kind="case.status_changed", subjects=[(S.CASE, case.pk)], actor=actor, case_id=case.pk,
                         occurred_at=when, summary=f"{case.number} {status_before} → {case.status}",
                         data={"from": status_before, "to": case.status})  # fmt: skip
        publish_in_transaction("case.message_added", case=case, message=message)
    # direction and channel ride along so that listeners need not read the message back to filter on them
    publish("case.message_added", case_id=case.pk, message_id=message.pk, direction=str(direction),
            channel=str(channel))  # fmt: skip
    return MessageAdded(message=message)


def change_status(*, actor: User | None, case: Case, status: CaseStatus, override_reason: str = "") -> Case:
    """Move a case along its lifecycle; illegal moves are refused with a code.

    A person's move is also put to the registered guards (the policies domain's
    rules): an integrity rule refuses it, a guideline asks for `override_reason`.
    """
    if actor is not None and not actor.is_staff_member:
        raise PermissionDenied("Only staff change a case's status.")
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        before = case.status
        if before == status:
            return case
        if before == CaseStatus.CLOSED:
            raise CaseError(
                CaseErrorCode.ALREADY_CLOSED,
                f"{case.number} is closed and cannot change.",
                status=409,
            )
        if status not in ALLOWED_TRANSITIONS[before]:
            allowed = ", ".join(sorted(ALLOWED_TRANSITIONS[before])) or "nothing"
            raise CaseError(CaseErrorCode.ILLEGAL_TRANSITION,
                            f"{case.number} cannot go from {before} to {status}; from {before} it can go to {allowed}.",
                            status=409, extra={"from": before, "to": status})  # fmt: skip
        if actor is not None:
            guards.check(guards.Attempt(kind="case.status_change", case_id=case.pk, actor=actor,
                                        details={"from": before, "to": str(status)},
                                        override_reason=override_reason))  # fmt: skip
        now = clock.now()
        case.status = status
        case.updated_at = now
        update = ["status", "updated_at"]
        if status == CaseStatus.SOLVED:
            case.solved_at = now
            update.append("solved_at")
        elif status == CaseStatus.CLOSED:
            case.closed_at = now
            update.append("closed_at")
        elif before == CaseStatus.SOLVED:
            case.solved_at = None
            update.append("solved_at")
        case.save(update_fields=update)
        kind = "case.reopened" if before == CaseStatus.SOLVED and status == CaseStatus.OPEN else "case.status_changed"
        record_event(kind=kind, subjects=[(S.CASE, case.pk)], actor=actor, case_id=case.pk,
                     summary=f"{case.number} {before} → {status}", data={"from": before, "to": status})  # fmt: skip
        record_audit(action="case.status", object_type="case", object_id=case.pk, actor=actor,
                     before={"status": before}, after={"status": status})  # fmt: skip
        publish_in_transaction("case.status_changed", case=case, before=before, after=str(status))
    publish("case.status_changed", case_id=case.pk, before=before, after=str(status))
    return case


_UNSET: Any = object()


def _changed_words(names: Sequence[str], changes: Mapping[str, tuple[Any, Any]]) -> list[str]:
    """What a timeline line says changed: a custom field by its key, not "custom_fields"."""
    words = []
    for name in names:
        if name == "custom_fields":
            before, after = (dict(v or {}) for v in changes[name])
            keys = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
            words.append(f"{'field' if len(keys) == 1 else 'fields'} {', '.join(keys)}" if keys else name)
        else:
            words.append(name)
    return words


def update_case(
    *,
    actor: User | None,
    case: Case,
    subject: str | None = None,
    priority: Priority | None = None,
    team: Team | None = _UNSET,
    assignee: User | None = _UNSET,
    organization: Organization | None = _UNSET,
    site: Site | None = _UNSET,
    asset: Asset | None = _UNSET,
    partner: Organization | None = _UNSET,
    custom_fields: Mapping[str, Any] | None = None,
    add_tags: Sequence[str] = (),
    remove_tags: Sequence[str] = (),
) -> Case:
    """Change a case's fields; only the arguments given are touched.

    Foreign keys are omitted to leave them, or given None to clear them.
    """
    if actor is not None and not actor.is_staff_member:
        raise PermissionDenied("Only staff change a case.")
    with transaction.atomic():
        case = Case.objects.select_for_update(of=("self",)).select_related("site", "asset").get(pk=case.pk)
        if case.status == CaseStatus.CLOSED:
            raise CaseError(
                CaseErrorCode.ALREADY_CLOSED,
                f"{case.number} is closed and cannot change.",
                status=409,
            )
        changes: dict[str, tuple[Any, Any]] = {}

        def put(name: str, value: Any) -> None:
            before = getattr(case, name)
            if before != value:
                setattr(case, name, value)
                changes[name] = (before, value)

        if subject is not None:
            subject = one_line(subject)
            if not subject or len(subject) > MAX_SUBJECT:
                raise Invalid(f"A subject is 1 to {MAX_SUBJECT} characters.", field="subject")
            put("subject", subject)
        if priority is not None:
            put("priority", priority)
        fks = {"team": team, "assignee": assignee, "organization": organization, "site": site, "asset": asset,
               "partner": partner}  # fmt: skip
        for name, value in fks.items():
            if value is not _UNSET:
                put(name, value)
        _check_links(site=case.site, asset=case.asset, assignee=case.assignee, partner=case.partner)
        if custom_fields:
            put("custom_fields", validate_custom_fields(custom_fields, existing=case.custom_fields))
        now = clock.now()
        record_changes: dict[str, tuple[Any, Any]] = {
            k: tuple(getattr(v, "pk", v) for v in pair) for k, pair in changes.items()
        }
        if changes:
            case.updated_at = now
            case.save(update_fields=[*changes, "updated_at"])
        added = _normalise_tags(add_tags)
        removed = _normalise_tags(remove_tags)
        if added or removed:
            current = set(case.tags.values_list("name", flat=True))
            to_add = [t for t in added if t not in current]
            to_remove = [t for t in removed if t in current]
            if len(current) + len(to_add) - len(to_remove) > MAX_TAGS:
                raise CaseError(CaseErrorCode.BAD_TAG, f"A case has at most {MAX_TAGS} tags.", field="tags")
            if to_add:
                case.tags.add(*_tags_for(to_add))
            if to_remove:
                case.tags.remove(*Tag.objects.filter(name__in=to_remove))
            if to_add or to_remove:
                record_changes["tags"] = (
                    sorted(current),
                    sorted((current | set(to_add)) - set(to_remove)),
                )
                if not changes:
                    Case.objects.filter(pk=case.pk).update(updated_at=now)
        if not record_changes:
            return case
        if "assignee" in record_changes or "team" in record_changes:
            who = case.assignee.name if case.assignee else "nobody"
            team_name = case.team.name if case.team else "no team"
            record_event(kind="case.assigned", subjects=[(S.CASE, case.pk)], actor=actor, case_id=case.pk,
                         summary=f"{case.number} assigned to {who} ({team_name})",
                         data={"assignee": case.assignee_id, "team": case.team_id})  # fmt: skip
        others = sorted(set(record_changes) - {"assignee", "team"})
        if others:
            record_event(kind="case.updated", subjects=[(S.CASE, case.pk)], actor=actor, case_id=case.pk,
                         summary=f"{case.number}: changed {', '.join(_changed_words(others, record_changes))}",
                         data={k: dict(zip(("from", "to"), record_changes[k], strict=True))
                               for k in others})  # fmt: skip
        record_audit(action="case.update", object_type="case", object_id=case.pk, actor=actor,
                     before={k: v[0] for k, v in record_changes.items()},
                     after={k: v[1] for k, v in record_changes.items()})  # fmt: skip
    publish("case.updated", case_id=case.pk, fields=sorted(record_changes))
    return case


# --- canned replies ------------------------------------------------------------------
def create_macro(*, actor: User, name: str, body: str, shared: bool = False) -> Macro:
    """Save a canned reply, private to `actor` or shared with all staff.

    Unknown placeholders are refused now rather than sent to a customer later.
    Sharing is for managers and administrators: a shared macro speaks for the team.
    """
    require_staff(actor)
    if shared:
        require_role(actor, Role.MANAGER, Role.ADMIN)
    name = name.strip()
    if not name or len(name) > 100:
        raise Invalid("A macro needs a name of at most 100 characters.", field="name")
    if not body.strip():
        raise Invalid("A macro needs a body.", field="body")
    if unknown := unknown_placeholders(body):
        known = ", ".join("{{ %s }}" % p for p in PLACEHOLDERS)  # noqa: UP031  (braces are the point)
        raise CaseError(CaseErrorCode.UNKNOWN_PLACEHOLDER,
                        f"Unknown placeholder {', '.join(unknown)}; use one of {known}.", field="body")  # fmt: skip
    owner = None if shared else actor
    taken = Macro.objects.filter(name__iexact=name, owner__isnull=True) if shared else Macro.objects.filter(
        name__iexact=name, owner=actor)  # fmt: skip
    if taken.exists():
        raise CaseError(CaseErrorCode.MACRO_NAME_TAKEN, f"A macro named {name!r} exists.", status=409, field="name")
    try:
        with transaction.atomic():
            macro = Macro.objects.create(name=name, body=body, owner=owner)
            record_audit(action="macro.create", object_type="macro", object_id=macro.pk, actor=actor,
                         after={"name": name, "shared": shared})  # fmt: skip
    except IntegrityError as exc:  # the same name saved concurrently
        raise CaseError(CaseErrorCode.MACRO_NAME_TAKEN, f"A macro named {name!r} exists.", status=409) from exc
    return macro


def delete_macro(*, actor: User, macro: Macro) -> None:
    """Remove a canned reply: its owner may, and managers may remove shared ones."""
    require_staff(actor)
    if macro.owner_id is None:
        require_role(actor, Role.MANAGER, Role.ADMIN)
    elif macro.owner_id != actor.pk:
        raise PermissionDenied("That macro belongs to someone else.")
    with transaction.atomic():
        record_audit(action="macro.delete", object_type="macro", object_id=macro.pk, actor=actor,
                     before={"name": macro.name, "body": macro.body})  # fmt: skip
        macro.delete()


# --- saved inbox views -----------------------------------------------------------------
def save_view(
    *, actor: User, name: str, filters: Mapping[str, Any], sort: CaseSort = CaseSort.NEWEST, shared: bool = False
) -> SavedView:
    """Save an inbox view; `filters` is checked by turning it into a CaseFilter now."""
    require_staff(actor)
    name = name.strip()
    if not name or len(name) > 80:
        raise Invalid("A view needs a name of at most 80 characters.", field="name")
    cleaned = clean_view_filters(filters)
    if SavedView.objects.filter(owner=actor, name__iexact=name).exists():
        raise CaseError(CaseErrorCode.VIEW_NAME_TAKEN, f"You already have a view named {name!r}.", status=409,
                        field="name")  # fmt: skip
    try:
        with transaction.atomic():
            view = SavedView.objects.create(owner=actor, name=name, filters=cleaned, sort=sort, shared=shared)
    except IntegrityError as exc:
        raise CaseError(CaseErrorCode.VIEW_NAME_TAKEN, f"You already have a view named {name!r}.", status=409) from exc
    return view


def delete_saved_view(*, actor: User, view: SavedView) -> None:
    if view.owner_id != actor.pk:
        raise PermissionDenied("Only the person who saved a view can delete it.")
    view.delete()


# --- who is on a case right now ------------------------------------------------------------
def touch_presence(*, actor: User, case: Case, activity: PresenceActivity) -> None:
    """Note that `actor` has `case` open (and is replying, or only viewing), now.

    One UPDATE in the common case; the first poll of a visit inserts the row,
    and a concurrent first poll of the same person is absorbed by the unique
    constraint.
    """
    require_staff(actor)
    now = clock.now()
    rows = CasePresence.objects.filter(case_id=case.pk, user_id=actor.pk)
    if rows.update(activity=activity, last_seen=now):
        return
    try:
        with transaction.atomic():
            CasePresence.objects.create(case_id=case.pk, user_id=actor.pk, activity=activity, last_seen=now)
            # a visit starts: rows of people long gone from this case are dropped
            stale = now - dt.timedelta(hours=1)
            CasePresence.objects.filter(case_id=case.pk, last_seen__lt=stale).delete()
    except IntegrityError:
        rows.update(activity=activity, last_seen=now)


def leave_case(*, actor: User, case: Case) -> None:
    """The actor closed the case page: stop showing them to others at once."""
    CasePresence.objects.filter(case_id=case.pk, user_id=actor.pk).delete()


# --- custom fields: what an administrator adds to every case ------------------------------
_FIELD_KEY = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
MAX_CHOICES = 100


def create_custom_field(
    *,
    actor: User | None,
    key: str,
    label: str,
    field_type: CustomFieldType,
    choices: Sequence[str] = (),
    required: bool = False,
    help_text: str = "",
) -> CustomFieldDefinition:
    """Add a typed field to every case; only administrators shape the data model.

    A required field applies to cases created from now on; existing cases are
    not made invalid by it.
    """
    require_role(actor, Role.ADMIN)
    key = key.strip()
    if not _FIELD_KEY.match(key):
        raise Invalid("A key is 1 to 50 lower-case letters, digits or _, starting with a letter.", field="key")
    label = label.strip()
    if not label or len(label) > 100:
        raise Invalid("A label is 1 to 100 characters.", field="label")
    cleaned = [c.strip() for c in choices]
    if field_type == CustomFieldType.CHOICE:
        if not cleaned or any(not c or len(c) > 100 for c in cleaned) or len(cleaned) > MAX_CHOICES:
            raise Invalid(f"A choice field needs 1 to {MAX_CHOICES} non-empty choices.", field="choices")
        if len(set(cleaned)) != len(cleaned):
            raise Invalid("Choices must differ from each other.", field="choices")
    elif cleaned:
        raise Invalid("Only a choice field has choices.", field="choices")
    if CustomFieldDefinition.objects.filter(key=key).exists():
        raise CaseError(CaseErrorCode.CUSTOM_FIELD_EXISTS, f"A custom field {key!r} exists.", status=409, field="key")
    try:
        with transaction.atomic():
            definition = CustomFieldDefinition.objects.create(
                key=key, label=label, field_type=field_type, choices=cleaned, required=required,
                help_text=help_text.strip()[:300],
            )  # fmt: skip
            record_audit(action="custom_field.create", object_type="custom_field", object_id=definition.pk,
                         actor=actor, after={"key": key, "label": label, "field_type": field_type,
                                             "choices": cleaned, "required": required})  # fmt: skip
    except IntegrityError as exc:  # the same key created concurrently
        raise CaseError(CaseErrorCode.CUSTOM_FIELD_EXISTS, f"A custom field {key!r} exists.", status=409) from exc
    return definition
