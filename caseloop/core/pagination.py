"""Keyset pages, newest first, with the signed cursors of `core.cursor`.

Every list of the API reads rows in `-id` order and continues strictly below
the last id it returned: a page costs one index range scan however deep the
client has read, and rows written meanwhile never shift a page (offsets would).
The cursor is opaque to the client; its content is `{"before": <id>}`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db.models import Model, QuerySet
from ninja import Field, Schema

from caseloop.core.cursor import CursorErrorCode, decode_cursor, encode_cursor
from caseloop.core.errors import DomainError
from caseloop.core.schemas import OutSchema

M = TypeVar("M", bound=Model)
T = TypeVar("T")

DEFAULT_LIMIT = 25
MAX_LIMIT = 200


class PageQuery(Schema):
    """`limit` and `cursor`, shared by every list's query parameters."""

    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="How many items, 1 to 200.")
    cursor: str | None = Field(None, description="The `next_cursor` of the previous page.")


class PageOut(OutSchema, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def _before_id(cursor: str | None) -> int | None:
    if not cursor:
        return None
    before = decode_cursor(cursor).get("before")
    if isinstance(before, bool) or not isinstance(before, int) or before < 1:
        raise DomainError(CursorErrorCode.BAD_CURSOR, "The cursor is not valid.", status=400, field="cursor")
    return before


def page_of(qs: QuerySet[M], *, cursor: str | None, limit: int) -> Page[M]:
    """One page of `qs` newest first; its ordering is replaced by `-id`."""
    limit = max(1, min(limit, getattr(settings, "CASELOOP_MAX_PAGE_SIZE", MAX_LIMIT)))
    before = _before_id(cursor)
    if before is not None:
        qs = qs.filter(id__lt=before)
    rows = list(qs.order_by("-id")[: limit + 1])  # one extra row tells whether a next page exists
    return _cut(rows, limit, lambda row: int(row.pk))


def page_of_rows(fetch: Callable[[int | None, int], list[T]], *, key: Callable[[T], int], cursor: str | None,
                 limit: int) -> Page[T]:  # fmt: skip
    """A page from a reader that takes (before_id, limit) itself (e.g. a domain selector)."""
    before = _before_id(cursor)
    rows = fetch(before, limit + 1)
    return _cut(rows, limit, key)


def _cut(rows: list[Any], limit: int, key: Callable[[Any], int]) -> Page[Any]:
    if len(rows) > limit:
        rows = rows[:limit]
        return Page(items=rows, next_cursor=encode_cursor({"before": key(rows[-1])}))
    return Page(items=rows, next_cursor=None)
