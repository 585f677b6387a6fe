"""Checking what a customer attaches: how many files, how large, and of which type.

The type is decided by the file's extension against an allow-list, and the
first bytes must look like that type (a PDF starts with %PDF-, a PNG with its
signature, …), so a program renamed to .pdf is refused. The content type
stored is ours for the extension, never the one the browser claimed. Staff
download attachments as files (never shown inline), which is the second line
of defence.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from django.template.defaultfilters import filesizeformat

from caseloop.cases.attachments import AttachmentInput
from caseloop.channels.webform import conf
from caseloop.channels.webform.errors import WebFormError, WebFormErrorCode

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "heic": "image/heic",
    "txt": "text/plain",
    "csv": "text/csv",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "mp4": "video/mp4",
    "mov": "video/quicktime",
}


def _is_text(head: bytes) -> bool:
    return b"\x00" not in head


def _iso_media(head: bytes) -> bool:
    # ISO base media (MP4, HEIC, modern QuickTime): a box size, then "ftyp"; older QuickTime starts with other atoms
    return head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free")


_ZIP = b"PK\x03\x04"
SIGNATURES: dict[str, Callable[[bytes], bool]] = {
    "pdf": lambda h: h.startswith(b"%PDF-"),
    "png": lambda h: h.startswith(b"\x89PNG\r\n\x1a\n"),
    "jpg": lambda h: h.startswith(b"\xff\xd8\xff"),
    "jpeg": lambda h: h.startswith(b"\xff\xd8\xff"),
    "gif": lambda h: h.startswith((b"GIF87a", b"GIF89a")),
    "webp": lambda h: h.startswith(b"RIFF") and h[8:12] == b"WEBP",
    "heic": lambda h: h[4:8] == b"ftyp",
    "txt": _is_text,
    "csv": _is_text,
    "docx": lambda h: h.startswith(_ZIP),
    "xlsx": lambda h: h.startswith(_ZIP),
    "odt": lambda h: h.startswith(_ZIP),
    "ods": lambda h: h.startswith(_ZIP),
    "mp4": _iso_media,
    "mov": _iso_media,
}
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")


def _extension(filename: str) -> str:
    return filename.rpartition(".")[2].lower() if "." in filename else ""


def clean_filename(name: str) -> str:
    """The last path part, without control characters or slashes, at most 255 characters."""
    base = re.split(r"[/\\]", name)[-1]
    cleaned = _UNSAFE_NAME.sub("", base).strip() or "file"
    if len(cleaned) > 255:
        stem, dot, ext = cleaned.rpartition(".")
        cleaned = f"{stem[: 250 - len(ext)]}.{ext}" if dot and len(ext) <= 10 else cleaned[:255]
    return cleaned


def allowed_types_text() -> str:
    """The allow-list as people read it: "PDF, PNG, JPG …"."""
    return ", ".join(sorted(e.upper() for e in conf.allowed_extensions()))


def check_attachments(files: Sequence[AttachmentInput]) -> list[AttachmentInput]:
    """The files as they will be stored (clean names, our content types), or a refusal naming the file."""
    limit = conf.max_files()
    if len(files) > limit:
        raise WebFormError(WebFormErrorCode.TOO_MANY_FILES,
                           f"You can attach at most {limit} files; you chose {len(files)}.",
                           field="attachments")  # fmt: skip
    allowed = conf.allowed_extensions()
    max_bytes = conf.max_file_bytes()
    checked: list[AttachmentInput] = []
    for item in files:
        name = clean_filename(item.filename)
        extension = _extension(name)
        if extension not in allowed or extension not in CONTENT_TYPES:
            raise WebFormError(WebFormErrorCode.FILE_TYPE_NOT_ALLOWED,
                               f"{name}: this type of file cannot be attached. Allowed: {allowed_types_text()}.",
                               status=415, field="attachments")  # fmt: skip
        if not item.content:
            raise WebFormError(WebFormErrorCode.FILE_EMPTY, f"{name} is empty.", field="attachments")
        if len(item.content) > max_bytes:
            raise WebFormError(WebFormErrorCode.FILE_TOO_LARGE,
                               f"{name} is {filesizeformat(len(item.content))}; each file can be at most "
                               f"{filesizeformat(max_bytes)}.", status=413, field="attachments")  # fmt: skip
        if not SIGNATURES[extension](item.content[:8192]):
            raise WebFormError(WebFormErrorCode.FILE_TYPE_NOT_ALLOWED,
                               f"{name} does not look like a {extension.upper()} file.", status=415,
                               field="attachments")  # fmt: skip
        checked.append(AttachmentInput(filename=name, content=item.content, content_type=CONTENT_TYPES[extension]))
    return checked
