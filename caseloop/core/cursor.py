"""Opaque cursors for keyset pagination.

A cursor encodes the sort key of the last row seen. It is signed so that a
client cannot forge one that reads outside the order, and a cursor that does
not decode is reported as a 400 with a clear message, never a 500.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from django.core import signing

from caseloop.core.errors import DomainError, ErrorCode


class CursorErrorCode(ErrorCode):
    BAD_CURSOR = "bad_cursor"


_SALT = "caseloop.cursor"


def encode_cursor(values: dict[str, Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), sort_keys=True, default=str)
    signed = signing.Signer(salt=_SALT).sign(raw)
    return base64.urlsafe_b64encode(signed.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        signed = base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
        values = json.loads(signing.Signer(salt=_SALT).unsign(signed))
    except (ValueError, UnicodeError, signing.BadSignature, json.JSONDecodeError) as exc:
        raise DomainError(
            CursorErrorCode.BAD_CURSOR,
            "The cursor is not valid; start again without one.",
            status=400,
            field="cursor",
        ) from exc
    if not isinstance(values, dict):
        raise DomainError(CursorErrorCode.BAD_CURSOR, "The cursor is not valid.", status=400)
    return values
