"""The worker's minute checks, its stop when the quickstart that started it is gone, and its clean stop."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from caseloop.core import background, processes


def wait_for(condition: Any, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


@pytest.mark.django_db(transaction=True)
def test_the_ticker_runs_the_checks_every_interval_and_outlives_a_failed_round() -> None:
    calls: list[float] = []

    def round_of_checks() -> None:
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise RuntimeError("the database was busy")  # logged; the next round still comes

    ticker = background.Ticker(0.05, run=round_of_checks)
    ticker.start()
    try:
        assert wait_for(lambda: len(calls) >= 3)
    finally:
        ticker.stop()
        ticker.join(timeout=5)
    assert not ticker.is_alive() and ticker.rounds >= 3
    assert all(later - earlier >= 0.04 for earlier, later in itertools.pairwise(calls))


@pytest.mark.django_db(transaction=True)
def test_a_round_runs_the_three_time_driven_checks(capsys: pytest.CaptureFixture[str]) -> None:
    background.run_checks()

    out = capsys.readouterr().out
    assert "approvals:" in out and "sla:" in out and "promises:" in out


def test_the_parent_watch_stops_the_worker_once_the_parent_is_gone() -> None:
    parent = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    gone = threading.Event()
    watch = background.ParentWatch(parent.pid, every=0.02, on_gone=gone.set)
    watch.start()
    try:
        assert not gone.wait(0.2)  # alive: nothing happens
        parent.kill()
        parent.wait()
        assert gone.wait(5)
    finally:
        parent.kill()
        parent.wait()


def test_a_dead_but_unreaped_process_counts_as_gone() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    assert wait_for(lambda: not processes.alive(child.pid))  # a zombie until waited for
    child.wait()
    assert processes.alive(os.getpid())


def test_only_the_process_that_started_the_worker_stops_it(tmp_path: Path) -> None:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        forked_copy = background.StartedWorker(process=process, owner_pid=os.getpid() + 1, log=tmp_path / "w.log")
        assert background.stop_worker(forked_copy) is False and process.poll() is None

        owner = background.StartedWorker(process=process, owner_pid=os.getpid(), log=tmp_path / "w.log")
        assert background.stop_worker(owner) is True and process.returncode is not None
    finally:
        process.kill()
        process.wait()


def test_the_started_worker_runs_the_checks_and_ends_with_its_starter(tmp_path: Path, monkeypatch: Any) -> None:
    started: dict[str, Any] = {}

    class FakePopen:
        pid = 4242

        def __init__(self, command: list[str], **options: Any) -> None:
            started.update(command=command, **options)

    monkeypatch.setattr(subprocess, "Popen", FakePopen)
    worker = background.start_worker(tmp_path, tick_seconds=60)

    assert started["command"] == [sys.executable, "-m", "caseloop", "worker", "--tick", "60",
                                  "--exit-with", str(os.getpid())]  # fmt: skip
    assert started["env"]["CASELOOP_DATA_DIR"] == str(tmp_path) and worker.log == tmp_path / "worker.log"
    assert worker.owner_pid == os.getpid()


def test_the_task_worker_starts_again_after_the_database_went_away(caplog: pytest.LogCaptureFixture) -> None:
    from django.db import InterfaceError, OperationalError

    outcomes: list[Exception | None] = [OperationalError("server closed the connection unexpectedly"),
                                        InterfaceError("connection already closed"), None]  # fmt: skip
    runs: list[int] = []

    def db_worker() -> None:
        runs.append(1)
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise outcome

    assert background.run_task_worker(db_worker, delays=(0.01, 0.02)) == 2
    assert len(runs) == 3  # ran, failed twice, ran again until it was stopped the normal way
    assert caplog.text.count("lost the database") == 2


def test_the_pauses_grow_and_start_over_after_a_healthy_run(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.db import OperationalError

    waits: list[float] = []

    def pause(stop: threading.Event, seconds: float) -> bool:
        waits.append(seconds)
        return False

    monkeypatch.setattr(background, "_pause", pause)
    now = iter([0, 1, 1, 2, 2, 3, 3, 1000, 1000, 1001, 1001, 1002])  # start and failure times of each run
    failures = iter([True, True, True, True, True, False])

    def db_worker() -> None:
        if next(failures):
            raise OperationalError("database is locked")

    assert background.run_task_worker(db_worker, delays=(1.0, 2.0, 5.0), clock=lambda: next(now)) == 2
    # three quick failures: 1, 2, 5 s; then one after a long healthy run starts over at 1 s, then 2 s
    assert waits == [1.0, 2.0, 5.0, 1.0, 2.0]


def test_a_stop_signal_during_the_pause_ends_the_worker_and_other_errors_are_not_retried() -> None:
    from django.db import OperationalError

    def lost() -> None:
        threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGTERM)).start()
        raise OperationalError("the database system is shutting down")

    before = signal.getsignal(signal.SIGTERM)
    started = time.monotonic()
    assert background.run_task_worker(lost, delays=(30.0,)) == 0  # stopped in the pause, not started again
    assert time.monotonic() - started < 10
    assert signal.getsignal(signal.SIGTERM) is before  # the handlers of whoever ran before are back

    def bug() -> None:
        raise KeyError("a bug, not the database")

    with pytest.raises(KeyError):
        background.run_task_worker(bug, delays=(0.01,))


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _child(seconds: float) -> background.StartedWorker:
    process = subprocess.Popen([sys.executable, "-c", f"import time; time.sleep({seconds})"])  # noqa: S603
    return background.StartedWorker(process=process, owner_pid=os.getpid(), log=Path("worker.log"))


def test_the_keeper_starts_an_ended_worker_again_after_growing_pauses(caplog: pytest.LogCaptureFixture) -> None:
    clock = _Clock()
    started: list[background.StartedWorker] = []

    def start() -> background.StartedWorker:
        started.append(_child(0 if len(started) < 3 else 60))  # three that end at once, then one that runs
        return started[-1]

    keeper = background.WorkerKeeper(start, delays=(1.0, 5.0), clock=clock)
    try:
        keeper.check()  # not ended yet, or just noticed: no new process before the pause
        assert wait_for(lambda: started[0].process.poll() is not None)
        keeper.check()
        assert len(started) == 1 and "ended after" in caplog.text and "again in 1 s" in caplog.text
        clock.now += 0.5
        keeper.check()
        assert len(started) == 1  # still pausing
        clock.now += 0.6
        keeper.check()
        assert len(started) == 2 and keeper.restarts == 1 and keeper.current is started[1]
        assert wait_for(lambda: started[1].process.poll() is not None)
        keeper.check()
        clock.now += 1.1
        keeper.check()
        assert len(started) == 2  # the second pause is longer
        clock.now += 4
        keeper.check()
        assert len(started) == 3
        clock.now += background.HEALTHY_RUN_SECONDS  # it ran long and well before it ended
        assert wait_for(lambda: started[2].process.poll() is not None)
        keeper.check()
        clock.now += 1.1
        keeper.check()
        assert len(started) == 4  # back to the first pause
        keeper.check()
        assert len(started) == 4 and keeper.current is started[3]  # running: left alone
    finally:
        for worker in started:
            worker.process.kill()
            worker.process.wait()


def test_a_keeper_that_cannot_start_the_worker_logs_and_tries_again(caplog: pytest.LogCaptureFixture) -> None:
    clock = _Clock()
    attempts: list[int] = []
    first = _child(0)

    def start() -> background.StartedWorker:
        attempts.append(1)
        if len(attempts) == 1:
            return first
        if len(attempts) == 2:
            raise OSError("no more processes")
        return _child(60)

    keeper = background.WorkerKeeper(start, delays=(1.0,), clock=clock)
    first.process.wait()
    keeper.check()
    clock.now += 1.1
    keeper.check()  # the start fails: logged, never raised into the server's loop
    assert keeper.current is None and "Could not look after the task worker" in caplog.text
    clock.now += 1.1
    keeper.check()
    assert keeper.current is not None and len(attempts) == 3
    keeper.current.process.kill()
    keeper.current.process.wait()
