"""A small closed-loop HTTP load generator: threads, keep-alive, client-side latency.

Each of `concurrency` threads holds one keep-alive connection and sends its next
request as soon as the previous answer is read (a closed loop: the offered load
is what the server can take). Everything is bounded: warm-up count, then at most
`max_requests` in the timed phase or `duration_s` seconds, whichever ends first.
Only loopback hosts are accepted.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bench.stats import Summary, summarise

LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    body: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


def json_request(method: str, path: str, payload: Any, *, token: str | None = None) -> Request:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return Request(method=method, path=path, body=json.dumps(payload).encode(), headers=headers)


def get(path: str, *, token: str | None = None) -> Request:
    return Request(method="GET", path=path, headers={"Authorization": f"Bearer {token}"} if token else {})


# Called with a sequence number unique within one run; returns the request to send.
RequestFactory = Callable[[int], Request]


@dataclass(frozen=True, slots=True)
class LoadResult:
    summary: Summary
    statuses: dict[int, int]
    first_error: str | None  # status and the start of the body of the first failure, to tell what broke
    latencies_ms: tuple[float, ...] = ()  # every timed request's latency, to pool several measurements
    # CPU seconds used in the timed phase by the server (its `cpu_clock`) and by this load generator; None: unknown
    server_cpu_s: float | None = None
    client_cpu_s: float | None = None


class _Client:
    """One keep-alive connection; reconnects when the server closes it."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.conn = http.client.HTTPConnection(host, port, timeout=timeout)

    def send(self, request: Request) -> tuple[int, bytes]:
        try:
            return self._send(request)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # the server closed an idle keep-alive connection: one retry on a fresh one
            self.conn.close()
            return self._send(request)

    def _send(self, request: Request) -> tuple[int, bytes]:
        headers = {"Host": "127.0.0.1", **request.headers}
        self.conn.request(request.method, request.path, body=request.body, headers=headers)
        response = self.conn.getresponse()
        body = response.read()
        if response.will_close:
            self.conn.close()
        return response.status, body

    def close(self) -> None:
        self.conn.close()


def run_load(
    *,
    host: str,
    port: int,
    make_request: RequestFactory,
    concurrency: int,
    max_requests: int,
    duration_s: float,
    warmup_requests: int = 0,
    timeout_s: float = 30.0,
    cpu_clock: Callable[[], float | None] | None = None,
) -> LoadResult:
    """Send requests from `concurrency` threads and measure each one on the client.

    `cpu_clock` (the server's CPU seconds so far, e.g. `servers.process_tree_cpu_seconds`)
    is read when the timed phase starts and when it ends, as is this process's own CPU.
    """
    if host not in LOOPBACK:
        raise ValueError(f"the benchmark talks to loopback only, not {host!r}")
    if concurrency < 1 or max_requests < 1 or duration_s <= 0:
        raise ValueError("concurrency, max_requests and duration_s must be positive")
    lock = threading.Lock()
    counter = {"next": 0}
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    first_error: list[str] = []
    clock = {"began": 0.0, "deadline": 0.0}
    server_cpu_at_start: list[float | None] = [None]
    client_cpu_at_start = [0.0]

    def start_clock() -> None:
        # runs once, before any thread is released: the timed phase starts when all have warmed up
        server_cpu_at_start[0] = cpu_clock() if cpu_clock else None
        client_cpu_at_start[0] = time.process_time()
        clock["began"] = time.perf_counter()
        clock["deadline"] = clock["began"] + duration_s

    start_line = threading.Barrier(concurrency + 1, action=start_clock, timeout=timeout_s + 60)
    warmup_failures: list[str] = []

    def next_number() -> int | None:
        with lock:
            number = counter["next"]
            if number >= max_requests:
                return None
            counter["next"] = number + 1
            return number

    def worker(index: int) -> None:
        client = _Client(host, port, timeout_s)
        mine: list[float] = []
        my_statuses: Counter[int] = Counter()
        try:
            # warm-up numbers are negative so factories never reuse a timed-phase number
            try:
                for w in range(warmup_requests):
                    client.send(make_request(-(index * warmup_requests + w) - 1))
            except (OSError, http.client.HTTPException) as exc:
                warmup_failures.append(repr(exc))
                start_line.abort()
                return
            start_line.wait()
            while time.perf_counter() < clock["deadline"]:
                number = next_number()
                if number is None:
                    break
                request = make_request(number)
                began = time.perf_counter()
                try:
                    status, body = client.send(request)
                except (OSError, http.client.HTTPException) as exc:
                    status, body = 0, repr(exc).encode()
                    client.close()
                mine.append((time.perf_counter() - began) * 1000)
                my_statuses[status] += 1
                if not 200 <= status < 300 and not first_error:
                    with lock:
                        if not first_error:
                            first_error.append(f"{status} {request.method} {request.path}: {body[:300]!r}")
        finally:
            client.close()
            with lock:
                latencies.extend(mine)
                statuses.update(my_statuses)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    try:
        start_line.wait()
    except threading.BrokenBarrierError:
        raise RuntimeError(f"warm-up failed: {warmup_failures[:1]}") from None
    for thread in threads:
        thread.join(timeout=duration_s + timeout_s + 5)
    elapsed = time.perf_counter() - clock["began"]
    client_cpu = time.process_time() - client_cpu_at_start[0]
    server_now = cpu_clock() if cpu_clock else None
    server_then = server_cpu_at_start[0]
    errors = sum(n for status, n in statuses.items() if not 200 <= status < 300)
    return LoadResult(
        summary=summarise(latencies, errors=errors, elapsed_s=elapsed),
        statuses=dict(statuses),
        first_error=first_error[0] if first_error else None,
        latencies_ms=tuple(latencies),
        server_cpu_s=server_now - server_then if server_now is not None and server_then is not None else None,
        client_cpu_s=client_cpu,
    )
