"""Attachment content on disk, addressed by SHA-256 under the data folder."""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from caseloop.cases.errors import CaseError, CaseErrorCode
from caseloop.cases.models import Attachment

MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class AttachmentInput:
    filename: str
    content: bytes
    content_type: str = ""
    inline: bool = False
    content_id: str = ""


# control characters (line breaks included) and the marks that reorder text: "\u202egpj.exe" shows as "exe.jpg"
_UNSAFE_NAME_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")


def safe_filename(name: str) -> str:
    """A file name fit for a header (Content-Disposition, a MIME part): no path, no control or bidi
    characters, at most 255 characters; "file" when nothing is left."""
    cleaned = _UNSAFE_NAME_CHARS.sub("", name.replace("/", "_").replace("\\", "_")).strip()
    return cleaned[:255] or "file"


def safe_content_type(content_type: str, filename: str) -> str:
    """The media type as given (lower-cased, parameters dropped) when it is one `type/subtype`; else
    the type of the file's name. What a caller claims goes into headers, so nothing else passes."""
    media = content_type.split(";", 1)[0].strip().lower()
    if _MEDIA_TYPE.fullmatch(media):
        return media
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


def attachments_root() -> Path:
    return Path(settings.ATTACHMENTS_DIR)


def store_attachment(item: AttachmentInput) -> Attachment:
    """Write the bytes once (atomic rename) and return the row for them."""
    limit = getattr(settings, "CASELOOP_MAX_ATTACHMENT_BYTES", MAX_ATTACHMENT_BYTES)
    if len(item.content) > limit:
        raise CaseError(
            CaseErrorCode.ATTACHMENT_TOO_LARGE,
            f"{item.filename} is {len(item.content)} bytes; the limit is {limit}.",
            status=413,
            field="attachments",
        )
    digest = hashlib.sha256(item.content).hexdigest()
    content_type = safe_content_type(item.content_type, item.filename)
    attachment, created = Attachment.objects.get_or_create(
        sha256=digest, defaults={"size": len(item.content), "content_type": content_type}
    )
    path = attachments_root() / attachment.relative_path
    if created or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent)
        with os.fdopen(fd, "wb") as handle:
            handle.write(item.content)
        os.replace(tmp, path)
    return attachment


def read_attachment(attachment: Attachment) -> bytes:
    return (attachments_root() / attachment.relative_path).read_bytes()
