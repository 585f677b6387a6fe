"""Starting and stopping the servers under test, on loopback only."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def process_tree_cpu_seconds(pid: int) -> float | None:
    """CPU seconds (user + system) used so far by `pid` and every process below it; None where /proc has none.

    A server's master and its workers together: what serving cost the machine,
    to set beside the in-process cost of the same request. Processes that
    ended within a measurement drop out of the sum, so it is read around a
    steady load, never across a restart.
    """
    proc = Path("/proc")
    if not (proc / str(pid) / "stat").exists():
        return None
    parents: dict[int, int] = {}
    used: dict[int, float] = {}
    ticks = os.sysconf("SC_CLK_TCK")
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # the command name (field 2) is in parentheses and may hold spaces: split after its last ")"
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):  # ended while being read
            continue
        parents[int(entry.name)] = int(fields[1])
        used[int(entry.name)] = (int(fields[11]) + int(fields[12])) / ticks
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, ppid in parents.items() if ppid == parent and child not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(used.get(member, 0.0) for member in tree)


def caseloop_command(*args: str) -> list[str]:
    """The `caseloop` console script of this interpreter's environment, as the README runs it."""
    script = Path(sys.executable).parent / "caseloop"
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-c", "import sys; from caseloop.cli import main; sys.exit(main())", *args]


def _wait_ready(port: int, path: str, process: subprocess.Popen[bytes], timeout_s: float, log: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}; see {log}:\n{_tail(log)}")
        conn = http.client.HTTPConnection(HOST, port, timeout=2)
        try:
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer {path} within {timeout_s:.0f} s; see {log}:\n{_tail(log)}")


def _tail(log: Path, lines: int = 20) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's own process group (made for it at start), then SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@contextlib.contextmanager
def running(
    command: Sequence[str],
    *,
    port: int,
    env: Mapping[str, str],
    log: Path,
    ready_path: str,
    cwd: Path,
    timeout_s: float = 120,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `command` (a server listening on `port`) until the block ends; its output goes to `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        # a session of its own: the server and its workers are stopped together, and a
        # Ctrl-C in the terminal reaches the benchmark, which then stops them in order
        process = subprocess.Popen(
            list(command), env=dict(env), stdout=out, stderr=subprocess.STDOUT, cwd=cwd, start_new_session=True
        )
        try:
            _wait_ready(port, ready_path, process, timeout_s, log)
            yield process
        finally:
            _stop(process)
