"""Side effects after commit.

Actions never notify, enqueue or call out while their transaction is open: a
rolled-back write must leave no trace outside the database. They call
`on_commit(...)`, which runs the callback once the outermost transaction commits
(immediately when none is open). Listeners for domain signals (how a higher
domain reacts to a lower one) register with `subscribe` and run after commit.

A few reactions are part of the write itself: a new case's SLA clocks must
commit or roll back with the case, in the same single transaction (on
PostgreSQL every extra commit is a disk flush; on SQLite a second write-lock
round). Those register with `subscribe_in_transaction` and run at once, inside
the publishing action's transaction, via `publish_in_transaction`. They only
write rows (never mail, queue or call out: that is `subscribe`'s job), and
their exceptions refuse the whole action.

On SQLite a write transaction holds the database's one write lock from its
first statement to its commit, so what such a reaction computes (which SLA
policy applies, the due times in business hours) is better done before the
transaction starts. `subscribe_prepared` registers a preparer, run by
`prepare` before the transaction with what is known then (the new case,
unsaved); it returns the writer that `Prepared.publish` later calls inside the
transaction with the rest (the saved case and its message), or None when
there is nothing to write.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)

Listener = Callable[..., None]
Preparer = Callable[..., Listener | None]
_listeners: dict[str, list[Listener]] = defaultdict(list)
_in_transaction: dict[str, list[Listener]] = defaultdict(list)
_preparers: dict[str, list[Preparer]] = defaultdict(list)


def on_commit(callback: Callable[..., None], /, *args: Any, **kwargs: Any) -> None:
    """Run `callback(*args, **kwargs)` after the current transaction commits.

    Robust: a callback that raises is logged and the transaction's other callbacks still run.
    Django names the failed callback by its `__qualname__`, which a `functools.partial` lacks
    (the AttributeError escaped from the commit and skipped the rest), so the call is a
    function named after the callback.
    """

    def run() -> None:
        callback(*args, **kwargs)

    run.__qualname__ = getattr(callback, "__qualname__", repr(callback))
    transaction.on_commit(run, robust=True)


def subscribe(event_name: str) -> Callable[[Listener], Listener]:
    """Register a listener for a named domain event (decorator)."""

    def register(listener: Listener) -> Listener:
        if listener not in _listeners[event_name]:
            _listeners[event_name].append(listener)
        return listener

    return register


def publish(event_name: str, **payload: Any) -> None:
    """Deliver a domain event to its listeners once the transaction commits."""
    for listener in list(_listeners.get(event_name, ())):
        on_commit(listener, **payload)


def subscribe_in_transaction(event_name: str) -> Callable[[Listener], Listener]:
    """Register a listener that runs inside the publishing action's transaction (decorator)."""

    def register(listener: Listener) -> Listener:
        if listener not in _in_transaction[event_name]:
            _in_transaction[event_name].append(listener)
        return listener

    return register


def publish_in_transaction(event_name: str, **payload: Any) -> None:
    """Call the event's in-transaction listeners now; the caller's transaction must be open."""
    listeners = _in_transaction.get(event_name)
    if not listeners:
        return
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(f"{event_name} is published in a transaction, and none is open.")
    for listener in list(listeners):
        listener(**payload)


def subscribe_prepared(event_name: str) -> Callable[[Preparer], Preparer]:
    """Register a preparer: run before the publishing action's transaction, it returns the writer to run inside."""

    def register(preparer: Preparer) -> Preparer:
        if preparer not in _preparers[event_name]:
            _preparers[event_name].append(preparer)
        return preparer

    return register


@dataclass(frozen=True, slots=True)
class Prepared:
    """The writers the preparers of one event returned, to run inside the transaction."""

    event_name: str
    writers: tuple[Listener, ...]

    def publish(self, **payload: Any) -> None:
        """Run the writers now; the caller's transaction must be open."""
        if not self.writers:
            return
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError(f"{self.event_name} is published in a transaction, and none is open.")
        for writer in self.writers:
            writer(**payload)


def prepare(event_name: str, **payload: Any) -> Prepared:
    """Run the event's preparers now (before the transaction) and keep the writers they return."""
    writers = [w for preparer in list(_preparers.get(event_name, ())) if (w := preparer(**payload)) is not None]
    return Prepared(event_name=event_name, writers=tuple(writers))
