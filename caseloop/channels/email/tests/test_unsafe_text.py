"""Control characters, NUL and text-direction marks do not reach stored names and bodies."""

from __future__ import annotations

from email.header import Header

import pytest

from caseloop.cases.models import MessageAttachment
from caseloop.channels.email.actions import ingest_email
from caseloop.channels.email.choices import InboundSource, InboundState
from caseloop.channels.email.parsing import clean_attachment_name, parse_email
from caseloop.channels.email.tests.mail import message_of, raw_email


def _with_attachment(disposition_name: str) -> bytes:
    return (
        "From: f@customer.test\r\nTo: support@example.com\r\nMessage-ID: <att@customer.test>\r\nSubject: files\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nsee files\r\n"
        "--B\r\nContent-Type: application/octet-stream\r\n"
        f'Content-Disposition: attachment; filename="{disposition_name}"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\nZGF0YQ==\r\n--B--\r\n"
    ).encode()


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("a\x00b.txt", "ab.txt"),
        ("=?utf-8?q?nul=00x.txt?=", "nulx.txt"),
        ("=?utf-8?q?a=0Ab.txt?=", "a b.txt"),
        (Header("\u202egpj.exe", "utf-8").encode(), "gpj.exe"),
        (Header("r\u2066ep\u2069ort\u200f.pdf", "utf-8").encode(), "report.pdf"),
        ("../../etc/passwd", ".._.._etc_passwd"),
        ("\x01\x1f", "attachment-1"),
    ],
    ids=["nul", "rfc2047-nul", "rfc2047-newline", "rlo", "isolates", "slashes", "nothing-left"],
)
def test_attachment_names_lose_control_and_bidi_characters(sent, stored):
    parsed = parse_email(_with_attachment(sent))
    assert [a.filename for a in parsed.attachments] == [stored]


def test_clean_attachment_name_keeps_ordinary_unicode_and_limits_length():
    assert clean_attachment_name("Angebot für Müller Ω.pdf") == "Angebot für Müller Ω.pdf"
    assert len(clean_attachment_name("x" * 400)) == 255


def test_nul_in_body_and_subject_becomes_replacement_character():
    parsed = parse_email(raw_email(subject="a\x00b", text="left\x00right", html="<p>x\x00y</p>"))
    assert "\x00" not in parsed.text + parsed.html + parsed.subject + parsed.display_text
    assert "left\ufffdright" in parsed.text and parsed.subject == "a\ufffdb"


@pytest.mark.django_db
def test_nul_body_and_attachment_name_are_stored_clean():
    raw = _with_attachment("a\x00b.txt").replace(b"see files", b"see\x00files")
    inbound = ingest_email(raw=raw, source=InboundSource.SMTP, envelope_to=["support@example.com"], inline=True).inbound
    assert inbound.state == InboundState.PROCESSED
    message = message_of(inbound)
    assert message.body_text.startswith("see\ufffdfiles")
    assert list(MessageAttachment.objects.filter(message=message).values_list("filename", flat=True)) == ["ab.txt"]
