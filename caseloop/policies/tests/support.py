"""What several test modules of the override review share (the feedback domain's tests too)."""

from __future__ import annotations

from caseloop.identity.models import User
from caseloop.policies.actions import create_rule
from caseloop.policies.models import Rule


def reply_first_rule(manager: User) -> Rule:
    """A guideline every quick solve overrides: solve only after a reply."""
    return create_rule(
        actor=manager,
        name="Solve only after a reply",
        kind="guideline",
        applies_to=["status_change"],
        condition='action.to_status == "solved" and case.message_count < 2',
        explanation="Reply first.",
    )
