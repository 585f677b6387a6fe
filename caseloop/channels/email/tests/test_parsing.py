"""Parsing raw mail: charsets, encoded headers, body structure, attachments, machines and trimming."""

from __future__ import annotations

import pytest

from caseloop.channels.email.choices import AutoKind
from caseloop.channels.email.parsing import (
    UnparseableEmail,
    decode_bytes,
    parse_email,
    peek_message_id,
    synthetic_message_id,
    trim_reply,
)
from caseloop.channels.email.tests.mail import bounce_for, raw_email


def mime(headers: str, body: bytes) -> bytes:
    return headers.replace("\n", "\r\n").encode() + b"\r\n" + body


# --- charsets -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "declared", "expected"),
    [
        ("Grüße".encode("iso-8859-1"), "iso-8859-1", "Grüße"),
        ("Grüße".encode(), "us-ascii", "Grüße"),  # mislabelled: really UTF-8
        ("Grüße €".encode("cp1252"), "utf-8", "Grüße €"),  # mislabelled: really Windows-1252
        ("Grüße".encode(), "x-unknown-charset", "Grüße"),  # unknown label
        ("Grüße".encode("iso-8859-1"), None, "Grüße"),  # no label, not UTF-8
        ("prosazuje lepší ".encode() + b"\xff\xfe" + "řád".encode(), "utf-8", "prosazuje lepší \ufffd\ufffdřád"),
        (b"\x81\x8d\x8f", "utf-8", "\ufffd\ufffd\ufffd"),  # not even Windows-1252: replaced
        (b"\x81\x8d", "iso-8859-2", "\x81\x8d"),  # a charset that maps every byte keeps them
    ],
    ids=[
        "latin1",
        "ascii-label-utf8",
        "utf8-label-cp1252",
        "unknown-label",
        "no-label",
        "utf8-few-broken",
        "garbage-utf8",
        "latin2-bytes",
    ],
)
def test_decode_bytes_falls_back_and_never_fails(data, declared, expected):
    assert decode_bytes(data, declared) == expected


def test_rfc2047_headers_and_8bit_headers_are_decoded():
    raw = mime(
        "From: =?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <jm@customer.test>\n"
        "To: support@example.com\n"
        "Subject: =?iso-8859-2?q?=A9koda_?= =?utf-8?q?=E2=82=AC?=\n"
        "Message-ID: <a@b>\n",
        b"hi\r\n",
    )
    parsed = parse_email(raw)
    assert (parsed.from_name, parsed.from_address, parsed.subject) == ("Jürgen Müller", "jm@customer.test", "Škoda €")
    raw8 = "From: Zoë <zoe@customer.test>\r\nSubject: Čeština v hlavičce\r\n\r\nx\r\n".encode()
    parsed8 = parse_email(raw8)
    assert (parsed8.from_name, parsed8.from_address, parsed8.subject) == ("Zoë", "zoe@customer.test",
                                                                          "Čeština v hlavičce")  # fmt: skip


# --- structure --------------------------------------------------------------------------
def test_alternative_takes_plain_text_and_keeps_sanitised_html():
    parsed = parse_email(raw_email(text="Plain words", html='<p>HTML <a href="javascript:x()">words</a></p>'))
    assert parsed.text == "Plain words"
    assert parsed.html.startswith("<p>HTML <a") and "javascript" not in parsed.html
    assert parsed.attachments == ()


def test_html_only_mail_gets_text_from_html():
    raw = mime(
        "From: a@customer.test\nSubject: s\nContent-Type: text/html; charset=utf-8\n",
        b"<div>Line one<br>Line <b>two</b></div><p>Para</p>",
    )
    parsed = parse_email(raw)
    assert parsed.text == "Line one\nLine two\nPara"
    assert parsed.html == "<div>Line one<br>Line <b>two</b></div><p>Para</p>"


def test_related_inline_image_is_an_inline_attachment_with_its_content_id():
    raw = mime(
        'From: a@customer.test\nSubject: s\nContent-Type: multipart/related; boundary="r"\n',
        b'--r\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>See <img src="cid:img1@x"></p>\r\n'
        b"--r\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\nContent-ID: <img1@x>\r\n\r\n"
        b"iVBORw0KGgo=\r\n--r--\r\n",
    )
    parsed = parse_email(raw)
    assert parsed.text == "See"
    assert '<img src="cid:img1@x">' in parsed.html
    [image] = parsed.attachments
    assert (image.content_type, image.inline, image.content_id, image.content) == (
        "image/png", True, "img1@x", b"\x89PNG\r\n\x1a\n")  # fmt: skip


def test_attachment_with_encoded_filename():
    raw = raw_email(attachments=[("Rechnung März.pdf", b"%PDF", "application/pdf")])
    [attachment] = parse_email(raw).attachments
    assert (attachment.filename, attachment.content, attachment.inline) == ("Rechnung März.pdf", b"%PDF", False)


def test_forwarded_message_is_an_attachment_and_its_text_follows_the_body():
    inner = raw_email(sender="Original <orig@else.test>", subject="Original subject", text="Inner words")
    raw = mime(
        'From: a@customer.test\nSubject: Fwd: x\nContent-Type: multipart/mixed; boundary="m"\n',
        b"--m\r\nContent-Type: text/plain\r\n\r\nPlease look below.\r\n--m\r\nContent-Type: message/rfc822\r\n\r\n"
        + inner
        + b"\r\n--m--\r\n",
    )
    parsed = parse_email(raw)
    [attachment] = parsed.attachments
    assert (attachment.filename, attachment.content_type) == ("Original subject.eml", "message/rfc822")
    assert parsed.text.startswith("Please look below.\n\n---------- Forwarded message ----------\n")
    assert "From: Original <orig@else.test>" in parsed.text and parsed.text.endswith("Inner words")
    assert parsed.display_text == parsed.text  # a forward is content, never trimmed


def _full_parser(raw: str) -> list[tuple[str, str]]:
    from email import policy

    header = policy.default.header_fetch_parse("To", raw)
    pairs = [(" ".join(a.display_name.split()), a.addr_spec.lower()) for a in header.addresses]
    return [(name, spec) for name, spec in pairs if "@" in spec]


@pytest.mark.parametrize(
    "raw",
    [
        "Ann Smith <ann@customer.test>",
        "ann@customer.test",
        "  Ann   Smith   <Ann@Customer.Test>  ",
        "<ann@customer.test>",
        "a@b.test, Dee Eff <dee.eff+tag@sub.example.co.uk>",
        "O'Brien-Jones_2 <ob@customer.test> , bob@y.test",
    ],
)
def test_simple_address_lists_read_as_the_full_parser_reads_them(raw):
    from caseloop.channels.email.parsing import simple_addresses

    assert simple_addresses(raw) == _full_parser(raw) != []


@pytest.mark.parametrize(
    "raw",
    [
        '"Smith, Ann" <ann@customer.test>',  # quoted name
        "ann@customer.test (Ann Smith)",  # comment
        "J. Smith <j@customer.test>",  # obsolete phrase
        "=?utf-8?q?Gr=C3=BC=C3=9Fe?= <g@customer.test>",  # encoded word
        "undisclosed-recipients:;",  # group
        "a@b.test, ,c@d.test",  # empty entry
        "bob@x..test",  # not a dot-atom
        "Jürgen <j@customer.test>",  # 8-bit
    ],
)
def test_address_lists_beyond_the_simple_form_go_to_the_full_parser(raw):
    from caseloop.channels.email.parsing import simple_addresses

    assert simple_addresses(raw) is None


def test_threading_ids_are_read_nearest_first():
    raw = raw_email(in_reply_to="<c@x>", references="<a@x> <b@x> <c@x>")
    parsed = parse_email(raw)
    assert parsed.thread_ids == ("c@x", "b@x", "a@x")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"Message-ID: <abc@x>\r\n\r\nbody", "abc@x"),
        (b"Subject: s\r\nmessage-id:\r\n <folded@x>\r\n\r\nbody", "folded@x"),
        (b"From someone Tue Apr 7 10:00:00 2026\nMessage-Id: <mbox@x>\n\nbody", "mbox@x"),
        (b"Message-ID: <no-body@x>", "no-body@x"),
        (b"Subject: none\r\n\r\nMessage-ID: <in-the-body@x>\r\n", None),
        (b"Subject: s\r\nNot a header\r\nMessage-ID: <after-garbage@x>\r\n\r\nbody", None),  # the parser stops too
    ],
)
def test_peek_message_id_reads_the_header_block_only_and_agrees_with_the_parser(raw, expected):
    peeked = peek_message_id(raw)
    assert peeked == (expected or synthetic_message_id(raw))
    assert peeked == parse_email(raw).message_id


def test_empty_or_headerless_input_is_unparseable():
    with pytest.raises(UnparseableEmail):
        parse_email(b"   ")
    with pytest.raises(UnparseableEmail):
        parse_email(b"\x00\x01 not mail")


# --- machines -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("headers", "sender", "kind"),
    [
        ({}, "a@customer.test", AutoKind.NONE),
        ({"Auto-Submitted": "no"}, "a@customer.test", AutoKind.NONE),
        ({"Auto-Submitted": "auto-replied"}, "a@customer.test", AutoKind.AUTO_REPLY),
        ({"Auto-Submitted": "auto-generated"}, "a@customer.test", AutoKind.BULK),
        ({"Precedence": "list"}, "a@customer.test", AutoKind.BULK),
        ({"Precedence": "junk"}, "a@customer.test", AutoKind.BULK),
        ({"X-Autoreply": "yes"}, "a@customer.test", AutoKind.AUTO_REPLY),
        ({}, "MAILER-DAEMON@mx.test", AutoKind.BOUNCE),
        ({}, "postmaster@mx.test", AutoKind.BOUNCE),
    ],
    ids=[
        "person",
        "auto-submitted-no",
        "auto-replied",
        "auto-generated",
        "list",
        "junk",
        "x-autoreply",
        "mailer-daemon",
        "postmaster",
    ],
)
def test_machine_mail_is_recognised(headers, sender, kind):
    assert parse_email(raw_email(sender=sender, headers=headers)).auto_kind == kind


def test_delivery_status_notification_names_failed_recipient_and_original():
    parsed = parse_email(bounce_for(recipient="Gone@Customer.test", original_message_id="ours-1@example.com"))
    assert parsed.auto_kind == AutoKind.BOUNCE
    assert parsed.bounce is not None
    assert parsed.bounce.failed_recipients == ("gone@customer.test",)
    assert parsed.bounce.original_message_id == "ours-1@example.com"


# --- trimming ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Thanks, fixed!\n\nOn Tue, 3 Mar 2026 at 10:00, Support <s@x> wrote:\n> Try this", "Thanks, fixed!"),
        ("Yes.\n\nOn Tue, 3 Mar 2026 at 10:00, Support Team\n<s@x> wrote:\n> q", "Yes."),
        ("Merci\n\nLe mar. 3 mars 2026 à 10:00, Support <s@x> a écrit :\n> q", "Merci"),
        ("Danke\n\nAm 03.03.2026 um 10:00 schrieb Support <s@x>:\n> q", "Danke"),
        ("See below\n\n-----Original Message-----\nFrom: x\nSent: y\n\nold", "See below"),
        ("Reply\n\n________________________________\nFrom: Support <s@x>\nSent: Monday\nTo: me\nSubject: q\n\nold",
         "Reply"),
        ("Body text\n\n-- \nJane Doe\nACME Inc.", "Body text"),
        ("Body text\n\nSent from my iPhone", "Body text"),
        ("Top answer\n\n> quoted 1\n> quoted 2\n", "Top answer"),
        ("> question one\nanswer one\n> question two\nanswer two", "> question one\nanswer one\n> question two\n"
         "answer two"),
        ("- item one\n- item two", "- item one\n- item two"),
        ("On Monday we spoke, and on Tuesday I wrote: nothing", "On Monday we spoke, and on Tuesday I wrote: nothing"),
        ("> all of it quoted\n> nothing new", "> all of it quoted\n> nothing new"),
    ],
    ids=["gmail", "wrapped-gmail", "french", "german", "outlook-original", "outlook-block", "sig-dash",
         "mobile", "trailing-quote", "interleaved-kept", "hyphen-list-kept", "prose-kept", "all-quoted-kept"],
)  # fmt: skip
def test_trim_reply(text, expected):
    assert trim_reply(text) == expected
