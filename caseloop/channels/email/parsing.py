"""Turning raw RFC 5322 bytes into what a case needs: sender, subject, text, HTML, files.

Pure functions over Python's `email` package; no database. The MIME tree is
read with the compat32 policy (raw headers, cheap to walk); each header we use
is parsed once by policy.default's header registry, except the plain ones
(ASCII without encoded words, and simple address lists such as
`Ann Smith <ann@example.com>`), which read the same without it at a tenth of
the cost.
The rules, in the order a message meets them:

- Headers: RFC 2047 encoded words are decoded; raw 8-bit headers (sent
  without encoding by sloppy mailers and phones) are decoded like bodies are,
  as a whole value before any header parser reads them: the Subject, the
  display names and the attachment name (`filename="März.pdf"` in raw UTF-8,
  Latin-1 or Windows-1252), which the standard parsers would turn into U+FFFD.
- Charsets: the declared charset first, then UTF-8, then Windows-1252, then
  Latin-1 (which decodes any byte), so a mislabelled part never stops a
  message; a UTF-8 part with a few broken bytes stays UTF-8 with U+FFFD.
- Which parts are the body: the algorithm of RFC 8621 §4.1.4 (JMAP), which
  decides for any MIME tree which parts are the text body, which the HTML
  body and which are attachments, so multipart/alternative, related (inline
  images) and mixed trees come out as a mail client shows them.
- HTML-only mail: text from `html_to_text`; the HTML is kept, sanitised.
- message/rfc822 parts (forwarded mail, digests) are attachments, and their
  text is appended to the body under a "Forwarded message" line.
- Quoted replies and signatures are trimmed for display by `trim_reply`; the
  full text is kept too.

Anything unexpected raises `UnparseableEmail`, which sends the message to
quarantine with the reason; nothing here ever drops content silently.
"""

from __future__ import annotations

import codecs
import contextlib
import datetime as dt
import email.utils
import hashlib
import html
import re
from dataclasses import dataclass, field
from email import policy
from email.header import decode_header, make_header
from email.headerregistry import Address
from email.message import Message
from email.parser import BytesParser

from caseloop.channels.email.choices import AutoKind
from caseloop.channels.email.errors import EmailError, EmailErrorCode
from caseloop.core.sanitize import html_to_text, sanitize_html

MAX_ID_LENGTH = 255
SYNTHETIC_ID_DOMAIN = "synthetic.caseloop"


class UnparseableEmail(EmailError):
    def __init__(self, message: str) -> None:
        super().__init__(EmailErrorCode.UNPARSEABLE, message)


@dataclass(frozen=True, slots=True)
class ParsedAttachment:
    filename: str
    content: bytes
    content_type: str
    inline: bool = False
    content_id: str = ""


@dataclass(frozen=True, slots=True)
class Bounce:
    """What a delivery status notification (RFC 3464) says failed."""

    failed_recipients: tuple[str, ...]
    original_message_id: str | None


@dataclass(frozen=True, slots=True)
class ParsedEmail:
    message_id: str  # without angle brackets; synthetic when the message had none
    synthetic_id: bool
    from_name: str
    from_address: str  # lower-cased; "" when there is no usable one
    reply_to: str  # lower-cased; "" when none
    to: tuple[tuple[str, str], ...]  # (name, address) pairs
    cc: tuple[tuple[str, str], ...]
    subject: str
    date: dt.datetime | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    text: str  # the full text
    html: str  # sanitised; "" when the message has no HTML
    display_text: str  # quoted replies and signature trimmed
    attachments: tuple[ParsedAttachment, ...]
    auto_kind: AutoKind
    bounce: Bounce | None
    defects: tuple[str, ...] = field(default_factory=tuple)

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """Message-IDs this message answers, nearest first (In-Reply-To, then References newest first)."""
        seen: list[str] = []
        for ident in (*self.in_reply_to, *reversed(self.references)):
            if ident not in seen:
                seen.append(ident)
        return tuple(seen)


# --- charsets ------------------------------------------------------------------------
_CHARSET_ALIASES = {
    "unicode-1-1-utf-7": "utf-7",
    "x-unknown": "",
    "unknown-8bit": "",
    "unknown": "",
    "x-user-defined": "",
    "ansi_x3.4-1968": "ascii",
    "ks_c_5601-1987": "cp949",
    "gb2312": "gb18030",  # a superset: mail labelled gb2312 is often gbk
    "gbk": "gb18030",
    "iso-8859-8-i": "iso-8859-8",
    "windows-874": "cp874",
}


def _codec(declared: str | None) -> str | None:
    if not declared:
        return None
    name = declared.strip().strip('"').lower()
    name = _CHARSET_ALIASES.get(name, name)
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_bytes(data: bytes, declared: str | None) -> str:
    """Decode text whatever its label says: declared → UTF-8 → Windows-1252 → Latin-1, never failing.

    A part labelled UTF-8 (or unlabelled) that is UTF-8 but for a few broken
    bytes keeps its UTF-8 reading with U+FFFD for the broken bytes; one where
    hardly anything decodes as UTF-8 was really a single-byte charset.
    """
    codec = _codec(declared)
    if codec is not None:
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if codec in (None, "utf-8", "ascii") and _mostly_utf8(data):
        return data.decode("utf-8", errors="replace")
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        # bytes that are not even Windows-1252: garbage, shown as U+FFFD in a UTF-8
        # part; Latin-1 (which maps every byte) for a part that declared otherwise
        return data.decode("utf-8", errors="replace") if codec == "utf-8" else data.decode("latin-1")


_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def _mostly_utf8(data: bytes) -> bool:
    sequences = _UTF8_SEQUENCE.findall(data)
    high = sum(1 for b in data if b >= 0x80)
    # each valid sequence accounts for 2-4 high bytes; what is left over is broken
    stray = high - sum(len(m) for m in sequences)
    return len(sequences) > 0 and len(sequences) >= stray


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        payload = str(part.get_payload()).encode("utf-8", "surrogateescape")
    return decode_bytes(payload, part.get_content_charset())


# --- headers ------------------------------------------------------------------------
def _raw(msg: Message, name: str) -> str | None:
    """The first value of a header as stored: 8-bit bytes kept as surrogate escapes."""
    wanted = name.lower()
    for key, value in msg.raw_items():
        if key.lower() == wanted:
            return str(value)
    return None


def _structured(name: str, raw: str) -> object:
    """A header parsed by policy.default's header registry (RFC 2047 words, address lists)."""
    return policy.default.header_fetch_parse(name, raw)


def _is_plain(raw: str) -> bool:
    """ASCII with no RFC 2047 encoded word: nothing to decode, the value is the text itself.

    Most headers of most mail are plain, and policy.default's parser (a full
    RFC 5322 grammar) costs about half of parsing a message; for an
    unstructured plain header its value is the raw text, whitespace unfolded.
    """
    return raw.isascii() and "=?" not in raw


def _has_escapes(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def _decode_escapes(raw: str) -> str:
    """A raw header value with its 8-bit bytes (surrogate escapes) decoded as a body would be:
    UTF-8 when they are UTF-8, else Windows-1252, U+FFFD for what is neither.

    Done on the whole value before any parser sees it: policy.default's parser would read
    each escape as UTF-8 or U+FFFD (a Latin-1 "ä" became U+FFFD), compat32's parameter
    reader would read each byte as U+FFFD (a UTF-8 "ä" became two).
    """
    if not _has_escapes(raw):
        return raw
    return decode_bytes(raw.encode("utf-8", "surrogateescape"), "utf-8")


def _header(msg: Message, name: str) -> str:
    """A header's decoded value ("" when absent), tolerant of any malformation."""
    raw = _raw(msg, name)
    if raw is None:
        return ""
    if _is_plain(raw):
        return " ".join(raw.split())
    raw = _decode_escapes(raw)
    try:
        value = str(_structured(name, raw))
    except Exception:  # a malformed header must not stop the message: keep it as it came
        value = raw
    return _unescape(value)


def _unescape(text: str) -> str:
    """Raw 8-bit bytes in a header arrive as surrogate escapes; decode them as a body would be."""
    if any("\udc80" <= ch <= "\udcff" for ch in text):
        text = decode_bytes(text.encode("utf-8", "surrogateescape"), "utf-8")
    return " ".join(text.split())


# `Ann Smith <ann@example.com>` or `ann@example.com`: a display name of plain words and a
# dot-atom address. Anything else (quotes, comments, groups, encoded words, dots in a name,
# 8-bit text) goes to the full parser.
_ATOM = r"[A-Za-z0-9!#$%&'*+/?^_`{|}~-]+"
_DOT_ATOM_ADDRESS = rf"{_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
_SIMPLE_ADDRESS = re.compile(
    rf"\s*(?:(?P<name>[A-Za-z0-9' _-]*?)\s*<(?P<bracketed>{_DOT_ATOM_ADDRESS})>|(?P<bare>{_DOT_ATOM_ADDRESS}))\s*"
)
_NEEDS_PARSER = frozenset('"()\\:;=[]')


def simple_addresses(raw: str) -> list[tuple[str, str]] | None:
    """The (display name, lower-cased address) pairs of a simple address list, or None when
    it needs the full RFC 5322 parser: the same pairs that parser gives, for a tenth of its cost."""
    if not raw.isascii() or not _NEEDS_PARSER.isdisjoint(raw):
        return None
    pairs: list[tuple[str, str]] = []
    for item in raw.split(","):
        match = _SIMPLE_ADDRESS.fullmatch(item)
        if match is None:
            return None
        address = match.group("bracketed") or match.group("bare")
        pairs.append((" ".join((match.group("name") or "").split()), address.lower()))
    return pairs


def _addresses(msg: Message, name: str) -> list[tuple[str, str]]:
    """(display name, lower-cased address) pairs of an address header; bad entries are left out."""
    pairs: list[tuple[str, str]] = []
    raw = _raw(msg, name)
    if raw is None:
        return pairs
    raw = _decode_escapes(raw)
    simple = simple_addresses(raw)
    if simple is not None:
        return simple
    try:
        groups = getattr(_structured(name, raw), "addresses", None)
    except Exception:  # any failure of the header parser means "no value"
        groups = None
    if groups is not None:
        for addr in groups:
            if isinstance(addr, Address) and addr.username and addr.domain:
                pairs.append((_unescape(addr.display_name), _unescape(addr.addr_spec).lower()))
        if pairs or not raw.strip():
            return pairs
    # policy.default could not make sense of it: the lenient parser of email.utils
    for display, spec in email.utils.getaddresses([_header(msg, name)]):
        local, _, domain = spec.partition("@")
        if local and domain and " " not in spec:
            pairs.append((_unescape(display), _unescape(spec).lower()))
    return pairs


_MSG_ID = re.compile(r"<([^<>\s]+)>")


def _ids(value: str) -> tuple[str, ...]:
    """Message-IDs in a header value, angle brackets removed; a bare id without brackets is accepted."""
    found = _MSG_ID.findall(value)
    if not found and value.strip() and " " not in value.strip():
        found = [value.strip()]
    return tuple(clean_message_id(i) for i in found if i)


def clean_message_id(ident: str) -> str:
    """The form a Message-ID is stored and compared in: no brackets, at most 255 characters."""
    ident = ident.strip().strip("<>").strip()
    if len(ident) > MAX_ID_LENGTH:
        # an absurdly long id still identifies the message: keep its digest
        return f"{hashlib.sha256(ident.encode('utf-8', 'surrogateescape')).hexdigest()}@long-id.caseloop"
    return ident


# the fields a relay does not change; trace fields (Received, Return-Path, Delivered-To, X-…) are left out
_STABLE_FIELDS = ("from", "sender", "to", "cc", "date", "subject", "content-type")
_FOLD = re.compile(rb"\r?\n(?=[ \t])")


def synthetic_message_id(raw: bytes) -> str:
    """An id for a message that has none, the same when a relay delivers it again.

    A retry adds or changes trace fields (Received, Return-Path, Delivered-To,
    X-…), so the id is the digest of the stable fields (From, Sender, To, Cc,
    Date, Subject, Content-Type: whitespace normalised, in that order) and of
    the body with its line endings normalised. Read from the header block as
    `peek_message_id` reads it, so the two agree.
    """
    header_end = _HEADER_LINES.match(raw)
    end = header_end.end() if header_end else 0
    fields: dict[str, list[bytes]] = {}
    for line in _FOLD.sub(b" ", raw[:end]).splitlines():
        name, colon, value = line.partition(b":")
        key = name.strip().lower().decode("ascii", "replace")
        if colon and key in _STABLE_FIELDS:
            fields.setdefault(key, []).append(b" ".join(value.split()))
    digest = hashlib.sha256()
    for key in _STABLE_FIELDS:
        for value in fields.get(key, []):
            digest.update(key.encode() + b":" + value + b"\n")
    digest.update(b"\n" + hashlib.sha256(raw[end:].replace(b"\r\n", b"\n").strip()).digest())
    return f"{digest.hexdigest()}@{SYNTHETIC_ID_DOMAIN}"


# The header block as the stdlib's feed parser delimits it: lines that look like a header
# field ("Name:", a continuation, an mbox "From "), up to the first that does not.
_HEADER_LINES = re.compile(rb"(?:(?:From |[\x21-\x39\x3b-\x7e]*:|[\t ])[^\n]*(?:\n|\Z))*")
# the Message-ID field, with its folded continuation lines
_MESSAGE_ID_FIELD = re.compile(rb"^message-id:(.*(?:\r?\n[ \t].*)*)", re.IGNORECASE | re.MULTILINE)


def peek_message_id(raw: bytes) -> str:
    """The Message-ID from the header block only (cheap: two regular expressions, no parser;
    used before the message is stored). Finds what `parse_email` finds."""
    header_end = _HEADER_LINES.match(raw)
    match = _MESSAGE_ID_FIELD.search(raw, 0, header_end.end() if header_end else 0)
    found = _ids(match.group(1).decode("utf-8", "surrogateescape")) if match else ()
    return found[0] if found else synthetic_message_id(raw)


# --- machines: auto-replies, bulk mail and bounces -----------------------------------
_BULK_PRECEDENCE = {"bulk", "junk", "list"}
_DAEMON_LOCALPARTS = {"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"}


def auto_kind_of(msg: Message, from_address: str) -> AutoKind:
    """Whether a person wrote this, or an auto-responder, a list or a bounce (RFC 3834 and common practice)."""
    content_type = msg.get_content_type()
    report_type = str(msg.get_param("report-type", "") or "").lower()
    local = from_address.partition("@")[0]
    if content_type == "multipart/report" and report_type in ("delivery-status", "disposition-notification"):
        return AutoKind.BOUNCE if report_type == "delivery-status" else AutoKind.AUTO_REPLY
    if local in _DAEMON_LOCALPARTS:
        return AutoKind.BOUNCE
    auto_submitted = _header(msg, "Auto-Submitted").lower().split(";")[0].strip()
    precedence = _header(msg, "Precedence").lower().strip()
    if (
        auto_submitted == "auto-replied"
        or precedence == "auto_reply"
        or _header(msg, "X-Autoreply")
        or _header(msg, "X-Autorespond")
        or _header(msg, "X-Autoresponse")
    ):
        return AutoKind.AUTO_REPLY
    if (auto_submitted and auto_submitted != "no") or precedence in _BULK_PRECEDENCE:
        return AutoKind.BULK
    return AutoKind.NONE


def _bounce(msg: Message) -> Bounce:
    failed: list[str] = []
    original: str | None = None
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/delivery-status":
            failed.extend(_failed_recipients(part))
        elif ctype in ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers") and original is None:
            original = _original_id(part)
    return Bounce(failed_recipients=tuple(dict.fromkeys(failed)), original_message_id=original)


def _failed_recipients(part: Message) -> list[str]:
    found: list[str] = []
    payload = part.get_payload()
    blocks: list[Message] = []
    if isinstance(payload, list):
        blocks = [p for p in payload if isinstance(p, Message)]
    else:
        # policy.default does not always split the status groups: read them as header blocks
        text = _part_text(part)
        for chunk in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
            blocks.append(BytesParser(policy=policy.compat32).parsebytes(chunk.encode("utf-8"), headersonly=True))
    for block in blocks:
        action = str(block.get("Action", "") or "").strip().lower()
        recipient = str(block.get("Final-Recipient", "") or block.get("Original-Recipient", "") or "")
        address = recipient.partition(";")[2].strip().strip("<>").lower() if ";" in recipient else ""
        permanent = action == "failed" or (not action and str(block.get("Status", "")).strip().startswith("5"))
        if address and permanent:
            found.append(address)
    return found


def _original_id(part: Message) -> str | None:
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        ids = _ids(_header(payload[0], "Message-ID"))
        return ids[0] if ids else None
    match = re.search(r"^Message-ID:\s*(<[^>]+>)", _part_text(part), re.IGNORECASE | re.MULTILINE)
    return clean_message_id(match.group(1)) if match else None


# --- which parts are body, which are attachments (RFC 8621 §4.1.4) -------------------
_INLINE_MEDIA = ("image/", "audio/", "video/")


def _is_inline_media(ctype: str) -> bool:
    return ctype.startswith(_INLINE_MEDIA)


def _disposition(part: Message) -> str:
    try:
        return (part.get_content_disposition() or "").lower()
    except Exception:  # any failure of the header parser means "no value"
        return ""


_NAMING_HEADERS = frozenset(("content-disposition", "content-type"))


def _filename(part: Message) -> str | None:
    source = part
    naming = [(key, str(value)) for key, value in part.raw_items() if key.lower() in _NAMING_HEADERS]
    if any(_has_escapes(value) for _, value in naming):
        # `filename="März.pdf"` sent as raw 8-bit bytes (many mailers and phones do): compat32's
        # parameter reader turns each byte into U+FFFD, so it reads a copy of the headers decoded
        source = Message()
        for key, value in naming:
            source[key] = _decode_escapes(value)
    try:
        name = source.get_filename()
    except Exception:  # any failure of the header parser means "no value"
        name = None
    if name is None:
        return None
    text = str(name)
    if "=?" in text:  # RFC 2047 words in a filename parameter: not standard, but what many clients send
        with contextlib.suppress(Exception):
            text = str(make_header(decode_header(text)))
    return _unescape(text) or None


def body_structure(msg: Message) -> tuple[list[Message], list[Message], list[Message]]:
    """(text body parts, HTML body parts, attachments) as RFC 8621 §4.1.4 defines them.

    A transcription of the RFC's `parseStructure`: the text and HTML lists are
    passed down and each call may drop its own reference to one of them (set
    it to None) without affecting its caller, exactly as in the RFC's code.
    """
    text_body: list[Message] = []
    html_body: list[Message] = []
    attachments: list[Message] = []
    _walk([msg], "mixed", False, html_body, text_body, attachments)
    return text_body, html_body, attachments


def _walk(
    parts: list[Message],
    multipart_type: str,
    in_alternative: bool,
    html_body: list[Message] | None,
    text_body: list[Message] | None,
    attachments: list[Message],
) -> None:
    text_length = len(text_body) if text_body is not None else -1
    html_length = len(html_body) if html_body is not None else -1
    for index, part in enumerate(parts):
        ctype = part.get_content_type()
        children = part.get_payload() if part.is_multipart() else None
        is_inline = (
            _disposition(part) != "attachment"
            and (ctype in ("text/plain", "text/html") or _is_inline_media(ctype))
            and (index == 0 or (multipart_type != "related" and (_is_inline_media(ctype) or not _filename(part))))
        )
        if ctype.startswith("multipart/") and isinstance(children, list):
            sub = ctype.split("/", 1)[1]
            subparts = [p for p in children if isinstance(p, Message)]
            _walk(subparts, sub, in_alternative or sub == "alternative", html_body, text_body, attachments)
        elif is_inline:
            if multipart_type == "alternative":
                if ctype == "text/plain" and text_body is not None:
                    text_body.append(part)
                elif ctype == "text/html" and html_body is not None:
                    html_body.append(part)
                else:
                    attachments.append(part)
                continue
            if in_alternative:
                if ctype == "text/plain":
                    html_body = None
                if ctype == "text/html":
                    text_body = None
            if text_body is not None:
                text_body.append(part)
            if html_body is not None:
                html_body.append(part)
            if (text_body is None or html_body is None) and _is_inline_media(ctype):
                attachments.append(part)
        else:
            attachments.append(part)
    if multipart_type == "alternative" and text_body is not None and html_body is not None:
        if text_length == len(text_body) and html_length != len(html_body):
            text_body.extend(html_body[html_length:])
        if html_length == len(html_body) and text_length != len(text_body):
            html_body.extend(text_body[text_length:])


# --- the body ---------------------------------------------------------------------------
def _text_of(parts: list[Message]) -> str:
    chunks: list[str] = []
    for part in parts:
        ctype = part.get_content_type()
        if ctype == "text/plain":
            chunks.append(_part_text(part).replace("\r\n", "\n").strip("\n"))
        elif ctype == "text/html":
            chunks.append(html_to_text(_part_text(part)))
    return "\n\n".join(c for c in chunks if c.strip())


def _html_of(parts: list[Message]) -> str:
    if not any(p.get_content_type() == "text/html" for p in parts):
        return ""
    chunks: list[str] = []
    for part in parts:
        ctype = part.get_content_type()
        if ctype == "text/html":
            chunks.append(_part_text(part))
        elif ctype == "text/plain":
            chunks.append(f"<pre>{html.escape(_part_text(part))}</pre>")
        elif _is_inline_media(ctype) and (cid := _content_id(part)):
            chunks.append(f'<img src="cid:{html.escape(cid)}">')
    return sanitize_html("\n".join(chunks))


def _content_id(part: Message) -> str:
    return str(part.get("Content-ID", "") or "").strip().strip("<>")


_DEFAULT_EXTENSION = {"text/plain": ".txt", "text/html": ".html", "message/rfc822": ".eml", "text/calendar": ".ics"}


# control characters (NUL included) and the marks that reorder text: a name like
# "\u202egpj.exe" shows as "exe.jpg"
_UNSAFE_NAME_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean_attachment_name(name: str) -> str:
    """An attachment's file name as stored: slashes replaced, control and bidi characters removed,
    at most 255 characters; "" when nothing is left."""
    cleaned = _UNSAFE_NAME_CHARS.sub("", name.replace("/", "_").replace("\\", "_")).strip()
    return cleaned[:255]


def without_nul(text: str) -> str:
    """Text with NUL replaced by U+FFFD (a PostgreSQL text column cannot hold NUL)."""
    return text.replace("\x00", "\ufffd")


def _attachment(part: Message, index: int, in_html: set[int], body_html: str) -> ParsedAttachment:
    ctype = part.get_content_type()
    if ctype == "message/rfc822":
        inner = part.get_payload()
        first = inner[0] if isinstance(inner, list) and inner else None
        content = first.as_bytes(policy=policy.compat32) if isinstance(first, Message) else b""
        if not content:
            content = part.as_bytes(policy=policy.compat32).split(b"\n\n", 1)[-1]
    else:
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else str(part.get_payload()).encode("utf-8", "surrogateescape")
    name = _filename(part)
    if not name and ctype == "message/rfc822":
        inner_subject = _forwarded_subject(part)
        name = f"{inner_subject or 'forwarded message'}.eml"
    if not name:
        name = f"attachment-{index}{_DEFAULT_EXTENSION.get(ctype, '')}"
    name = clean_attachment_name(name) or f"attachment-{index}{_DEFAULT_EXTENSION.get(ctype, '')}"
    cid = _content_id(part)
    return ParsedAttachment(
        filename=name,
        content=content,
        content_type=ctype,
        # inline: shown inside the HTML (in its body, or referenced there as cid:…)
        inline=id(part) in in_html or (bool(cid) and f"cid:{cid}" in body_html),
        content_id=cid[:255],
    )


def _forwarded_subject(part: Message) -> str:
    inner = part.get_payload()
    if isinstance(inner, list) and inner and isinstance(inner[0], Message):
        return _header(inner[0], "Subject")[:100]
    return ""


def _forwarded_text(part: Message) -> str:
    """A forwarded message/rfc822 part as the text a reader expects under the forward."""
    inner = part.get_payload()
    if not (isinstance(inner, list) and inner and isinstance(inner[0], Message)):
        return ""
    message = inner[0]
    text_parts, html_parts, _ = body_structure(message)
    body = _text_of(text_parts) or _text_of(html_parts)
    lines = ["---------- Forwarded message ----------"]
    for name in ("From", "Date", "Subject", "To"):
        if value := _header(message, name):
            lines.append(f"{name}: {value}")
    return "\n".join(lines) + "\n\n" + body


# The line a mail client heads a forwarded (or, Outlook, an answered) message with, and the
# "From:" line of the headers it copies below it, within a few lines.
_FORWARD_HEAD = re.compile(
    r"^\s*(?:-{2,}\s*)?(?:Forwarded message|Begin forwarded message|Weitergeleitete Nachricht|"
    r"Original Message|Ursprüngliche Nachricht|Message transféré|Mensaje reenviado)\b",
    re.IGNORECASE,
)
_FORWARD_FROM = re.compile(r"^\s*\*?(?:From|Von|De|Van|Da)\s*:\*?\s*(?P<value>\S.*?)\s*$", re.IGNORECASE)
_FORWARD_FROM_WITHIN = 8
# `Ann <ann@x>`, `Ann <mailto:ann@x>`, Outlook's `Ann [mailto:ann@x]`, or a bare address
_ANGLED = re.compile(r"<(?:mailto:)?(?P<a>[^<>\s]+)>|\[mailto:(?P<b>[^\]\s]+)\]", re.IGNORECASE)
_PLAIN_ADDRESS = re.compile(r"[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[^@\s<>()\[\],;:\".]+")


def forwarded_sender(text: str) -> tuple[str, str] | None:
    """(name, lower-cased address) of the sender of the first message forwarded inline, as mail
    clients head one: "---------- Forwarded message ---------" (Gmail), "Begin forwarded message:"
    (Apple Mail), "-------- Forwarded Message --------" (Thunderbird), "-----Original Message-----"
    (Outlook), then a "From:" line within a few lines. None when there is no such block, or its
    From line shows no single address (Outlook inside one organisation writes only the name).

    A forward attached as message/rfc822 is found too: `parse_email` appends its text under
    the same heading and From line. Read only when needed (mail from staff that answers no
    case), not for every message."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if not _FORWARD_HEAD.match(line):
            continue
        for below in lines[index + 1 : index + 1 + _FORWARD_FROM_WITHIN]:
            if match := _FORWARD_FROM.match(below):
                return _one_address(match.group("value"))
        return None
    return None


def _one_address(value: str) -> tuple[str, str] | None:
    angled = _ANGLED.search(value)
    if angled is not None:
        address = angled.group("a") or angled.group("b")
        name = value[: angled.start()].strip().strip("\"'").strip()
    else:
        address, name = value.strip(), ""
    if not _PLAIN_ADDRESS.fullmatch(address):
        return None
    return " ".join(name.split()), address.lower()


def parse_email(raw: bytes) -> ParsedEmail:
    """Parse one raw message; raise UnparseableEmail with a reason for what cannot be read."""
    if not raw.strip():
        raise UnparseableEmail("The message is empty.")
    try:
        # The MIME tree is read with compat32 (headers kept raw, so walking parts costs little);
        # the headers we use are then parsed once each by policy.default's header registry.
        msg = BytesParser(policy=policy.compat32).parsebytes(raw)
    except Exception as exc:  # the parser rarely raises; when it does, say why
        raise UnparseableEmail(f"MIME parsing failed: {type(exc).__name__}: {exc}") from exc
    if not msg.keys():
        raise UnparseableEmail("The message has no header fields.")
    try:
        return _parse(msg, raw)
    except UnparseableEmail:
        raise
    except (LookupError, ValueError, TypeError, AttributeError, IndexError, KeyError, AssertionError) as exc:
        raise UnparseableEmail(f"Parsing failed: {type(exc).__name__}: {exc}") from exc


def _parse(msg: Message, raw: bytes) -> ParsedEmail:
    senders = _addresses(msg, "From") or _addresses(msg, "Sender")
    from_name, from_address = senders[0] if senders else ("", "")
    reply_to = _addresses(msg, "Reply-To")
    ids = _ids(_header(msg, "Message-ID"))
    message_id = ids[0] if ids else synthetic_message_id(raw)
    try:
        date = email.utils.parsedate_to_datetime(_header(msg, "Date")) if _header(msg, "Date") else None
    except (TypeError, ValueError, IndexError):
        date = None
    if date is not None and date.tzinfo is None:
        date = date.replace(tzinfo=dt.UTC)

    text_parts, html_parts, attachment_parts = body_structure(msg)
    text = _text_of(text_parts)
    body_html = _html_of(html_parts)
    if not text.strip() and body_html:
        text = html_to_text(body_html)
    in_html = {id(p) for p in html_parts}
    attachments: list[ParsedAttachment] = []
    forwarded: list[str] = []
    for index, part in enumerate(attachment_parts, start=1):
        attachments.append(_attachment(part, index, in_html, body_html))
        if part.get_content_type() == "message/rfc822" and (fwd := _forwarded_text(part)):
            forwarded.append(fwd)
    if forwarded:
        text = "\n\n".join(t for t in (text.strip("\n"), *forwarded) if t.strip())
    text, body_html = without_nul(text), without_nul(body_html)
    kind = auto_kind_of(msg, from_address)
    return ParsedEmail(
        message_id=message_id,
        synthetic_id=not ids,
        from_name=without_nul(from_name),
        from_address=from_address,
        reply_to=reply_to[0][1] if reply_to else "",
        to=tuple(_addresses(msg, "To")),
        cc=tuple(_addresses(msg, "Cc")),
        subject=without_nul(_header(msg, "Subject")),
        date=date,
        in_reply_to=_ids(_header(msg, "In-Reply-To")),
        references=_ids(_header(msg, "References")),
        text=text,
        html=body_html,
        display_text=trim_reply(text),
        attachments=tuple(attachments),
        auto_kind=kind,
        bounce=_bounce(msg) if kind == AutoKind.BOUNCE else None,
        defects=tuple(type(d).__name__ for d in msg.defects),
    )


# --- trimming quoted replies and signatures for display ---------------------------------
# A line that introduces the quoted previous message, in the languages mail
# clients write it in. Each is anchored to a whole line (or two, for clients
# that wrap "On ... wrote:").
_REPLY_HEADERS = [
    r"On\b.{1,200}\bwrote:",  # Gmail, Apple Mail, Thunderbird
    r"Le\b.{1,200}\ba écrit\s?:",
    r"Am\b.{1,200}\bschrieb.{0,200}:",
    r"El\b.{1,200}\bescribió:",
    r"Op\b.{1,200}\bschreef.{0,200}:",
    r"Il giorno\b.{1,200}\bha scritto:",
    r"Em\b.{1,200}\bescreveu:",
    r"Den\b.{1,200}\bskrev.{0,200}:",
    r"-{3,}\s*(?:Original Message|Ursprüngliche Nachricht|Message d'origine|Mensaje original)\s*-{3,}",
]
_REPLY_HEADER = re.compile(r"^\s*>?\s*(?:" + "|".join(_REPLY_HEADERS) + r")\s*$", re.IGNORECASE)
# Outlook's block: "From: …" followed within two lines by Sent:/Date:/To:/Subject:
_OUTLOOK_FROM = re.compile(r"^\s*\*?(?:From|Von|De|Van|Da)\s*:\*?\s+\S", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(
    r"^\s*\*?(?:Sent|Date|To|Subject|Gesendet|Datum|An|Betreff|Envoyé|Objet|Enviado|Asunto)\s*:", re.IGNORECASE
)
_UNDERSCORES = re.compile(r"^\s*_{20,}\s*$")
_SIGNATURE_DELIMITER = re.compile(r"^-- ?$")
_MOBILE_SIGNATURE = re.compile(
    r"^\s*(?:Sent from my \w+(?: \w+){0,3}|Sent from (?:Outlook|Mail) for \w+|Get Outlook for \w+.*|"
    r"Von meinem \w+ gesendet|Envoyé de mon \w+)\s*\.?$",
    re.IGNORECASE,
)
_FORWARD_MARKER = re.compile(r"^\s*-{2,}\s*(?:Forwarded message|Begin forwarded message|Weitergeleitete Nachricht)",
                             re.IGNORECASE)  # fmt: skip


def trim_reply(text: str) -> str:
    """The new part of a reply: quoted history and signature removed.

    Conservative by design: the cut happens only at a recognised reply header,
    a trailing block of ">" lines, an RFC 3676 signature delimiter ("-- ") or a
    mobile "Sent from my …" line, and never before the first line of real
    text. Interleaved answers (text between quotes) stay whole. When trimming
    would leave nothing (a bare forward), the full text is shown.
    """
    lines = text.replace("\r\n", "\n").split("\n")
    first_content = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first_content is None:
        return text.strip()
    if _FORWARD_MARKER.match(lines[first_content]):
        return text.strip()  # a bare forward: all of it is the content
    cut = len(lines)
    for index in range(first_content + 1, len(lines)):
        line = lines[index]
        if _FORWARD_MARKER.match(line):
            break  # a forward is content, and so is everything below it
        joined = f"{line} {lines[index + 1]}" if index + 1 < len(lines) else line
        if _REPLY_HEADER.match(line) or (_REPLY_HEADER.match(joined) and not line.strip().startswith(">")):
            cut = index
            break
        if _OUTLOOK_FROM.match(line) and any(_OUTLOOK_NEXT.match(n) for n in lines[index + 1 : index + 4]):
            cut = index - 1 if index > 0 and _UNDERSCORES.match(lines[index - 1]) else index
            break
        if _SIGNATURE_DELIMITER.match(line) or _MOBILE_SIGNATURE.match(line):
            cut = index
            break
    kept = lines[:cut]
    # a trailing block of quoted lines (bottom of a top-posted reply) goes too
    end = len(kept)
    while end > first_content + 1 and (not kept[end - 1].strip() or kept[end - 1].lstrip().startswith(">")):
        end -= 1
    has_own_words = any(line.strip() and not line.lstrip().startswith(">") for line in kept[:end])
    if has_own_words and any(line.lstrip().startswith(">") for line in kept[end:]):
        kept = kept[:end]
    trimmed = "\n".join(kept).strip()
    return trimmed or text.strip()


def trimmed_away(full: str, shown: str) -> str:
    """What `trim_reply` cut from `full` to show `shown`: the quoted history and signature,
    so that a reader who opens them reads on from where the shown text stopped instead of
    reading its first lines twice. "" when `shown` is not the start of `full` (then the
    caller shows the whole text in its place)."""
    full = full.replace("\r\n", "\n").strip()
    shown = shown.replace("\r\n", "\n").strip()
    if not shown or not full.startswith(shown):
        return ""
    return full[len(shown) :].strip("\n").rstrip()
