"""Canned replies: filling a macro's placeholders for one case.

A macro body is text a member of staff wrote, so it is never run as template
code (a Django template from users could read any attribute it can reach).
Only the placeholders named in PLACEHOLDERS are replaced, by plain string
substitution; the result is plain text like anything else typed in the
composer, and is escaped when shown.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from caseloop.cases.models import Case
from caseloop.identity.models import User

_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+\.[a-z_]+)\s*\}\}")


def _first(name: str) -> str:
    return name.split()[0] if name.strip() else ""


PLACEHOLDERS: dict[str, Callable[[Case, User], str]] = {
    "customer.name": lambda case, agent: case.requester.name,
    "customer.first_name": lambda case, agent: case.requester.first_name,
    "organization.name": lambda case, agent: case.organization.name if case.organization else "",
    "case.number": lambda case, agent: case.number,
    "case.subject": lambda case, agent: case.subject,
    "agent.name": lambda case, agent: agent.name,
    "agent.first_name": lambda case, agent: agent.first_name or _first(agent.name),
}


def unknown_placeholders(body: str) -> list[str]:
    """Placeholders in `body` that `render_macro` would not fill, in order of appearance."""
    seen: list[str] = []
    for name in _PLACEHOLDER.findall(body):
        if name not in PLACEHOLDERS and name not in seen:
            seen.append(name)
    return seen


def render_macro(body: str, *, case: Case, agent: User) -> str:
    """`body` with each known placeholder replaced by its value for this case and agent."""

    def fill(match: re.Match[str]) -> str:
        getter = PLACEHOLDERS.get(match.group(1))
        return getter(case, agent) if getter is not None else match.group(0)

    return _PLACEHOLDER.sub(fill, body)
