"""Live chat delivery latency with many open chats, against `caseloop serve` on loopback.

    python -m bench.chat_bench [--chats 50] [--rounds 10] [--rate 20] [--workers 2] [--threads 4]
                               [--streams-per-process 2] [--seconds 25] [--poll 0.5]

A fresh SQLite data folder (or CASELOOP_DATABASE_URL's database) gets a widget,
a rep and a signed-in session; `caseloop serve` starts on 127.0.0.1 with the
given workers and threads. Then `--chats` visitors start a chat each through
the widget's API and keep its event stream open the way the widget does (read
events; when the server ends the stream, wait its `retry:` and reopen it from
the last event id). The rep answers every chat `--rounds` times through the
case page's composer (the same POST the browser sends), `--rate` replies per
second across all chats, and each visitor writes back once per round.

Measured, on the client's clock:
  - reply → visitor: from the rep's POST being sent to the event arriving on
    that visitor's stream (the rep's write, the commit, the stream's next
    database poll and the network in between): p50, p99, max;
  - the rep's POST and the visitor's POST round trips;
  - how many replies never arrived (should be 0) or arrived twice (0).

With the default threads most streams cannot be held (each held stream is a
server thread; a process keeps at most --streams-per-process) and visitors are
served by reconnecting every `retry` (polling); raise --threads and
--streams-per-process together to hold every stream. ADR 0061 discusses both.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from bench.servers import HOST, caseloop_command, free_port, running

REPO = Path(__file__).resolve().parent.parent
ORIGIN = "https://shop.bench.example"

SETUP = r"""
import json, os, django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from caseloop.channels.chat.actions import WidgetInput, create_widget, touch_agent
from caseloop.identity.actions import add_member, create_team, create_user
team = create_team(name="Support")
rep = create_user(username="rep", email="rep@bench.example", password="bench-password-not-secret",
                  display_name="Rita Rep")
add_member(team=team, user=rep)
widget = create_widget(actor=None, data=WidgetInput(name="Bench", allowed_origins=[os.environ["BENCH_ORIGIN"]],
                                                    team=team))
touch_agent(actor=rep)
session = SessionStore()
session[SESSION_KEY] = str(rep.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = rep.get_session_auth_hash()
session.save()
print(json.dumps({"key": widget.key, "session": session.session_key, "prefix": settings.CASELOOP_CASE_NUMBER_PREFIX}))
"""


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


@dataclass
class Visitor:
    index: int
    token: str
    case_id: int
    last_id: int = 0
    arrivals: dict[str, list[float]] = field(default_factory=dict)  # reply text → arrival times (twice = duplicate)
    reconnects: int = 0
    errors: list[str] = field(default_factory=list)


class Listener(threading.Thread):
    """One visitor's page: the event stream, reopened after each end like the widget's EventSource."""

    def __init__(self, visitor: Visitor, *, port: int, key: str, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.visitor, self.port, self.key, self.stop = visitor, port, key, stop
        self.connected = threading.Event()

    def run(self) -> None:
        retry_ms = 1000
        while not self.stop.is_set():
            query = urlencode({"token": self.visitor.token, "after": self.visitor.last_id})
            conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
            try:
                conn.request("GET", f"/chat/api/{self.key}/chat/stream/?{query}",
                             headers={"Origin": ORIGIN, "Accept": "text/event-stream"})  # fmt: skip
                response = conn.getresponse()
                if response.status != 200:
                    self.visitor.errors.append(f"stream HTTP {response.status}")
                    time.sleep(1)
                    continue
                self.connected.set()
                retry_ms = self._read(response, retry_ms)
            except OSError as exc:
                self.visitor.errors.append(f"stream: {exc}")
            finally:
                conn.close()
            self.visitor.reconnects += 1
            self.stop.wait(retry_ms / 1000)

    def _read(self, response: http.client.HTTPResponse, retry_ms: int) -> int:
        fields: dict[str, str] = {}
        while not self.stop.is_set():
            raw = response.readline()
            if not raw:
                return retry_ms
            line = raw.decode().rstrip("\r\n")
            if line.startswith(":"):
                continue
            if line:
                name, _, value = line.partition(": ")
                if name == "retry":
                    retry_ms = int(value)
                else:
                    fields[name] = value
                continue
            if fields.get("event") == "message":
                now = time.monotonic()
                data = json.loads(fields["data"])
                self.visitor.last_id = max(self.visitor.last_id, int(data["id"]))
                if data["from"] == "agent":
                    self.visitor.arrivals.setdefault(data["text"], []).append(now)
            fields = {}
        return retry_ms


def request(port: int, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, bytes, float]:
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    started = time.monotonic()
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read(), time.monotonic() - started
    finally:
        conn.close()


def run(args: argparse.Namespace) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp(prefix="caseloop-chat-bench-"))
    env = {
        **os.environ,
        "CASELOOP_DATA_DIR": str(data_dir),
        "CASELOOP_SECRET_KEY": "chat-bench-not-secret",
        "DJANGO_SETTINGS_MODULE": "caseloop.config.settings",
        "CASELOOP_CHAT_AGENT_SECONDS": "86400",  # the rep stays available for the whole run
        "CASELOOP_CHAT_STARTS_PER_IP_PER_HOUR": "100000",
        "CASELOOP_CHAT_MESSAGES_PER_MINUTE": "100000",
        "CASELOOP_CHAT_STREAMS_PER_PROCESS": str(args.streams_per_process),
        "CASELOOP_CHAT_STREAM_SECONDS": str(args.seconds),
        "CASELOOP_CHAT_POLL_SECONDS": str(args.poll),
        "CASELOOP_LOG_LEVEL": "ERROR",
        "BENCH_ORIGIN": ORIGIN,
    }
    database = os.environ.get("CASELOOP_DATABASE_URL", "")
    if database:
        env["CASELOOP_DATABASE_URL"] = database = fresh_postgres(database)
    try:
        setup = subprocess.run([sys.executable, "-c", SETUP], env=env, cwd=REPO, capture_output=True, text=True,
                               check=True)  # fmt: skip
        facts = json.loads(setup.stdout.strip().splitlines()[-1])
        port = free_port()
        command = caseloop_command("serve", "--host", HOST, "--port", str(port), "--workers", str(args.workers),
                                   "--threads", str(args.threads))  # fmt: skip
        with running(command, port=port, env=env, log=data_dir / "serve.log", ready_path="/login/", cwd=REPO):
            return measure(args, port=port, key=facts["key"], session=facts["session"], prefix=facts["prefix"])
    finally:
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
            if database:
                drop_postgres(database)


def _admin_connection(url: str) -> Any:
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True)


def fresh_postgres(url: str) -> str:
    """A new, empty database beside the one CASELOOP_DATABASE_URL names (that one is never touched)."""
    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'caseloop'}_chat_bench"
    with _admin_connection(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}"))


def drop_postgres(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    with _admin_connection(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def measure(args: argparse.Namespace, *, port: int, key: str, session: str, prefix: str) -> dict[str, Any]:
    api = f"/chat/api/{key}/"
    json_headers = {"Origin": ORIGIN, "Content-Type": "application/json"}
    visitors: list[Visitor] = []
    for index in range(args.chats):
        start = json.dumps({"text": f"Visitor {index}: is the white door in stock?", "name": f"Visitor {index}"})
        status, raw, _ = request(port, "POST", api + "chats/", start.encode(), json_headers)
        if status != 201:
            raise RuntimeError(f"starting chat {index}: HTTP {status} {raw[:200]!r}")
        started = json.loads(raw)
        visitor = Visitor(index=index, token=started["token"], case_id=int(started["case"].removeprefix(f"{prefix}-")))
        visitor.last_id = max(m["id"] for m in started["messages"])
        visitors.append(visitor)
    stop = threading.Event()
    listeners = [Listener(v, port=port, key=key, stop=stop) for v in visitors]
    for listener in listeners:
        listener.start()
    for listener in listeners:
        listener.connected.wait(timeout=30)
    csrf = "b" * 32  # the double-submit token: the same value in the cookie and the header
    rep_headers = {"Cookie": f"sessionid={session}; csrftoken={csrf}", "X-CSRFToken": csrf, "HX-Request": "true",
                   "Content-Type": "application/x-www-form-urlencoded"}  # fmt: skip
    sent: dict[str, tuple[Visitor, float]] = {}
    rep_posts: list[float] = []
    visitor_posts: list[float] = []
    failures: list[str] = []
    rng = random.Random(1)
    gap = 1.0 / args.rate
    began = time.monotonic()
    for round_number in range(args.rounds):
        order = list(visitors)
        rng.shuffle(order)
        for visitor in order:
            text = f"Reply {round_number} to visitor {visitor.index}"
            body = urlencode({"kind": "reply", "body": text}).encode()
            at = time.monotonic()
            status, raw, took = request(port, "POST", f"/cases/{visitor.case_id}/messages/", body, rep_headers)
            if status != 200:
                failures.append(f"reply HTTP {status}: {raw[:120]!r}")
            else:
                sent[text] = (visitor, at)
                rep_posts.append(took)
            pause = gap - (time.monotonic() - at)
            if pause > 0:
                time.sleep(pause)
        for visitor in visitors[: max(1, args.chats // 5)]:  # a fifth of the visitors write back each round
            body = json.dumps({"text": f"Thanks ({round_number})"}).encode()
            status, raw, took = request(port, "POST", api + "chat/messages/", body,
                                        {**json_headers, "X-Chat-Token": visitor.token})  # fmt: skip
            if status != 201:
                failures.append(f"visitor HTTP {status}: {raw[:120]!r}")
            else:
                visitor_posts.append(took)
    deadline = time.monotonic() + max(10.0, args.seconds + 5)
    while time.monotonic() < deadline and any(text not in v.arrivals for text, (v, _) in sent.items()):
        time.sleep(0.2)
    stop.set()
    elapsed = time.monotonic() - began
    latencies = [v.arrivals[text][0] - at for text, (v, at) in sent.items() if text in v.arrivals]
    lost = sum(1 for text, (v, _) in sent.items() if text not in v.arrivals)
    duplicated = sum(1 for text, (v, _) in sent.items() if len(v.arrivals.get(text, [])) > 1)

    def ms(values: list[float]) -> dict[str, float]:
        if not values:
            return {}
        return {"p50": round(percentile(values, 0.5) * 1000, 1), "p99": round(percentile(values, 0.99) * 1000, 1),
                "max": round(max(values) * 1000, 1), "mean": round(statistics.fmean(values) * 1000, 1)}  # fmt: skip

    return {
        "chats": args.chats,
        "replies": len(sent),
        "workers": args.workers,
        "threads": args.threads,
        "streams_per_process": args.streams_per_process,
        "stream_seconds": args.seconds,
        "poll_seconds": args.poll,
        "database": "postgresql" if os.environ.get("CASELOOP_DATABASE_URL") else "sqlite",
        "seconds": round(elapsed, 1),
        "reply_to_visitor_ms": ms(latencies),
        "rep_post_ms": ms(rep_posts),
        "visitor_post_ms": ms(visitor_posts),
        "lost": lost,
        "duplicated": duplicated,
        "reconnects": sum(v.reconnects for v in visitors),
        "stream_errors": sum(len(v.errors) for v in visitors),
        "failures": failures[:5],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=10, help="replies per chat")
    parser.add_argument("--rate", type=float, default=20.0, help="rep replies per second, across all chats")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--streams-per-process", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=25, help="how long the server holds one stream")
    parser.add_argument("--poll", type=float, default=0.5, help="the stream's database poll interval (seconds)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data folder (and serve.log)")
    args = parser.parse_args(argv)
    result = run(args)
    print(json.dumps(result, indent=2))
    return 1 if result["lost"] or result["duplicated"] or result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
