"""Reads of cases and messages; permission is part of every query."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q, QuerySet

from caseloop.cases.choices import OPEN_STATUSES, CaseStatus, Direction
from caseloop.cases.models import Case, Message
from caseloop.core.errors import NotFound
from caseloop.customers.choices import OrganizationKind
from caseloop.customers.selectors import contact_ids_for_history, contact_of
from caseloop.identity.choices import Role
from caseloop.identity.models import User


def cases_visible_to(actor: User) -> QuerySet[Case]:
    """Staff see every case; a customer their own (and their organization's,
    when it shares cases); a partner only the cases attributed to it."""
    qs: QuerySet[Case] = Case.objects.all()
    if actor.is_staff_member:
        return qs
    contact = contact_of(actor)
    if contact is None:
        return qs.none()
    if actor.role == Role.PARTNER:
        organization = contact.organization
        if organization is None or organization.kind != OrganizationKind.PARTNER:
            return qs.none()
        return qs.filter(partner_id=organization.pk)
    mine = Q(requester_id__in=contact_ids_for_history(contact))
    organization = contact.organization
    if organization is not None and organization.shares_cases:
        mine |= Q(organization_id=organization.pk)
    return qs.filter(mine)


def access_case(actor: User, case_id: int, *, for_update: bool = False) -> Case:
    """The case if the actor may see it; otherwise NotFound (not 403: no leaking)."""
    qs = cases_visible_to(actor)
    if for_update:
        qs = qs.select_for_update(of=("self",))
    case = (
        qs.select_related("requester", "organization", "site", "asset", "assignee", "team").filter(pk=case_id).first()
    )
    if case is None:
        raise NotFound("Case", case_id)
    return case


def parse_case_number(raw: str) -> int | None:
    """`CL-10234`, `cl-10234` or `10234` → 10234."""
    text = raw.strip()
    prefix = f"{settings.CASELOOP_CASE_NUMBER_PREFIX}-".lower()
    if text.lower().startswith(prefix):
        text = text[len(prefix) :]
    return int(text) if text.isdigit() else None


def messages_visible_to(actor: User, case: Case) -> QuerySet[Message]:
    qs = case.messages.select_related("author_user", "author_contact").prefetch_related(
        "message_attachments__attachment"
    )
    if not actor.is_staff_member:
        qs = qs.exclude(direction=Direction.NOTE)
    return qs.order_by("id")


@dataclass(frozen=True, slots=True)
class CaseFilter:
    """One filter definition, used by the API list and the inbox views alike."""

    status: list[str] = field(default_factory=list)
    open_only: bool = False
    priority: list[str] = field(default_factory=list)
    channel: list[str] = field(default_factory=list)
    team_id: int | None = None
    assignee_id: int | None = None
    unassigned: bool = False
    requester_id: int | None = None
    organization_id: int | None = None
    site_id: int | None = None
    asset_id: int | None = None
    tag: str | None = None

    def apply(self, qs: QuerySet[Case]) -> QuerySet[Case]:
        if self.open_only:
            qs = qs.filter(status__in=list(OPEN_STATUSES))
        if self.status:
            qs = qs.filter(status__in=self.status) if len(self.status) > 1 else qs.filter(status=self.status[0])
        if self.priority:
            qs = qs.filter(priority__in=self.priority)
        if self.channel:
            qs = qs.filter(channel__in=self.channel)
        if self.team_id is not None:
            qs = qs.filter(team_id=self.team_id)
        if self.assignee_id is not None:
            qs = qs.filter(assignee_id=self.assignee_id)
        if self.unassigned:
            qs = qs.filter(assignee__isnull=True)
        if self.requester_id is not None:
            qs = qs.filter(requester_id=self.requester_id)
        if self.organization_id is not None:
            qs = qs.filter(organization_id=self.organization_id)
        if self.site_id is not None:
            qs = qs.filter(site_id=self.site_id)
        if self.asset_id is not None:
            qs = qs.filter(asset_id=self.asset_id)
        if self.tag:
            qs = qs.filter(tags__name=self.tag)
        return qs


def case_list(actor: User, case_filter: CaseFilter) -> QuerySet[Case]:
    """Visible cases matching the filter, newest first (stable: by id)."""
    qs = case_filter.apply(cases_visible_to(actor))
    return qs.select_related("requester", "assignee", "team").order_by("-id")


def open_statuses() -> list[str]:
    return [s.value for s in CaseStatus if s in OPEN_STATUSES]
