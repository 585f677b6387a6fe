"""`GET /timeline?subject=contact:42`: one subject's history, newest first.

It lives here rather than in the timeline domain because deciding whether the
caller may see a subject needs the domains above the timeline (customers,
cases), which the timeline must not import.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from caseloop.cases.selectors import access_case, cases_visible_to, parse_case_number
from caseloop.core.pagination import Page, PageOut, page_of_rows
from caseloop.core.schemas import MAX_ID
from caseloop.customers.selectors import (
    access_asset,
    access_contact,
    access_organization,
    access_site,
    contact_ids_for_history,
)
from caseloop.identity.api import actor_of
from caseloop.identity.choices import Role
from caseloop.identity.models import User
from caseloop.timeline.choices import SubjectKind
from caseloop.timeline.errors import TimelineError, TimelineErrorCode
from caseloop.timeline.models import TimelineEvent
from caseloop.timeline.schemas import TimelineEventOut, TimelineQuery
from caseloop.timeline.selectors import outside_kinds, parse_subject, timeline_page

router = Router()


def _visible_subject_ids(actor: User, kind: SubjectKind, ident: int) -> list[int]:
    """The subject rows to read, after checking the caller may see the subject (404 otherwise)."""
    if kind == SubjectKind.CONTACT:
        # a merged contact's history is read with the contacts merged into it
        return contact_ids_for_history(access_contact(actor, ident))
    access: dict[SubjectKind, Callable[[User, int], object]] = {
        SubjectKind.CASE: access_case,
        SubjectKind.SITE: access_site,
        SubjectKind.ASSET: access_asset,
        SubjectKind.ORGANIZATION: access_organization,
    }
    access[kind](actor, ident)
    return [ident]


def _case_by_number(subject: str) -> str:
    """`case:CL-10234` or `case:cl-10234` → `case:10234`, as `/cases/CL-10234` names that case; else as given.

    A case's number is its id. The number is read here: the timeline sits below cases and cannot import them.
    """
    kind, _, ident = subject.partition(":")
    number = parse_case_number(ident) if kind == SubjectKind.CASE and ident == ident.strip() else None
    return f"{kind}:{number}" if number is not None else subject


@router.get("/timeline", response=PageOut[TimelineEventOut], tags=["timeline"],
            description="The history of a contact, case, site, asset or organization, newest first.")  # fmt: skip
def read_timeline(request: HttpRequest, params: Query[TimelineQuery]) -> Page[TimelineEvent]:
    actor = actor_of(request)
    kind, ident = parse_subject(_case_by_number(params.subject.strip()))
    if not 1 <= ident <= MAX_ID:
        raise TimelineError(TimelineErrorCode.BAD_SUBJECT, "That subject id is out of range.", status=400)
    ids = _visible_subject_ids(actor, kind, ident)
    # outside the company (a customer, a partner) only an allow-list of kinds, on every subject, and
    # only of cases the caller may see: a contact's history holds cases the caller may not see (not
    # attributed to this partner), a site's the previous owner's. Staff read everything.
    outside = not actor.is_staff_member
    only = sorted(outside_kinds(kind)) if outside else None
    within = cases_visible_to(actor).values("pk") if outside else None
    # a partner reads a customer's site for the work there, not the site's own events (other equipment, owners)
    caseless = not (actor.role == Role.PARTNER and kind == SubjectKind.SITE)

    def fetch(before_id: int | None, limit: int) -> list[Any]:
        return timeline_page(subject_kind=kind, subject_ids=ids, before_id=before_id, limit=limit,
                             only_kinds=only, within_cases=within,
                             caseless=caseless)  # fmt: skip

    return page_of_rows(fetch, key=lambda event: int(event.pk), cursor=params.cursor, limit=params.limit)
