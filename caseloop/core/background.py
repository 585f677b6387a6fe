"""Background work beside the web server: the task worker, the minute checks, and their lifetime.

In production a process supervisor runs `caseloop serve`, `caseloop worker`
and `caseloop tick --every 60` side by side. The README's first command
(`caseloop quickstart`) is one process in a terminal, though, and a demo where
a solved case never sends its survey, an SLA target is never marked missed and
a promise is never checked shows less than the product does. So:

- `caseloop worker --tick SECONDS` runs the time-driven checks in a thread of
  the worker process (`Ticker`), one process doing both on a small install;
- `caseloop quickstart` starts that worker as a child (`start_worker`) with
  `--exit-with` its own pid, so the worker also ends when the quickstart dies
  without a chance to stop it (`ParentWatch`), and stops it when the server
  ends (`stop_worker`): only the process that started it does, not the
  server's forked workers, which leave through the same code.

The task worker also outlives a database that goes away for a while (a
PostgreSQL restart, a dropped connection, SQLite's lock held past the busy
timeout): django-tasks' worker ends on such an error, and `run_task_worker`
starts it again after a growing pause instead of leaving the queue unserved
until someone notices (`RESTART_DELAYS`). A stop signal during the pause ends it.
And a quickstart's worker that ends anyway (killed, out of memory, a crash)
is started again by the server's master, which looks at it about once a
second (`WorkerKeeper`), after the same growing pauses.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from caseloop.core.processes import alive

logger = logging.getLogger(__name__)

# the time-driven checks, in the order `caseloop tick` runs them (management commands of their apps);
# the last forgets processed provider webhook requests past their keeping time
CHECKS = ("approvals_check", "sla_check", "promises_check", "webhooks_purge")
QUICKSTART_TICK_SECONDS = 60
STOP_WAIT_SECONDS = 10
# pauses before starting the task worker again after the database went away; the last repeats
RESTART_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0)
# a worker that ran this long before failing met a new outage: the pauses start again from the first
HEALTHY_RUN_SECONDS = 300


def _pause(stop: threading.Event, seconds: float) -> bool:
    """Wait `seconds` unless stopped first; True when stopped."""
    return stop.wait(seconds)


def run_task_worker(run: Callable[[], object], *, delays: Sequence[float] = RESTART_DELAYS,
                    clock: Callable[[], float] = time.monotonic) -> int:  # fmt: skip
    """Run django-tasks' worker (`run`) until it stops; start it again when the database went away.

    Returns how many times it was started again. Only database errors restart
    it: anything else is a bug, and ends the process as before, so that its
    supervisor and its log say so.
    """
    from django.db import DatabaseError, InterfaceError, connections

    restarts = 0
    stop = threading.Event()
    while True:
        started = clock()
        try:
            run()
            return restarts
        except (DatabaseError, InterfaceError) as error:  # InterfaceError: a connection closed under it
            if clock() - started >= HEALTHY_RUN_SECONDS:
                restarts = 0
            delay = delays[min(restarts, len(delays) - 1)]
            logger.warning("The task worker lost the database (%s); starting it again in %g s", error, delay)
        connections.close_all()  # a broken connection is not reused; the next run opens a new one
        # django-tasks' handlers belong to the worker that ended: a stop now must end the wait, not be lost
        previous = {number: signal.signal(number, lambda *_: stop.set()) for number in (signal.SIGTERM, signal.SIGINT)}
        try:
            if _pause(stop, delay):
                logger.warning("Stopped while waiting to start the task worker again")
                return restarts
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
        restarts += 1


def run_checks(commands: Sequence[str] = CHECKS) -> None:
    """One round of the time-driven checks, in this thread."""
    from django.core.management import call_command

    for name in commands:
        call_command(name)


class Ticker(threading.Thread):
    """Runs the time-driven checks every `every` seconds until stopped; a failing round is logged, not fatal."""

    def __init__(self, every: float, *, run: Callable[[], None] | None = None) -> None:
        super().__init__(name="caseloop-tick", daemon=True)  # the worker's exit ends it, mid-round or not
        self.every = every
        self.rounds = 0
        self._run = run or (lambda: run_checks())  # looked up at each round (tests replace it)
        self._stopped = threading.Event()

    def run(self) -> None:
        from django.db import connection

        while not self._stopped.is_set():
            started = time.monotonic()
            try:
                self._run()
            except Exception:  # a bad round must not end the checks for good: the next one tries again
                logger.exception("The time-driven checks failed; trying again in %.0f s", self.every)
            finally:
                self.rounds += 1
                connection.close()  # this thread's own connection: it sleeps a minute between uses
            self._stopped.wait(max(0.0, self.every - (time.monotonic() - started)))

    def stop(self) -> None:
        self._stopped.set()


class ParentWatch(threading.Thread):
    """Sends this process SIGTERM (the worker's graceful stop) once process `pid` is gone."""

    def __init__(self, pid: int, *, every: float = 1.0, on_gone: Callable[[], None] | None = None) -> None:
        super().__init__(name="caseloop-exit-with", daemon=True)
        self.pid = pid
        self.every = every
        self._on_gone = on_gone or (lambda: os.kill(os.getpid(), signal.SIGTERM))

    def run(self) -> None:
        while alive(self.pid):
            time.sleep(self.every)
        logger.warning("Process %s has ended; stopping", self.pid)
        self._on_gone()


@dataclass(frozen=True, slots=True)
class StartedWorker:
    process: subprocess.Popen[bytes]
    owner_pid: int  # the process that started it; forked server workers must leave it alone
    log: Path


def worker_command(*, tick_seconds: float, exit_with: int) -> list[str]:
    """`caseloop worker` with the minute checks, ending with process `exit_with`, run by this interpreter."""
    return [sys.executable, "-m", "caseloop", "worker", "--tick", f"{tick_seconds:g}", "--exit-with", str(exit_with)]


def start_worker(data_dir: Path, *, tick_seconds: float = QUICKSTART_TICK_SECONDS) -> StartedWorker:
    """Start the task worker (with the minute checks) as a child of this process; its output goes to a log file."""
    log = data_dir / "worker.log"
    env = {**os.environ, "CASELOOP_DATA_DIR": str(data_dir)}
    with log.open("ab") as out:  # the child has its own copy of the descriptor
        command = worker_command(tick_seconds=tick_seconds, exit_with=os.getpid())  # this interpreter, fixed words
        process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=out,  # noqa: S603
                                   stderr=subprocess.STDOUT)  # fmt: skip
    return StartedWorker(process=process, owner_pid=os.getpid(), log=log)


def stop_worker(started: StartedWorker, *, wait_s: float = STOP_WAIT_SECONDS) -> bool:
    """Stop the worker gracefully (SIGTERM, then SIGKILL after `wait_s`); False in any other process."""
    if os.getpid() != started.owner_pid:  # a forked server worker leaving through the same `finally`
        return False
    process = started.process
    with contextlib.suppress(ProcessLookupError):
        process.terminate()
    try:
        process.wait(timeout=wait_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        process.wait(timeout=wait_s)
    return True


class WorkerKeeper:
    """The quickstart's task worker, started again whenever it ends, after growing pauses.

    `check()` is called from the server's main loop (about once a second, in
    the process that started the worker). It never raises: a failure to start
    the worker is logged and tried again after the next pause, since an
    exception there would stop the whole server. In production a process
    supervisor does this job (README, "Running it for a team").
    """

    def __init__(self, start: Callable[[], StartedWorker], *, delays: Sequence[float] = RESTART_DELAYS,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self._start = start
        self._delays = tuple(delays)
        self._clock = clock
        self.current: StartedWorker | None = start()
        self.started_at = clock()
        self.restarts = 0
        self._failures = 0  # ends in a row, each with its pause; reset by a long healthy run
        self._due: float | None = None  # when to start it again, while it is down

    def check(self) -> None:
        try:
            self._check()
        except Exception:  # never into gunicorn's loop, which would stop serving
            logger.exception("Could not look after the task worker; trying again")

    def _check(self) -> None:
        now = self._clock()
        if self._due is None:
            if self.current is None or (status := self.current.process.poll()) is None:
                return
            if now - self.started_at >= HEALTHY_RUN_SECONDS:
                self._failures = 0
            delay = self._delays[min(self._failures, len(self._delays) - 1)]
            self._failures += 1
            self._due = now + delay
            # gunicorn's master waits on any child, so it often reaps this one first and its status is lost
            # (Popen then reads 0): only a status of its own is worth showing
            how = f"ended with status {status}" if status else "ended"
            logger.error("The task worker (process %s) %s after %.0f s; starting it again in %.0f s (its log: %s)",
                         self.current.process.pid, how, now - self.started_at, delay, self.current.log)  # fmt: skip
            return
        if now < self._due:
            return
        self._due = None
        self.started_at = now
        try:
            self.current = self._start()
        except Exception:
            self.current = None
            self._due = now + self._delays[min(self._failures, len(self._delays) - 1)]
            self._failures += 1
            raise
        self.restarts += 1
        logger.warning("Started the task worker again, as process %s", self.current.process.pid)
