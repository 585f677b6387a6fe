"""Every message of the shared email corpus ingests right or lands in quarantine with a reason.

The corpus lives outside the repository (../shared/corpus/email, or
CASELOOP_EMAIL_CORPUS); it is never copied in. Expectations come from the
corpus itself:

- stalwart/*.eml: the parser test results (.json) of the Stalwart mail-parser
  project: sender, subject and the text body parts.
- django-helpdesk/*.eml: facts transcribed in EXPECTED.yml.
- cpython/msg_*.txt: no expectations ship with them, so the standard
  library's own reading (compat32 headers, `get_body` plain text) is the
  reference, taken independently of our parser.

Each file is one test, named by its path. A message without a usable sender
must be quarantined (no_sender); a delivery report is recognised as a bounce;
everything else must become a case with the right requester, subject and text.
"""

from __future__ import annotations

import contextlib
import json
import os
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.utils import getaddresses
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings

from caseloop.channels.email.actions import ingest_email
from caseloop.channels.email.choices import InboundReason, InboundSource, InboundState
from caseloop.channels.email.models import DisplayBody, InboundEmail
from caseloop.channels.email.tests.mail import case_of, message_of
from caseloop.core.sanitize import html_to_text

CORPUS = Path(os.environ.get("CASELOOP_EMAIL_CORPUS", settings.REPO_DIR.parent / "shared" / "corpus" / "email"))
MISSING = f"the email corpus is not at {CORPUS} (set CASELOOP_EMAIL_CORPUS)"


def corpus_files() -> list[str]:
    if not CORPUS.is_dir():
        return []
    names = [*CORPUS.glob("stalwart/*/*.eml"), *CORPUS.glob("django-helpdesk/*.eml"), *CORPUS.glob("cpython/msg_*.txt")]
    return sorted(str(p.relative_to(CORPUS)) for p in names)


# Where our reading of a malformed message differs from Stalwart's, on purpose; asserted exactly instead.
DIVERGENCES: dict[str, dict[str, str]] = {
    # a part header block with two Content-Type fields: Stalwart takes the last (text/plain) and shows
    # the rest as text; Python's parser (and we) take the first (multipart/alternative) and find its HTML
    "stalwart/malformed/020.eml": {"text": "HTML Body"},
    "stalwart/malformed/021.eml": {"text": "áóúäöüß"},
}


# The plain and HTML alternatives of this message say different things. django-helpdesk shows the
# HTML's words as the description; we read the plain part as the text (RFC 8621) and keep the HTML
# as the message's HTML, so the expected words are looked for there, and the plain part's here.
HELPDESK_HTML_TEXT = {"utf-nondecodable.eml": "Díky moc!"}


def norm(text: str) -> str:
    return " ".join(text.split())


def ingest(path: Path) -> InboundEmail:
    raw = path.read_bytes()
    return ingest_email(raw=raw, source=InboundSource.IMPORT, envelope_to=["support@example.com"], inline=True).inbound


def assert_outcome(inbound: InboundEmail, *, sender: str | None, subject: str | None, texts: list[str]) -> None:
    """Filed with this sender, subject and text, or quarantined for having no sender."""
    assert inbound.state != InboundState.RECEIVED
    if not sender:
        assert inbound.state == InboundState.QUARANTINED and inbound.reason
        assert inbound.reason_code in (InboundReason.NO_SENDER, InboundReason.UNPARSEABLE)
        return
    if inbound.reason_code == InboundReason.BOUNCE:
        assert inbound.state == InboundState.IGNORED and inbound.reason.startswith("Delivery failed")
        return
    assert (inbound.state, inbound.reason_code) == (InboundState.PROCESSED, ""), inbound.reason
    case = case_of(inbound)
    identities = list(case.requester.identities.values_list("value", flat=True))
    assert identities == [sender.lower()]
    assert case.subject == (norm(subject or "") or "(no subject)")[:300]
    body = norm(message_of(inbound).body_text)
    for text in texts:
        assert norm(text) in body


def stalwart_expectation(path: Path) -> tuple[str | None, str | None, list[str]]:
    data = json.loads(path.with_suffix(".json").read_text())
    headers: dict[str, Any] = {}
    for header in data["parts"][0]["headers"]:
        if isinstance(header["name"], str):
            headers.setdefault(header["name"], header["value"])
    sender = None
    addresses = (headers.get("from") or {}).get("Address") or {}
    listed = addresses.get("List") or [a for g in addresses.get("Group") or [] for a in g.get("addresses") or []]
    if listed and listed[0].get("address") and "@" in listed[0]["address"]:
        sender = listed[0]["address"]
    subject = (headers.get("subject") or {}).get("Text")
    texts = []
    for index in data["text_body"]:
        body = data["parts"][index]["body"]
        if "Text" in body:
            texts.append(body["Text"])
        elif "Html" in body:
            texts.append(html_to_text(body["Html"]))
    return sender, subject, texts


def stdlib_expectation(path: Path) -> tuple[str | None, str | None, list[str]]:
    msg = message_from_bytes(path.read_bytes(), policy=policy.compat32)
    pairs = getaddresses(msg.get_all("From", []) or msg.get_all("Sender", []))
    sender = next((a for _, a in pairs if "@" in a and " " not in a), None)
    raw_subject = msg.get("Subject")
    subject = str(make_header(decode_header(str(raw_subject)))) if raw_subject is not None else None
    modern = message_from_bytes(path.read_bytes(), policy=policy.default)
    part = modern.get_body(("plain",)) if hasattr(modern, "get_body") else None
    texts = []
    if part is not None and part.get_content_type() == "text/plain":
        # when the reference cannot decode it, sender and subject are still checked
        with contextlib.suppress(LookupError, UnicodeError):
            texts.append(part.get_content())
    return sender, subject, texts


@pytest.mark.django_db
@pytest.mark.skipif(not CORPUS.is_dir(), reason=MISSING)
@pytest.mark.parametrize("name", corpus_files() or ["(corpus missing)"])
def test_corpus_message(name):
    path = CORPUS / name
    inbound = ingest(path)
    if name.startswith("stalwart/"):
        sender, subject, texts = stalwart_expectation(path)
        if name in DIVERGENCES:
            texts = [DIVERGENCES[name]["text"]]
            assert norm(message_of(inbound).body_text) == DIVERGENCES[name]["text"]
        assert_outcome(inbound, sender=sender, subject=subject, texts=texts)
    elif name.startswith("cpython/"):
        sender, subject, texts = stdlib_expectation(path)
        assert_outcome(inbound, sender=sender, subject=subject, texts=texts)
    else:
        check_helpdesk(name, path, inbound)


def check_helpdesk(name: str, path: Path, inbound: InboundEmail) -> None:
    facts = yaml.safe_load((CORPUS / "django-helpdesk" / "EXPECTED.yml").read_text())[path.name]
    sender, subject, _ = stdlib_expectation(path)
    assert_outcome(inbound, sender=sender, subject=subject, texts=[])
    if "note" in facts:
        return  # pgp.eml: carries no parse assertions
    case, message = case_of(inbound), message_of(inbound)
    if "title" in facts:
        assert case.subject == facts["title"]
    if "title_starts_with" in facts:
        assert case.subject.startswith(facts["title_starts_with"])
    if "description" in facts:
        assert message.body_text.strip() == facts["description"]
    if "description_contains" in facts and path.name in HELPDESK_HTML_TEXT:
        assert facts["description_contains"] in html_to_text(message.body_html)
        assert HELPDESK_HTML_TEXT[path.name] in message.body_text
    elif "description_contains" in facts:
        assert facts["description_contains"] in message.body_text
    if "first_attachment_contains" in facts:
        # django-helpdesk keeps the HTML alternative as an attachment; we keep it as the message's HTML
        assert facts["first_attachment_contains"] in html_to_text(message.body_html)
    if facts.get("attachments") == 1 and name.endswith("quoted_printable.eml"):
        assert "Tohle je test českých písmen odeslaných z gmailu." in message.body_html
    if "forwarded_part" in facts:
        # the full text keeps the quoted original; the display text is the new part only
        assert facts["forwarded_part"] in message.body_text
        assert DisplayBody.objects.get(message=message).text == facts["description_contains"]
