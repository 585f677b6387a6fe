"""Small display helpers for the workspace templates."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from caseloop.core import clock

register = template.Library()


@register.filter
def capped(count: int, cap: int = 1000) -> str:
    """1234 → "1,000+" for counts that stopped at the cap (see count_capped)."""
    return f"{cap:,}+" if count > cap else f"{count:,}"


@register.filter
def age(moment: dt.datetime | None) -> str:
    """A compact age for dense lists: "now", "5m", "3h", "2d", "7w", "1y"."""
    if moment is None:
        return ""
    seconds = max(0, int((clock.now() - moment).total_seconds()))
    for size, unit in ((365 * 86400, "y"), (7 * 86400, "w"), (86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return "now"


@register.filter
def initials(name: str) -> str:
    parts = [p for p in name.split() if p]
    return "".join(p[0] for p in parts[:2]).upper() or "?"


_SHORT_STATUS = {"pending": "Pending", "on_hold": "On hold"}


@register.filter
def short_status(status: str, label: str = "") -> str:
    """A status label short enough for a badge in a dense list ("Pending", not the long form)."""
    return _SHORT_STATUS.get(status, label or status.replace("_", " ").capitalize())


@register.simple_tag
def status_badge(status: str, label: str) -> SafeString:
    """The status as a badge: its text says it, the colour only repeats it."""
    return format_html('<span class="badge status-{}" title="{}">{}</span>', status, label, short_status(status, label))


@register.filter
def key_label(key: str) -> str:
    """An attribute key as a label: "spring_size" → "Spring size"."""
    return key.replace("_", " ").strip().capitalize()


def _span(seconds: int) -> str:
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return "<1m"


@register.simple_tag
def sla_badge(badge: object) -> SafeString | str:
    """A case's SLA state in an inbox row, said in words ("Overdue 2h", "Due in 40m"); colour only repeats it.

    `badge` is the sla domain's SlaBadge (or None: no policy covers the case).
    """
    if badge is None:
        return ""
    state, due_at, target = badge.state, badge.due_at, badge.target  # type: ignore[attr-defined]
    title = f"{badge.policy}: {target or 'no running target'}"  # type: ignore[attr-defined]
    if due_at is None or state in ("paused", "done"):
        text = "Paused" if state == "paused" else "Met"
        return format_html('<span class="sla sla-{}" title="{}">{}</span>', state, title, text)
    seconds = int((due_at - clock.now()).total_seconds())
    text = f"Overdue {_span(-seconds)}" if seconds <= 0 else f"Due in {_span(seconds)}"
    return format_html(
        '<span class="sla sla-{}" title="{} due {}"><time datetime="{}">{}</time></span>',
        state, title, due_at.strftime("%Y-%m-%d %H:%M UTC"), due_at.isoformat(), text,
    )  # fmt: skip
