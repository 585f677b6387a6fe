"""The portal's settings, read at call time; each has an environment variable of the same name (docs/portal.md)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings


def name() -> str:
    """What the portal calls itself in its header and emails."""
    return str(getattr(settings, "CASELOOP_PORTAL_NAME", "Customer service"))


def link_life() -> dt.timedelta:
    return dt.timedelta(minutes=int(getattr(settings, "CASELOOP_PORTAL_LINK_MINUTES", 30)))


def links_per_address() -> int:
    return int(getattr(settings, "CASELOOP_PORTAL_LINKS_PER_ADDRESS", 3))


def links_per_ip() -> int:
    return int(getattr(settings, "CASELOOP_PORTAL_LINKS_PER_IP", 20))


def link_window_seconds() -> int:
    return int(getattr(settings, "CASELOOP_PORTAL_LINK_WINDOW_SECONDS", 15 * 60))


def site_url() -> str:
    """The address links in emails start with: configured, never taken from a request's Host header."""
    return str(settings.SITE_URL).rstrip("/")
