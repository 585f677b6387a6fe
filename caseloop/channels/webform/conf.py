"""The web form's settings, read at call time (tests override them with `settings`).

Every one has an environment variable of the same name; docs/channels/webform.md lists them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings

DEFAULT_TOPICS = "question=A question,repair=A repair or a service visit,billing=Billing,feedback=Feedback or an idea"
DEFAULT_FILE_TYPES = "pdf,png,jpg,jpeg,gif,webp,heic,txt,csv,docx,xlsx,odt,ods,mp4,mov"
_TOPIC_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,49}$")


@dataclass(frozen=True, slots=True)
class Topic:
    key: str  # also the tag a new case gets, so reps can filter by it
    label: str
    team_slug: str = ""  # the team new cases of this topic go to ("" for the default)


def topics() -> list[Topic]:
    """The topics a visitor picks from: `key=Label` or `key=Label@team-slug`, comma-separated.

    A malformed entry fails loudly: a form that silently lost a topic would
    send its customers somewhere else.
    """
    raw = str(getattr(settings, "CASELOOP_WEBFORM_TOPICS", DEFAULT_TOPICS))
    found: list[Topic] = []
    for entry in (e.strip() for e in raw.split(",")):
        if not entry:
            continue
        key, sep, rest = entry.partition("=")
        label, _, team = rest.partition("@")
        key, label = key.strip(), label.strip()
        if not sep or not _TOPIC_KEY.match(key) or not label:
            raise ValueError(f"CASELOOP_WEBFORM_TOPICS: {entry!r} is not key=Label or key=Label@team-slug")
        found.append(Topic(key=key, label=label, team_slug=team.strip()))
    if not found:
        raise ValueError("CASELOOP_WEBFORM_TOPICS names no topic")
    return found


def default_team_slug() -> str:
    return str(getattr(settings, "CASELOOP_WEBFORM_DEFAULT_TEAM", ""))


def max_per_address() -> int:
    return int(getattr(settings, "CASELOOP_WEBFORM_MAX_PER_ADDRESS", 5))


def max_per_ip() -> int:
    return int(getattr(settings, "CASELOOP_WEBFORM_MAX_PER_IP", 20))


def window_seconds() -> int:
    return int(getattr(settings, "CASELOOP_WEBFORM_WINDOW_SECONDS", 3600))


def acknowledge() -> bool:
    return bool(getattr(settings, "CASELOOP_WEBFORM_ACKNOWLEDGE", True))


def max_files() -> int:
    return int(getattr(settings, "CASELOOP_WEBFORM_MAX_FILES", 5))


def max_file_bytes() -> int:
    return int(getattr(settings, "CASELOOP_WEBFORM_MAX_FILE_BYTES", 10 * 1024 * 1024))


def allowed_extensions() -> frozenset[str]:
    raw = getattr(settings, "CASELOOP_WEBFORM_FILE_TYPES", DEFAULT_FILE_TYPES)
    return frozenset(e.strip().lower().lstrip(".") for e in str(raw).split(",") if e.strip())


def max_body_bytes() -> int:
    """The largest request body read at all: every file at its limit, plus room for the text fields."""
    return max_files() * max_file_bytes() + 256 * 1024
