"""The signed, expiring tokens in survey and follow-up links.

`django.core.signing.dumps` signs the id with the site's secret key and a salt
per purpose (a follow-up token is no survey token) and stamps the time
(TimestampSigner); `loads` with `max_age` refuses a token older than the
link's life. Nothing is stored: a token is valid because we signed it, and
only the signed id is trusted (ADR 0041).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from django.conf import settings
from django.core import signing

from caseloop.feedback.errors import FeedbackError, FeedbackErrorCode


class Purpose(StrEnum):
    SURVEY = "caseloop.feedback.survey"
    FOLLOW_UP = "caseloop.feedback.follow_up"


def link_life(purpose: Purpose) -> dt.timedelta:
    """How long a link works, read at call time (CASELOOP_SURVEY_LINK_DAYS, CASELOOP_FOLLOW_UP_LINK_DAYS)."""
    days = settings.CASELOOP_SURVEY_LINK_DAYS if purpose == Purpose.SURVEY else settings.CASELOOP_FOLLOW_UP_LINK_DAYS
    return dt.timedelta(days=days)


def make_token(*, purpose: Purpose, ident: int) -> str:
    return signing.dumps({"id": ident}, salt=purpose.value)


def read_token(token: str, *, purpose: Purpose) -> int:
    """The id a token was signed for; a clear code when it was altered, made for something else, or is too old."""
    try:
        payload = signing.loads(token, salt=purpose.value, max_age=link_life(purpose))
    except signing.SignatureExpired as exc:
        raise FeedbackError(FeedbackErrorCode.TOKEN_EXPIRED, "This link has expired.", status=410) from exc
    except signing.BadSignature as exc:
        raise FeedbackError(FeedbackErrorCode.TOKEN_INVALID, "This link is not valid.", status=404) from exc
    ident = payload.get("id") if isinstance(payload, dict) else None
    if isinstance(ident, bool) or not isinstance(ident, int) or ident < 1:
        raise FeedbackError(FeedbackErrorCode.TOKEN_INVALID, "This link is not valid.", status=404)
    return ident
