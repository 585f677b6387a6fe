"""What a customer sees in the portal, with permission in every query.

Cases, messages, sites and assets come from their domains' `*_visible_to`
selectors: a customer's own (and their organization's cases, when it shares
them), never an internal note. History is the one thing the portal filters
itself: the timeline records everything that happens to a site or an asset,
much of it internal (assignments, notes, changes to access notes, the people
who owned a house before). `customer_history` shows only event kinds on an
allow-list, and only those of cases the customer may see, so a kind added
later stays internal until someone decides it is fit for customers.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from caseloop.cases.choices import CaseStatus, Direction
from caseloop.cases.models import Case, Message, MessageAttachment
from caseloop.cases.selectors import access_case, cases_visible_to, messages_visible_to
from caseloop.channels.email.selectors import display_texts
from caseloop.core import clock
from caseloop.core.errors import NotFound
from caseloop.customers.models import Asset, Site
from caseloop.customers.selectors import access_asset, access_site, assets_visible_to, sites_visible_to
from caseloop.identity.choices import Role
from caseloop.identity.models import User
from caseloop.portal.errors import PortalError, PortalErrorCode
from caseloop.portal.models import SignInLink
from caseloop.portal.tokens import token_hash
from caseloop.timeline.choices import SubjectKind
from caseloop.timeline.models import TimelineEvent
from caseloop.timeline.selectors import OUTSIDE_SAFE_KINDS, timeline_page

# Event kinds a customer or partner may see in a site's or an asset's history (the timeline's allow-list).
CUSTOMER_SAFE_KINDS = OUTSIDE_SAFE_KINDS

# How a case's status reads to a customer: what it means for them, not our queue states.
CUSTOMER_STATUS = {
    CaseStatus.NEW: "Received",
    CaseStatus.OPEN: "In progress",
    CaseStatus.PENDING: "Waiting for your answer",
    CaseStatus.ON_HOLD: "In progress",
    CaseStatus.SOLVED: "Solved",
    CaseStatus.CLOSED: "Closed",
}
# A partner works the case for us: a pending case waits on the customer, not on the partner.
PARTNER_STATUS = {**CUSTOMER_STATUS, CaseStatus.PENDING: "Waiting for the customer"}
PAGE = 25


def usable_link(token: str) -> SignInLink:
    """The sign-in link a token stands for, if it can still sign in; else why not, as a code.

    Read only: the link page asks it to say at once that a link is used or
    expired, and signing in asks it again before using the link up.
    """
    digest = token_hash(token)
    link = SignInLink.objects.select_related("identity").filter(token_hash=digest).first() if digest else None
    if link is None:
        raise PortalError(PortalErrorCode.LINK_INVALID, "This sign-in link is not valid. Please ask for a new one.",
                          status=404)  # fmt: skip
    if link.used_at is not None:
        raise PortalError(PortalErrorCode.LINK_USED,
                          "This sign-in link was used already. Each link works once; please ask for a new one.",
                          status=410)  # fmt: skip
    if link.expires_at <= clock.now():
        raise PortalError(PortalErrorCode.LINK_EXPIRED, "This sign-in link has expired. Please ask for a new one.",
                          status=410)  # fmt: skip
    return link


def customer_status(status: str, *, role: str = Role.CUSTOMER) -> str:
    """A case status as it reads to the customer, or to the partner working the case (`role`)."""
    words = PARTNER_STATUS if role == Role.PARTNER else CUSTOMER_STATUS
    return words.get(CaseStatus(status), "In progress") if status in CaseStatus.values else "In progress"


@dataclass(frozen=True, slots=True)
class CaseList:
    cases: list[Case]
    older: int | None  # the id to page on from, when there are older cases


def portal_cases(actor: User, *, before_id: int | None = None, limit: int = PAGE) -> CaseList:
    """The cases the customer may see, newest first, in keyset pages."""
    qs = cases_visible_to(actor).select_related("requester", "site", "asset").order_by("-id")
    if before_id is not None:
        qs = qs.filter(id__lt=before_id)
    rows = list(qs[: limit + 1])
    return CaseList(cases=rows[:limit], older=rows[limit - 1].pk if len(rows) > limit else None)


@dataclass(frozen=True, slots=True)
class Conversation:
    case: Case
    messages: list[Message]
    display: dict[int, str]  # trimmed text of inbound emails (quoted replies cut), by message id


def conversation(actor: User, case_id: int) -> Conversation:
    """A case and its public messages; a case the customer may not see is "not found"."""
    case = access_case(actor, case_id)
    messages = list(messages_visible_to(actor, case))
    inbound_email = [m.pk for m in messages if m.direction == Direction.INBOUND and m.channel == "email"]
    return Conversation(case=case, messages=messages, display=display_texts(inbound_email) if inbound_email else {})


def access_attachment(actor: User, link_id: int) -> MessageAttachment:
    """A file of a message the customer may see; a note's file, or another's, is "not found"."""
    link = MessageAttachment.objects.select_related("attachment", "message").filter(pk=link_id).first()
    if link is None:
        raise NotFound("File", link_id)
    case = access_case(actor, link.message.case_id)
    if not messages_visible_to(actor, case).filter(pk=link.message_id).exists():
        raise NotFound("File", link_id)
    return link


def customer_history(
    actor: User, *, subject_kind: SubjectKind, subject_id: int, limit: int = 50
) -> list[TimelineEvent]:
    """The customer-safe part of a site's, asset's or case's history, newest first.

    The subject itself must be visible to the actor (else "not found"). Of its
    events, only kinds in CUSTOMER_SAFE_KINDS, and of those tied to a case only
    the cases the actor may see: the previous owner's repairs of a door are
    the door's history for a technician, not for the next owner.
    """
    if subject_kind == SubjectKind.SITE:
        access_site(actor, subject_id)
    elif subject_kind == SubjectKind.ASSET:
        access_asset(actor, subject_id)
    elif subject_kind == SubjectKind.CASE:
        access_case(actor, subject_id)
    else:
        raise NotFound(subject_kind, subject_id)
    visible_cases = cases_visible_to(actor).values("pk")
    # a partner reads a customer's site for the work there, not the site's own events (other equipment)
    caseless = not (actor.role == Role.PARTNER and subject_kind == SubjectKind.SITE)
    return timeline_page(
        subject_kind=subject_kind,
        subject_ids=[subject_id],
        limit=limit,
        only_kinds=tuple(CUSTOMER_SAFE_KINDS),
        within_cases=visible_cases,
        caseless=caseless,
    )


def customer_sites(actor: User) -> list[Site]:
    return list(sites_visible_to(actor).order_by("name", "address_line1", "id"))


def customer_assets(actor: User, *, site: Site | None = None) -> QuerySet[Asset]:
    qs = assets_visible_to(actor).select_related("site")
    return (qs.filter(site=site) if site is not None else qs).order_by("name", "id")


def cases_about(actor: User, *, site: Site | None = None, asset: Asset | None = None) -> list[Case]:
    """The customer's visible cases about a site or an asset, newest first."""
    qs = cases_visible_to(actor)
    qs = qs.filter(site=site) if site is not None else qs
    qs = qs.filter(asset=asset) if asset is not None else qs
    return list(qs.order_by("-id")[:PAGE])
