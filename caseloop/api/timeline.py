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

from caseloop.cases.selectors import access_case
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
from caseloop.identity.models import User
from caseloop.timeline.choices import SubjectKind
from caseloop.timeline.errors import TimelineError, TimelineErrorCode
from caseloop.timeline.models import TimelineEvent
from caseloop.timeline.schemas import TimelineEventOut, TimelineQuery
from caseloop.timeline.selectors import parse_subject, timeline_page

router = Router()

# what only staff read on a timeline
STAFF_ONLY_KINDS = ("note.added",)


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


@router.get("/timeline", response=PageOut[TimelineEventOut], tags=["timeline"],
            description="The history of a contact, case, site, asset or organization, newest first.")  # fmt: skip
def read_timeline(request: HttpRequest, params: Query[TimelineQuery]) -> Page[TimelineEvent]:
    actor = actor_of(request)
    kind, ident = parse_subject(params.subject.strip())
    if not 1 <= ident <= MAX_ID:
        raise TimelineError(TimelineErrorCode.BAD_SUBJECT, "That subject id is out of range.", status=400)
    ids = _visible_subject_ids(actor, kind, ident)
    hidden = () if actor.is_staff_member else STAFF_ONLY_KINDS

    def fetch(before_id: int | None, limit: int) -> list[Any]:
        return timeline_page(subject_kind=kind, subject_ids=ids, before_id=before_id, limit=limit,
                             exclude_kinds=hidden)  # fmt: skip

    return page_of_rows(fetch, key=lambda event: int(event.pk), cursor=params.cursor, limit=params.limit)
