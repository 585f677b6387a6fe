"""Signed provider requests for tests: what Twilio would send, with its X-Twilio-Signature."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from xml.etree import ElementTree as ET

from caseloop.channels.phone.provider import compute_signature

TOKEN = "test-auth-token-not-a-secret"
BASE = "https://caseloop.example"


def provider_settings(settings: Any) -> None:
    settings.CASELOOP_TWILIO_AUTH_TOKEN = TOKEN
    settings.CASELOOP_TWILIO_ACCOUNT_SID = "ACtest"
    settings.CASELOOP_TWILIO_WEBHOOK_BASE = BASE


def signed_post(client: Any, path: str, params: Mapping[str, str], *, token: str = TOKEN, signature: str | None = None):
    """POST form `params` to `path` signed as the provider signs it (or with the given `signature`)."""
    sign = compute_signature(auth_token=token, url=BASE + path, params=list(params.items()))
    headers = {} if signature == "" else {"HTTP_X_TWILIO_SIGNATURE": sign if signature is None else signature}
    return client.post(path, data=dict(params), **headers)


def parse_twiml(content: bytes) -> ET.Element:
    return ET.fromstring(content)  # noqa: S314  (our own responses, read back in tests)
