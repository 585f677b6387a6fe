"""Attachment content on disk, addressed by SHA-256 under the data folder."""

from __future__ import annotations

import hashlib
import mimetypes
import os
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
    content_type = item.content_type or mimetypes.guess_type(item.filename)[0] or "application/octet-stream"
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
