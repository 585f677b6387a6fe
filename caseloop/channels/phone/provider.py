"""What phone and SMS share with the telephony provider: signed webhooks and TwiML.

Twilio (and providers that speak its dialect: SignalWire, Telnyx TeXML, …)
calls our webhooks with form-encoded POSTs signed in `X-Twilio-Signature`:
base64(HMAC-SHA1(auth token, the full URL it requested + every POST parameter
name and value, sorted by name, with no separators)). A request whose
signature is missing or wrong is answered 403 and never processed; so is every
request while no auth token is configured (the decorators that check it, and
keep each signed request before it is processed, are in `webhooks.py`).

The URL is the one the provider requested, which behind a proxy is not what
Django sees: it is rebuilt from CASELOOP_TWILIO_WEBHOOK_BASE (else
CASELOOP_SITE_URL) plus the path and query string. Every URL we hand the
provider in TwiML is built from the same base, so what it signs is what we check.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit, urlunsplit
from xml.etree import ElementTree as ET

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

SIGNATURE_HEADER = "X-Twilio-Signature"
_DEFAULT_PORTS = {"https": 443, "http": 80}


def compute_signature(*, auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """Twilio's signature of a request: the URL, then each parameter name+value sorted by name (then value)."""
    payload = url + "".join(name + value for name, value in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _url_variants(url: str) -> list[str]:
    """The URL as given, and with its default port added or removed.

    Twilio's own libraries accept both: depending on how the webhook URL was
    entered, the provider may have signed `https://host/…` or `https://host:443/…`.
    """
    parts = urlsplit(url)
    default = _DEFAULT_PORTS.get(parts.scheme)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None and parts.port == default:
        other = parts._replace(netloc=host)
    elif parts.port is None and default is not None:
        other = parts._replace(netloc=f"{host}:{default}")
    else:
        return [url]
    return [url, urlunsplit(other)]


def is_valid_signature(*, auth_token: str, url: str, params: Iterable[tuple[str, str]], signature: str) -> bool:
    if not auth_token or not signature:
        return False
    items = list(params)
    for candidate in _url_variants(url):
        expected = compute_signature(auth_token=auth_token, url=candidate, params=items)
        if hmac.compare_digest(expected.encode(), signature.encode()):
            return True
    return False


def auth_token() -> str:
    return str(getattr(settings, "CASELOOP_TWILIO_AUTH_TOKEN", ""))


def webhook_base() -> str:
    """The public origin the provider reaches us at (no trailing slash)."""
    base = getattr(settings, "CASELOOP_TWILIO_WEBHOOK_BASE", "") or settings.SITE_URL
    return str(base).rstrip("/")


def public_url(path: str) -> str:
    """An absolute URL for the provider, from the public base."""
    return webhook_base() + path


def url_for(name: str, **kwargs: object) -> str:
    return public_url(reverse(name, kwargs=kwargs or None))


def signed_url_of(request: HttpRequest) -> str:
    """The URL the provider signed for this request."""
    return public_url(request.get_full_path())


def form_params(request: HttpRequest) -> list[tuple[str, str]]:
    return [(name, value) for name, values in request.POST.lists() for value in values]


# --- TwiML ------------------------------------------------------------------------------------
class TwiML:
    """A TwiML document built as XML (so every prompt and URL is escaped)."""

    def __init__(self) -> None:
        self.root = ET.Element("Response")

    def _add(self, parent: ET.Element, tag: str, text: str = "", **attributes: str | int | None) -> ET.Element:
        element = ET.SubElement(parent, tag, {k: str(v) for k, v in attributes.items() if v not in (None, "")})
        if text:
            element.text = text
        return element

    def say(self, text: str, *, voice: str = "", language: str = "", parent: ET.Element | None = None) -> None:
        self._add(self.root if parent is None else parent, "Say", text, voice=voice, language=language)

    def gather(self, *, action: str, timeout: int = 6, num_digits: int = 1) -> ET.Element:
        # with no key pressed Twilio goes on to the verb after <Gather> (our redirect back with a try counted)
        return self._add(self.root, "Gather", input="dtmf", numDigits=num_digits, timeout=timeout, action=action,
                         method="POST")  # fmt: skip

    def redirect(self, url: str) -> None:
        self._add(self.root, "Redirect", url, method="POST")

    def dial(self, target: str, *, action: str, timeout: int, record: bool, recording_callback: str,
             caller_id: str = "") -> None:  # fmt: skip
        dial = self._add(self.root, "Dial", action=action, method="POST", timeout=timeout,
                         record="record-from-answer-dual" if record else None,
                         recordingStatusCallback=recording_callback if record else None,
                         recordingStatusCallbackMethod="POST" if record else None, callerId=caller_id)  # fmt: skip
        self._add(dial, "Sip" if target.startswith("sip:") else "Number", target)

    def hangup(self) -> None:
        self._add(self.root, "Hangup")

    def response(self) -> HttpResponse:
        declaration = b'<?xml version="1.0" encoding="UTF-8"?>'
        body = declaration + ET.tostring(self.root, encoding="utf-8", xml_declaration=False)
        return HttpResponse(body, content_type="text/xml; charset=utf-8")


def empty_twiml() -> HttpResponse:
    """ "Nothing to do": the answer to a message or status callback."""
    return TwiML().response()


def param(params: Mapping[str, str], name: str, default: str = "") -> str:
    return str(params.get(name, default)).strip()


def whole_number(raw: str, *, max_digits: int = 18) -> int | None:
    """`raw` as a non-negative int when it is plain ASCII digits (at most `max_digits`), else None.

    str.isdigit() alone is not enough: it takes "²" or "٣", which int() then refuses (or reads as a digit
    no provider meant).
    """
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= max_digits else None
