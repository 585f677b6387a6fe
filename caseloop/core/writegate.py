"""One queue for SQLite's write lock among the workers of one `caseloop serve`.

SQLite lets one connection write at a time. A writer that finds the lock taken
waits in SQLite's busy handler, which sleeps in growing steps (1, 2, 5, 10, 15,
20, 25 ms …) and looks again: under concurrent creates the lock was often free
while every waiter still slept, and a request that lost a few rounds waited tens
of milliseconds for a lock held a millisecond or two (ADR 0068).

The gate is a semaphore made by the server's master process before it forks its
workers, so every worker (and every thread in it) shares it. A write
transaction takes it before `BEGIN IMMEDIATE` and gives it back at COMMIT or
ROLLBACK; the next waiter is woken by the kernel the moment it is given back.
SQLite's own lock stays the guarantee: processes outside the server (the task
worker, the CLI, a second server) are not gated and still meet SQLite's lock.

A worker that dies holding the gate (killed mid-transaction) is released by the
master's child-exit hook, which knows the holder's pid. Should the gate still be
held longer than `CASELOOP_WRITE_GATE_SECONDS`, a waiter goes on without it and
waits on SQLite's lock as it would without a gate: the gate can delay a write,
never refuse or hang one.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
from dataclasses import dataclass
from typing import Any

from caseloop.core.processes import alive

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Gate:
    semaphore: Any  # multiprocessing.synchronize.Lock (a POSIX semaphore shared across fork)
    holder: Any  # multiprocessing.sharedctypes Value('q'): pid of the process holding the gate, 0 when free
    wait_s: float


_gate: Gate | None = None


def install(wait_s: float) -> bool:
    """Make this process's gate, for the processes it will fork; False when it is off or the platform has none."""
    global _gate
    if wait_s <= 0:
        _gate = None
        return False
    try:
        context = multiprocessing.get_context("fork")
        _gate = Gate(semaphore=context.Lock(), holder=context.Value("q", 0, lock=False), wait_s=wait_s)
    except (OSError, ImportError, ValueError) as error:  # no shared semaphores here (no /dev/shm, no fork)
        logger.warning("SQLite write gate unavailable, writers wait on SQLite's lock alone: %s", error)
        _gate = None
        return False
    return True


def uninstall() -> None:
    global _gate
    _gate = None


def installed() -> bool:
    return _gate is not None


def acquire() -> bool:
    """Wait for the gate; True if taken (give it back with `release`), False if there is none or it took too long."""
    gate = _gate
    if gate is None:
        return False
    if not gate.semaphore.acquire(timeout=gate.wait_s):
        holder = gate.holder.value
        if holder and alive(holder):
            logger.warning("SQLite write gate held by pid %s for over %.1f s; writing without it", holder, gate.wait_s)
            return False
        # its holder is gone without a trace (killed between taking it and saying so): free it, wait once more
        logger.warning("SQLite write gate held by no live process; released")
        _give_back(gate)
        if not gate.semaphore.acquire(timeout=gate.wait_s):
            return False
    gate.holder.value = os.getpid()
    return True


def release() -> None:
    """Give the gate back; call once for each `acquire` that returned True."""
    gate = _gate
    if gate is None:
        return
    gate.holder.value = 0
    _give_back(gate)


def _give_back(gate: Gate) -> None:
    with contextlib.suppress(ValueError):  # released already (a repair raced its holder): free either way
        gate.semaphore.release()


def release_for_exited(pid: int) -> bool:
    """The master's hook when worker `pid` exits: free the gate if that worker died holding it."""
    gate = _gate
    if gate is None or not pid or gate.holder.value != pid:
        return False
    logger.warning("worker %s exited holding the SQLite write gate; released", pid)
    gate.holder.value = 0
    _give_back(gate)
    return True
