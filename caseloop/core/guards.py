"""Checks a higher domain runs inside a lower domain's write, before anything changes.

The policies domain decides whether a case may change status (an integrity
rule may refuse it; a guideline may ask for a written reason), but the write
belongs to the cases domain, which may not import policies. So cases asks
this registry: `check(Attempt(...))` runs every registered guard inside the
write's transaction, after the row is locked and the move is known to be
legal and before it is written. A guard refuses by raising a DomainError (the
transaction rolls back: nothing changed); one that lets a guideline be bent
records the override in the same transaction.

Guards register at start-up (an AppConfig.ready), like event listeners.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Attempt:
    """Someone is about to do `kind` on a case; `details` say what exactly (e.g. from/to status)."""

    kind: str
    case_id: int
    actor: Any  # an identity.User (or None for the system); core cannot import identity
    details: Mapping[str, Any] = field(default_factory=dict)
    override_reason: str = ""


Guard = Callable[[Attempt], None]
_guards: list[Guard] = []


def register_guard(guard: Guard) -> Guard:
    """Add a guard (decorator); registering the same function twice keeps one."""
    if guard not in _guards:
        _guards.append(guard)
    return guard


def check(attempt: Attempt) -> None:
    """Run every guard; the first refusal (a DomainError) propagates to the caller."""
    for guard in tuple(_guards):
        guard(attempt)
