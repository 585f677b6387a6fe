"""Sending a text through the provider's REST API: the sender adapter and its implementations.

CASELOOP_SMS_SENDER names the class (a dotted path). `TwilioSender` speaks
Twilio's Messages API (and that of compatible providers, with
CASELOOP_TWILIO_API_URL pointing at them); `RecordingSender` sends nothing and
records every text, for tests and for trying caseloop without a provider.
"""

from __future__ import annotations

import base64
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

TIMEOUT_SECONDS = 15


@dataclass(frozen=True, slots=True)
class OutgoingText:
    to_number: str
    from_number: str
    body: str
    status_callback: str


@dataclass(frozen=True, slots=True)
class Accepted:
    sid: str  # the provider's id for the text (its status callbacks name it)
    status: str  # the provider's first status, e.g. "queued"


class SendFailure(Exception):
    """The provider did not take the text. `permanent`: retrying will not help (a bad number, an opt-out)."""

    def __init__(self, detail: str, *, permanent: bool, code: str = "") -> None:
        super().__init__(detail)
        self.detail = detail
        self.permanent = permanent
        self.code = code


class SmsSender(Protocol):
    def send(self, text: OutgoingText) -> Accepted: ...


def get_sender() -> SmsSender:
    sender: SmsSender = import_string(settings.CASELOOP_SMS_SENDER)()
    return sender


class TwilioSender:
    """POST /2010-04-01/Accounts/{AccountSid}/Messages.json with HTTP basic auth (account SID, auth token)."""

    def send(self, text: OutgoingText) -> Accepted:
        account = str(getattr(settings, "CASELOOP_TWILIO_ACCOUNT_SID", ""))
        token = str(getattr(settings, "CASELOOP_TWILIO_AUTH_TOKEN", ""))
        if not account or not token:
            raise SendFailure("No SMS provider is configured (CASELOOP_TWILIO_ACCOUNT_SID and _AUTH_TOKEN).",
                              permanent=True, code="not_configured")  # fmt: skip
        base = str(settings.CASELOOP_TWILIO_API_URL).rstrip("/")
        url = f"{base}/2010-04-01/Accounts/{urllib.parse.quote(account)}/Messages.json"
        if not url.startswith(("https://", "http://")):
            raise SendFailure(f"CASELOOP_TWILIO_API_URL must be http(s), not {base!r}.", permanent=True)
        form = {"To": text.to_number, "From": text.from_number, "Body": text.body}
        if text.status_callback:
            form["StatusCallback"] = text.status_callback
        request = urllib.request.Request(  # noqa: S310  (the URL is the configured provider's, http(s) only)
            url,
            data=urllib.parse.urlencode(form).encode(),
            method="POST",
            headers={
                "Authorization": "Basic " + base64.b64encode(f"{account}:{token}".encode()).decode(),
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                payload = _json(response.read())
        except urllib.error.HTTPError as exc:
            payload = _json(exc.read())
            detail = f"HTTP {exc.code}: {payload.get('message') or exc.reason}"
            # 429 and 5xx are the provider's momentary trouble; any other 4xx is about this text
            permanent = 400 <= exc.code < 500 and exc.code != 429
            raise SendFailure(detail, permanent=permanent, code=str(payload.get("code") or exc.code)) from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise SendFailure(f"Could not reach the SMS provider: {exc}", permanent=False) from exc
        sid = str(payload.get("sid") or "")
        if not sid:
            raise SendFailure(f"The provider answered without a message id: {payload!r:.200}", permanent=False)
        return Accepted(sid=sid, status=str(payload.get("status") or "queued"))


def _json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class RecordingSender:
    """Sends nothing; remembers every text (class-wide, so a test reads what the task sent).

    Set `RecordingSender.fail_with` to a SendFailure to make the next send fail with it.
    """

    sent: ClassVar[list[OutgoingText]] = []
    fail_with: ClassVar[SendFailure | None] = None
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def send(self, text: OutgoingText) -> Accepted:
        with self._lock:
            failure, RecordingSender.fail_with = RecordingSender.fail_with, None
            if failure is not None:
                raise failure
            self.sent.append(text)
            return Accepted(sid=f"SMrecorded{len(self.sent):06d}", status="queued")

    @classmethod
    def reset(cls) -> None:
        with cls._lock:
            cls.sent.clear()
            cls.fail_with = None
