"""The server's and the load generator's CPU per request, measured around the timed phase and reported."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.loadgen import LoadResult, get, run_load
from bench.report import Report, Row, format_split, format_table
from bench.servers import process_tree_cpu_seconds
from bench.stats import summarise

needs_proc = pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="reads /proc")


@needs_proc
def test_the_cpu_of_a_process_counts_its_descendants() -> None:
    # a shell that starts a busy Python and waits: the work is done two levels below the pid asked about
    busy = f"{sys.executable} -c 'import time\nend = time.process_time() + 0.6\nwhile time.process_time() < end: pass'"
    shell = subprocess.Popen(["/bin/sh", "-c", f"{busy} & wait"])
    seen: float | None = None
    try:
        deadline = time.monotonic() + 20  # a loaded machine may take a while to start the grandchild
        while time.monotonic() < deadline and shell.poll() is None:
            seen = process_tree_cpu_seconds(shell.pid)
            if seen is not None and seen > 0.1:
                break
            time.sleep(0.05)
        shell.wait(timeout=30)
    finally:
        shell.kill()
    assert seen is not None and seen > 0.1  # the grandchild's CPU, while it ran
    assert process_tree_cpu_seconds(os.getpid()) is not None
    assert process_tree_cpu_seconds(shell.pid) is None  # gone: unknown, not zero


class _Ok(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the servers under test

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def ok_server() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_the_server_clock_is_read_when_the_timed_phase_starts_and_ends(ok_server: int) -> None:
    readings: list[float] = []

    def clock() -> float:
        readings.append(len(readings) * 2.5)
        return readings[-1]

    result = run_load(host="127.0.0.1", port=ok_server, make_request=lambda n: get("/"), concurrency=2,
                      max_requests=20, duration_s=5, warmup_requests=3, cpu_clock=clock)  # fmt: skip
    assert result.summary.requests == 20
    assert readings == [0.0, 2.5]  # once at the start line (after the warm-up), once at the end
    assert result.server_cpu_s == 2.5
    assert result.client_cpu_s is not None and result.client_cpu_s >= 0
    unknown = run_load(host="127.0.0.1", port=ok_server, make_request=lambda n: get("/"), concurrency=1,
                       max_requests=5, duration_s=5, cpu_clock=lambda: None)  # fmt: skip
    assert unknown.server_cpu_s is None


def _result(requests: int, server_s: float | None, client_s: float | None) -> LoadResult:
    return LoadResult(summary=summarise([1.0] * requests, errors=0, elapsed_s=1.0), statuses={200: requests},
                      first_error=None, server_cpu_s=server_s, client_cpu_s=client_s)  # fmt: skip


def test_rounds_pool_their_cpu_over_all_their_requests() -> None:
    from bench.run import with_cpu

    row = Row("create", 8, summarise([1.0], errors=0, elapsed_s=1.0))
    pooled = with_cpu(row, [_result(100, 0.5, 0.05), _result(300, 1.5, 0.15)])
    assert pooled.server_cpu_ms == pytest.approx(5.0)  # 2 s over 400 requests
    assert pooled.client_cpu_ms == pytest.approx(0.5)
    partly = with_cpu(row, [_result(100, 0.5, 0.05), _result(300, None, 0.15)])
    assert math.isnan(partly.server_cpu_ms)  # one round unknown: no figure rather than a wrong one
    assert partly.client_cpu_ms == pytest.approx(0.5)


def test_the_split_sets_the_cost_over_http_beside_the_cost_in_process() -> None:
    from bench.run import CREATE, FRAMEWORK, judge, parse_args

    options = parse_args(["--cases", "10000", "--create-concurrency", "1,8", "--rounds", "1"])
    report = Report(context={})
    report.add(Row(CREATE, 8, summarise([1.0] * 300, errors=0, elapsed_s=1.0), server_cpu_ms=4.5, client_cpu_ms=0.3))
    report.add(Row(FRAMEWORK, 8, summarise([1.0] * 900, errors=0, elapsed_s=1.0), server_cpu_ms=1.5,
                   client_cpu_ms=0.3))  # fmt: skip
    report.split = {"create": {"request_cpu_ms": 2.5, "sql_cpu_ms": 0.4, "writes": [1, 2, 3, 4, 5]},
                    "framework": {"request_cpu_ms": 0.6, "sql_cpu_ms": 0.04}}  # fmt: skip
    judge(options, report)
    create = report.find(CREATE, 8)
    assert create is not None and create.passed is False and create.server_cpu_ms == 4.5  # judged, figures kept
    assert report.split["over_http"] == {"concurrency": 8, "create_ms": 4.5, "framework_ms": 1.5,
                                         "framework_inproc_ms": 0.6}  # fmt: skip
    text = format_split(report.split)
    assert "server CPU per request (all its processes): create 4.50 ms, framework 1.50 ms" in text
    assert "create +2.00 ms, framework +0.90 ms" in text
    assert "4.5" in format_table(report.rows)
