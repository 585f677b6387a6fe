"""Small builders for the web form's tests."""

from __future__ import annotations

import itertools
from typing import Any

from caseloop.channels.webform.actions import ContactRequest

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"
_tokens = itertools.count(1)


def token() -> str:
    return f"form-token-{next(_tokens):08d}"


def contact_request(**overrides: Any) -> ContactRequest:
    values: dict[str, Any] = {
        "name": "Ann Smith",
        "email": "Ann@Example.com",
        "topic": "repair",
        "message": "The garage door will not close.\nIt stops half way and goes back up.",
        "form_token": token(),
        "ip_address": "203.0.113.7",
    }
    values.update(overrides)
    return ContactRequest(**values)
