"""Two app servers and two workers on one PostgreSQL database behave as one: an end-to-end check.

    python -m bench.multiprocess_check --database-url postgres://postgres@127.0.0.1:5432/postgres
                                       [--cases 300] [--tick 2] [--keep]

A fresh database beside the one the URL names (`caseloop_multiprocess_check`,
dropped afterwards; the named one is never touched) gets `caseloop migrate`,
`caseloop demo` and `caseloop createadmin`. Then, on 127.0.0.1, two
`caseloop serve` (A and B) and two `caseloop worker --tick` start, each with a
data folder of its own (their attachments/ one shared folder) and one shared
CASELOOP_SECRET_KEY, as docs/architecture.md ("Several servers and workers on
one database") tells a deployer. Every check talks to the servers over
HTTP the way a browser, the widget or an API client does, and reads the
database only to count what happened; each prints PASS or FAIL with what it
saw. Exit status 1 when any check failed. Never run by the test suite.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from bench.servers import HOST, caseloop_command, free_port, running

REPO = Path(__file__).resolve().parent.parent
DATABASE = "caseloop_multiprocess_check"
ADMIN, PASSWORD = "mpadmin", "multiprocess-check-not-secret"
ORIGIN = "https://shop.multiprocess.example"
API = "/api/v1"


# --- the deployment -------------------------------------------------------------------------------------
def _admin_connection(url: str) -> Any:
    import psycopg

    return psycopg.connect(urlunsplit(urlsplit(url)._replace(path="/postgres")), autocommit=True)


@dataclass
class Deployment:
    database_url: str
    folder: Path
    servers: dict[str, int] = field(default_factory=dict)  # name -> port
    logs: dict[str, Path] = field(default_factory=dict)

    def env(self, name: str, secret_key: str, extra: dict[str, str]) -> dict[str, str]:
        data_dir = self.folder / name
        data_dir.mkdir(parents=True, exist_ok=True)
        # a data folder per process, but one attachments folder for all (on several machines: NFS or the like)
        shared = self.folder / "attachments"
        shared.mkdir(exist_ok=True)
        if not (data_dir / "attachments").exists():
            (data_dir / "attachments").symlink_to(shared, target_is_directory=True)
        return {
            **os.environ,
            **extra,
            "CASELOOP_DATABASE_URL": self.database_url,
            "CASELOOP_DATA_DIR": str(data_dir),
            "CASELOOP_SECRET_KEY": secret_key,
            "CASELOOP_LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",  # check_portal reads the sign-in link from the workers' mail logs as they run
        }

    def db(self) -> Any:
        import psycopg

        return psycopg.connect(self.database_url, autocommit=True)

    def scalar(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        with self.db() as conn:
            row = conn.execute(sql, params).fetchone()
            return None if row is None else row[0]


def _run(command: list[str], env: dict[str, str], what: str) -> str:
    done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


@contextlib.contextmanager
def _worker(env: dict[str, str], tick: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        process = subprocess.Popen(caseloop_command("worker", "--tick", str(tick)), env=env, cwd=REPO,
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


@contextlib.contextmanager
def deployed(url: str, *, cases: int, tick: int, keep: bool) -> Iterator[Deployment]:
    parts = urlsplit(url)
    with _admin_connection(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')
    folder = Path(tempfile.mkdtemp(prefix="caseloop-multiprocess-"))
    deployment = Deployment(database_url=urlunsplit(parts._replace(path=f"/{DATABASE}")), folder=folder)
    secret_key = secrets.token_urlsafe(40)  # one key for every process, as CASELOOP_SECRET_KEY in production
    extra = {"CASELOOP_CHAT_AGENT_SECONDS": "3600"}  # the rep stays available to chat for the whole run
    try:
        setup = deployment.env("setup", secret_key, extra)
        _run(caseloop_command("migrate"), setup, "caseloop migrate")
        _run(caseloop_command("demo", "--cases", str(cases), "--quiet"), setup, "caseloop demo")
        _run(caseloop_command("createadmin", "--username", ADMIN, "--email", "mpadmin@multiprocess.example",
                              "--password", PASSWORD), setup, "caseloop createadmin")  # fmt: skip
        with contextlib.ExitStack() as stack:
            for name in ("a", "b"):
                port = free_port()
                log = folder / name / "serve.log"
                command = caseloop_command("serve", "--host", HOST, "--port", str(port), "--workers", "2")
                stack.enter_context(running(command, port=port, env=deployment.env(name, secret_key, extra), log=log,
                                            ready_path="/login/", cwd=REPO))  # fmt: skip
                deployment.servers[name], deployment.logs[name] = port, log
            for name in ("worker1", "worker2"):
                log = folder / name / "worker.log"
                stack.enter_context(_worker(deployment.env(name, secret_key, extra), tick, log))
                deployment.logs[name] = log
            yield deployment
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
            with _admin_connection(url) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        else:
            print(f"kept: {folder} and database {DATABASE}", file=sys.stderr)


# --- HTTP ---------------------------------------------------------------------------------------------------
@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")


@dataclass
class Client:
    """One browser or API client: cookies kept across servers (one site behind a load balancer)."""

    cookies: dict[str, str] = field(default_factory=dict)
    token: str | None = None

    def request(self, port: int, method: str, path: str, *, form: dict[str, str] | None = None,
                body: Any = None, headers: dict[str, str] | None = None) -> Answer:  # fmt: skip
        sent = dict(headers or {})
        data: bytes | None = None
        if form is not None:
            data = urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        if method not in ("GET", "HEAD") and "csrftoken" in self.cookies:
            sent.setdefault("X-CSRFToken", self.cookies["csrftoken"])
            sent.setdefault("Referer", f"http://{HOST}:{port}/")
        conn = http.client.HTTPConnection(HOST, port, timeout=60)
        try:
            conn.request(method, path, body=data, headers=sent)
            response = conn.getresponse()
            raw = response.read()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    cookie, _, _ = value.partition(";")
                    key, _, val = cookie.partition("=")
                    self.cookies[key.strip()] = val.strip()
            return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, raw)
        finally:
            conn.close()


def _csrf_from(page: str) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if not found:
        raise RuntimeError("no CSRF token on the page")
    return found.group(1)


def sign_in(port: int) -> Client:
    browser = Client()
    page = browser.request(port, "GET", "/login/")
    form = {"identifier": ADMIN, "password": PASSWORD, "csrfmiddlewaretoken": _csrf_from(page.text), "next": "/inbox/"}
    answer = browser.request(port, "POST", "/login/", form=form)
    if answer.status != 302 or "sessionid" not in browser.cookies:
        raise RuntimeError(f"signing in on :{port} answered {answer.status}")
    return browser


def _case(api: Client, port: int, subject: str, **extra: Any) -> Answer:
    return api.request(port, "POST", f"{API}/cases", body={
        "subject": subject, "requester": {"email": f"{secrets.token_hex(4)}@customer.multiprocess.example"},
        "message": {"body_text": "Hello"}, **extra})  # fmt: skip


def _wait(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.25)
    return condition()


# --- the checks -----------------------------------------------------------------------------------------------
@dataclass
class Context:
    deployment: Deployment
    tick: int
    browser: Client | None = None
    api: Client | None = None

    @property
    def a(self) -> int:
        return self.deployment.servers["a"]

    @property
    def b(self) -> int:
        return self.deployment.servers["b"]


Check = Callable[[Context], str]


def check_session(ctx: Context) -> str:
    """Signed in through A, the session works on B: a page, and a CSRF-protected form POST."""
    ctx.browser = browser = sign_in(ctx.a)
    inbox = browser.request(ctx.b, "GET", "/inbox/")
    assert inbox.status == 200, f"B's inbox answered {inbox.status}"
    case_id = ctx.deployment.scalar("SELECT max(id) FROM cases_case")
    note = browser.request(ctx.b, "POST", f"/cases/{case_id}/messages/", form={"kind": "note", "body": "From B"},
                           headers={"HX-Request": "true"})  # fmt: skip
    assert note.status == 200, f"a note posted on B answered {note.status}: {note.text[:200]}"
    notes = ctx.deployment.scalar("SELECT count(*) FROM cases_message WHERE case_id = %s AND body_text = 'From B'",
                                  (case_id,))  # fmt: skip
    assert notes == 1, f"{notes} notes stored"
    return "B served the inbox and took a note with A's session and CSRF cookie"


def check_sign_in_throttle(ctx: Context) -> str:
    """Failed sign-ins through A and B count together: the limit is the installation's, not each server's."""
    name = f"nobody-{secrets.token_hex(3)}"
    limit = 5  # CASELOOP_LOGIN_MAX_FAILURES's default
    answers = []
    for attempt in range(limit + 1):
        guesser = Client()
        port = (ctx.a, ctx.b)[attempt % 2]
        page = guesser.request(port, "GET", "/login/")
        form = {"identifier": name, "password": "wrong", "csrfmiddlewaretoken": _csrf_from(page.text)}
        answers.append(guesser.request(port, "POST", "/login/", form=form).status)
    assert answers == [400] * limit + [429], f"answers {answers}"
    return f"{limit} failures spread over A and B, then locked (429) on the next attempt"


def check_tokens(ctx: Context) -> str:
    """A token made on A works on B; revoked on B, A refuses it on the next request."""
    assert ctx.browser is not None
    made = ctx.browser.request(ctx.a, "POST", f"{API}/tokens", body={"name": "multiprocess"})
    assert made.status == 201, f"creating a token on A answered {made.status}: {made.text[:200]}"
    ctx.api = Client(token=made.json()["token"])
    for name, port in (("A", ctx.a), ("B", ctx.b)):
        me = ctx.api.request(port, "GET", f"{API}/me")
        assert me.status == 200, f"{name} answered {me.status} to the new token"
    spare = Client(token=ctx.browser.request(ctx.a, "POST", f"{API}/tokens", body={"name": "spare"}).json()["token"])
    listed = spare.request(ctx.a, "GET", f"{API}/tokens").json()["items"]
    spare_id = next(t["id"] for t in listed if t["name"] == "spare")
    assert spare.request(ctx.a, "GET", f"{API}/me").status == 200  # A now holds it in its cache
    revoked = spare.request(ctx.b, "DELETE", f"{API}/tokens/{spare_id}")
    assert revoked.status == 204, f"revoking on B answered {revoked.status}"
    after = spare.request(ctx.a, "GET", f"{API}/me")
    assert after.status == 401, f"A answered {after.status} to the token revoked on B"
    return "made on A, used on B; revoked on B, refused by A on the next request (401)"


def check_idempotency(ctx: Context) -> str:
    """One Idempotency-Key sent to A and B at once makes one case."""
    assert ctx.api is not None
    api = ctx.api
    made: list[Answer] = []
    for round_number in range(5):
        key, subject = f"mp-{secrets.token_hex(8)}", f"Idempotent {round_number} {secrets.token_hex(4)}"
        body = {"subject": subject, "requester": {"email": "same@customer.multiprocess.example"},
                "message": {"body_text": "once"}}  # fmt: skip
        gate = threading.Barrier(2)

        def send(port: int, key: str = key, body: dict[str, Any] = body, gate: threading.Barrier = gate) -> None:
            gate.wait()
            made.append(api.request(port, "POST", f"{API}/cases", body=body, headers={"Idempotency-Key": key}))

        threads = [threading.Thread(target=send, args=(port,)) for port in (ctx.a, ctx.b)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        count = ctx.deployment.scalar("SELECT count(*) FROM cases_case WHERE subject = %s", (subject,))
        assert count == 1, f"round {round_number}: {count} cases for one key"
    statuses = sorted(answer.status for answer in made)
    assert set(statuses) <= {201, 409}, f"answers {statuses}"
    replayed = sum(answer.headers.get("idempotent-replayed") == "true" for answer in made)
    return f"5 rounds, one case each; answers {statuses}, {replayed} of them replays"


def check_concurrent_creates(ctx: Context) -> str:
    """Creates through both servers at once: no errors, no number given twice."""
    assert ctx.api is not None
    api = ctx.api
    answers: list[Answer] = []
    tag = secrets.token_hex(4)

    def creator(port: int, index: int) -> None:
        for n in range(15):
            answers.append(_case(api, port, f"Concurrent {tag} {index}-{n}"))

    threads = [threading.Thread(target=creator, args=(port, i)) for i, port in enumerate((ctx.a, ctx.b, ctx.a, ctx.b))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    bad = [f"{a.status} {a.text[:120]}" for a in answers if a.status != 201]
    assert not bad, f"{len(bad)} failed: {bad[:3]}"
    numbers = [a.json()["number"] for a in answers]
    assert len(set(numbers)) == len(numbers) == 60, f"{len(numbers)} answers, {len(set(numbers))} numbers"
    stored = ctx.deployment.scalar("SELECT count(*) FROM cases_case WHERE subject LIKE %s", (f"Concurrent {tag} %",))
    assert stored == 60, f"{stored} stored"
    return "60 creates (4 clients over A and B): 60 cases, 60 numbers"


def check_attachment(ctx: Context) -> str:
    """A file uploaded through A is downloaded through B (the attachments folder is shared)."""
    assert ctx.api is not None and ctx.browser is not None
    content = secrets.token_bytes(2048)
    encoded = base64.b64encode(content).decode()
    upload = {"filename": "readings.bin", "content_type": "application/octet-stream", "content_base64": encoded}
    made = _case(ctx.api, ctx.a, "Attachment", message={"body_text": "See the photo", "attachments": [upload]})
    assert made.status == 201, f"creating on A answered {made.status}: {made.text[:200]}"
    listed = ctx.api.request(ctx.b, "GET", f"{API}/cases/{made.json()['id']}/messages").json()["items"]
    link = listed[0]["attachments"][0]["id"]
    download = ctx.browser.request(ctx.b, "GET", f"/attachments/{link}/")
    assert download.status == 200 and download.body == content, f"B answered {download.status}"
    return "uploaded through the API on A, the same bytes downloaded on B"


def check_custom_field(ctx: Context) -> str:
    """A custom field added through A is known to B at its next create."""
    assert ctx.api is not None
    key = f"mp_{secrets.token_hex(3)}"
    before = _case(ctx.api, ctx.b, "Field before", custom_fields={key: "blue"})
    assert before.status == 422, f"B took an unknown field: {before.status}"
    field = {"key": key, "label": "Colour", "field_type": "choice", "choices": ["blue"]}
    made = ctx.api.request(ctx.a, "POST", f"{API}/custom-fields", body=field)
    assert made.status == 201, f"creating the field on A answered {made.status}"
    after = _case(ctx.api, ctx.b, "Field after", custom_fields={key: "blue"})
    assert after.status == 201, f"B refused the new field: {after.status} {after.text[:200]}"
    wrong = _case(ctx.api, ctx.b, "Field wrong", custom_fields={key: "red"})
    assert wrong.status == 422, f"B took a value outside the choices: {wrong.status}"
    return "unknown to B before, used on B right after A added it"


def check_sla_policy(ctx: Context) -> str:
    """An SLA policy added through A applies to B's next case."""
    assert ctx.api is not None
    name = f"Multiprocess {secrets.token_hex(3)}"
    first = _case(ctx.api, ctx.b, "SLA before", priority="urgent")
    assert first.status == 201
    made = ctx.api.request(ctx.a, "POST", f"{API}/sla/policies", body={
        "name": name, "position": 0, "priorities": ["urgent"], "channels": ["api"],
        "first_response_minutes": 600, "resolution_minutes": 6000})  # fmt: skip
    assert made.status == 201, f"creating the policy on A answered {made.status}: {made.text[:200]}"
    case = _case(ctx.api, ctx.b, "SLA after", priority="urgent")
    assert case.status == 201
    sla = ctx.api.request(ctx.b, "GET", f"{API}/cases/{case.json()['id']}/sla")
    assert sla.status == 200 and sla.json()["policy"] == name, f"B's case got {sla.text[:200]}"
    return f"B's next urgent case runs on {name!r}"


def check_rule(ctx: Context) -> str:
    """An integrity rule added through A refuses B's next matching action."""
    assert ctx.api is not None
    case = _case(ctx.api, ctx.b, "Rule target")
    case_id = case.json()["id"]
    ok = ctx.api.request(ctx.b, "PATCH", f"{API}/cases/{case_id}", body={"status": "open"})
    assert ok.status == 200, f"the first change on B answered {ok.status}: {ok.text[:200]}"
    condition = f'case.id == {case_id} and action.to_status == "pending"'
    made = ctx.api.request(ctx.a, "POST", f"{API}/rules", body={
        "name": f"Multiprocess {secrets.token_hex(3)}", "explanation": "Not this case.", "kind": "integrity",
        "applies_to": ["status_change"], "condition": condition})  # fmt: skip
    assert made.status == 201, f"creating the rule on A answered {made.status}: {made.text[:200]}"
    refused = ctx.api.request(ctx.b, "PATCH", f"{API}/cases/{case_id}", body={"status": "pending"})
    assert refused.status == 403 and refused.json().get("code") == "integrity_rule", (
        f"B answered {refused.status}: {refused.text[:200]}"
    )
    return "B refused the change at once (403 integrity_rule)"


def check_chat(ctx: Context) -> str:
    """Chat across servers: the visitor on A, the rep on B, and back (ADR 0061)."""
    assert ctx.browser is not None
    browser = ctx.browser
    page = browser.request(ctx.a, "GET", "/chat/widgets/")
    made = browser.request(ctx.a, "POST", "/chat/widgets/", form={
        "csrfmiddlewaretoken": _csrf_from(page.text), "name": "Multiprocess", "allowed_origins": ORIGIN,
        "greeting": "Hi", "offline_text": "Later", "hours": "", "time_zone": "UTC", "active": "on"})  # fmt: skip
    assert made.status == 302, f"creating the widget on A answered {made.status}"
    key = ctx.deployment.scalar("SELECT key FROM chat_channel_chatwidget WHERE name = 'Multiprocess'")
    assert browser.request(ctx.b, "GET", "/chat/").status == 200  # opening the queue changes nothing (ADR 0076)
    took = browser.request(ctx.b, "POST", "/chat/", form={"away": "0"})  # Take chats: the rep is there (seen by B)
    assert took.status == 302, f"taking chats on B answered {took.status}"
    visitor = Client()
    widget = f"/chat/api/{key}/"
    origin = {"Origin": ORIGIN}
    started = visitor.request(ctx.a, "POST", widget + "chats/", body={"text": "Hello from A", "name": "Vi"},
                              headers=origin)  # fmt: skip
    assert started.status == 201, f"starting the chat on A answered {started.status}: {started.text[:200]}"
    token, case_id = started.json()["token"], int(started.json()["case"].split("-")[-1])
    last = max(m["id"] for m in started.json()["messages"])
    said = visitor.request(ctx.a, "POST", widget + "chat/messages/", body={"text": "Second line via A"},
                           headers={**origin, "X-Chat-Token": token})  # fmt: skip
    assert said.status == 201, f"the visitor's message on A answered {said.status}"
    panel = browser.request(ctx.b, "GET", f"/chat/cases/{case_id}/?after={last}", headers={"HX-Request": "true"})
    assert panel.status == 200 and "Second line via A" in panel.text, "B's chat panel lacks the visitor's message"
    reply = browser.request(ctx.a, "POST", f"/cases/{case_id}/messages/", form={"kind": "reply", "body": "Rep via A"},
                            headers={"HX-Request": "true"})  # fmt: skip
    assert reply.status == 200, f"the rep's reply on A answered {reply.status}"
    stream = _read_stream(ctx.b, widget + f"chat/stream/?token={token}&after={said.json()['id']}", until="Rep via A")
    assert "Rep via A" in stream, f"B's stream lacked the reply: {stream[:300]}"
    return "visitor's message via A in B's rep panel; rep's reply via A on B's stream"


def _read_stream(port: int, path: str, *, until: str, seconds: float = 10) -> str:
    """The server-sent events read from `path` until `until` shows up (or `seconds` pass)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=seconds)
    seen = ""
    try:
        conn.request("GET", path, headers={"Origin": ORIGIN, "Accept": "text/event-stream"})
        response = conn.getresponse()
        deadline = time.monotonic() + seconds
        while until not in seen and time.monotonic() < deadline:
            line = response.fp.readline()
            if not line:
                break
            seen += line.decode(errors="replace")
    except TimeoutError:
        pass
    finally:
        conn.close()
    return seen


def check_promise(ctx: Context) -> str:
    """A promise past due is broken once, with one notice and one pair of timeline rows, by two ticking workers."""
    assert ctx.api is not None
    case = _case(ctx.api, ctx.a, "Promise").json()
    due = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)).isoformat()
    body = {"case": str(case["id"]), "kind": "call_back", "description": "Call at two", "due_at": due}
    made = ctx.api.request(ctx.a, "POST", f"{API}/promises", body=body)
    assert made.status == 201, f"making the promise answered {made.status}: {made.text[:200]}"
    promise = made.json()["id"]
    db = ctx.deployment
    assert _wait(lambda: db.scalar("SELECT state FROM promises_promise WHERE id = %s", (promise,)) == "broken",
                 ctx.tick * 4 + 10), "not broken in time"  # fmt: skip
    time.sleep(ctx.tick * 2 + 1)  # both workers have had their rounds since
    notices = db.scalar("SELECT count(*) FROM promises_notice WHERE promise_id = %s AND kind = 'broken'", (promise,))
    events = db.scalar("SELECT count(*) FROM timeline_timelineevent WHERE kind = 'promise.broken' AND case_id = %s",
                       (case["id"],))  # fmt: skip
    assert notices == 1 and events == 2, f"{notices} owner notices, {events} timeline rows"
    return "broken once: 1 owner notice, 2 timeline rows (case and customer)"


def check_sla_breaches(ctx: Context) -> str:
    """Every missed SLA target is recorded once, whichever worker found it."""
    twice = ctx.deployment.scalar(
        "SELECT count(*) FROM (SELECT case_id, data->>'target' FROM timeline_timelineevent WHERE kind = 'sla.breached' "
        "AND subject_kind = 'case' GROUP BY 1, 2 HAVING count(*) > 1) AS doubled"
    )
    total = ctx.deployment.scalar("SELECT count(*) FROM timeline_timelineevent WHERE kind = 'sla.breached'")
    assert total, "no breach recorded at all"
    assert twice == 0, f"{twice} targets recorded as missed more than once"
    return f"{total} breaches, none twice"


def check_survey(ctx: Context) -> str:
    """A case solved through B gets one survey, sent once, by two workers."""
    assert ctx.api is not None
    for rule in ctx.api.request(ctx.a, "GET", f"{API}/feedback/survey-rules").json():  # sent at once, every time
        changed = ctx.api.request(ctx.a, "PATCH", f"{API}/feedback/survey-rules/{rule['id']}",
                                  body={"delay_minutes": 0, "fatigue_days": 0})  # fmt: skip
        assert changed.status == 200, f"changing survey rule {rule['id']} answered {changed.status}"
    case_ids = []
    for n in range(5):
        case_id = _case(ctx.api, ctx.a, f"Survey {n}").json()["id"]
        reply = ctx.api.request(ctx.a, "POST", f"{API}/cases/{case_id}/messages",
                                body={"direction": "outbound", "body_text": "Fixed."})  # fmt: skip
        assert reply.status == 201, f"reply answered {reply.status}: {reply.text[:200]}"
        solved = ctx.api.request(ctx.b, "PATCH", f"{API}/cases/{case_id}", body={"status": "solved"})
        assert solved.status == 200, f"solving on B answered {solved.status}: {solved.text[:200]}"
        case_ids.append(case_id)
    db = ctx.deployment

    def sent() -> int:
        return int(db.scalar("SELECT count(*) FROM feedback_survey WHERE case_id = ANY(%s) AND sent_at IS NOT NULL",
                             (case_ids,)))  # fmt: skip

    assert _wait(lambda: sent() == len(case_ids), 30), f"{sent()} of {len(case_ids)} surveys sent"
    time.sleep(3)
    surveys = db.scalar("SELECT count(*) FROM feedback_survey WHERE case_id = ANY(%s)", (case_ids,))
    messages = db.scalar("SELECT count(*) FROM cases_message WHERE case_id = ANY(%s) AND direction = 'outbound'",
                         (case_ids,))  # fmt: skip
    assert surveys == len(case_ids), f"{surveys} surveys for {len(case_ids)} cases"
    assert messages == 2 * len(case_ids), f"{messages} outbound messages (a reply and a survey each expected)"
    return f"{len(case_ids)} solved cases: {surveys} surveys, each sent once"


def check_tasks(ctx: Context) -> str:
    """Every queued task ran once: none failed, none is left running."""
    rows = dict(_rows(ctx.deployment, "SELECT status, count(*) FROM django_tasks_database_dbtaskresult GROUP BY 1"))
    assert not rows.get("FAILED"), f"failed tasks: {rows}"
    return f"task results by state: {rows}"


def _rows(db: Deployment, sql: str) -> list[tuple[Any, ...]]:
    with db.db() as conn:
        return list(conn.execute(sql).fetchall())


def check_portal(ctx: Context) -> str:
    """A portal sign-in link asked for on A (and mailed by a worker) signs in on B."""
    assert ctx.api is not None
    email = f"portal-{secrets.token_hex(3)}@customer.multiprocess.example"
    made = ctx.api.request(ctx.a, "POST", f"{API}/contacts", body={
        "name": "Pat Portal", "identities": [{"kind": "email", "value": email, "is_primary": True}]})  # fmt: skip
    assert made.status == 201, f"the contact answered {made.status}: {made.text[:200]}"
    customer = Client()
    page = customer.request(ctx.a, "GET", "/portal/sign-in/")
    asked = customer.request(ctx.a, "POST", "/portal/sign-in/",
                             form={"email": email, "csrfmiddlewaretoken": _csrf_from(page.text)})  # fmt: skip
    assert asked.status == 200, f"asking for a link on A answered {asked.status}"
    # a worker makes and mails the link (ADR 0076), so it is in one of the workers' mail logs
    logs = [ctx.deployment.logs[name] for name in ("worker1", "worker2")]
    pattern = re.compile(r"/portal/sign-in/([^/\s\"<>]{20,})/")

    def links() -> list[str]:
        return [token for log in logs if log.exists() for token in pattern.findall(log.read_text(errors="replace"))]

    assert _wait(lambda: bool(links()), 20), "no link in the workers' mail logs"
    token = links()[-1]
    shown = customer.request(ctx.b, "GET", f"/portal/sign-in/{token}/")
    assert shown.status == 200, f"B showed the link's page with {shown.status}"
    used = customer.request(ctx.b, "POST", f"/portal/sign-in/{token}/",
                            form={"csrfmiddlewaretoken": _csrf_from(shown.text)})  # fmt: skip
    assert used.status == 302, f"B answered {used.status} to the link"
    home = customer.request(ctx.a, "GET", "/portal/")
    assert home.status == 200, f"the portal on A answered {home.status} after signing in on B"
    return "link from A's email used on B; the session then works on A"


CHECKS: list[tuple[str, Check]] = [
    ("session from A works on B (page, CSRF POST)", check_session),
    ("sign-in failures through A and B count together", check_sign_in_throttle),
    ("API token: made on A, used on B; revoked on B, refused on A", check_tokens),
    ("one Idempotency-Key on A and B at once: one case", check_idempotency),
    ("concurrent creates on A and B: no errors, no duplicate numbers", check_concurrent_creates),
    ("attachment uploaded on A: downloaded on B", check_attachment),
    ("custom field added on A: seen by B at once", check_custom_field),
    ("SLA policy added on A: applied by B at once", check_sla_policy),
    ("integrity rule added on A: enforced by B at once", check_rule),
    ("chat: visitor on A reaches the rep on B, and back", check_chat),
    ("two ticking workers: a promise is broken once", check_promise),
    ("two ticking workers: each SLA breach recorded once", check_sla_breaches),
    ("two workers: one survey per solved case, sent once", check_survey),
    ("queued tasks: none failed", check_tasks),
    ("portal sign-in link from A works on B", check_portal),
]


def run_checks(ctx: Context) -> int:
    failures = 0
    for name, check in CHECKS:
        started = time.monotonic()
        try:
            detail = check(ctx)
        except Exception as error:  # a failed check must not stop the others
            failures += 1
            print(f"FAIL  {name}: {type(error).__name__}: {error}", flush=True)
        else:
            print(f"PASS  {name}: {detail} ({time.monotonic() - started:.1f} s)", flush=True)
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True,
                        help="a PostgreSQL URL; the check makes its own database beside the named one")  # fmt: skip
    parser.add_argument("--cases", type=int, default=300, help="demo cases to load (default 300)")
    parser.add_argument("--tick", type=int, default=2, help="the workers' --tick seconds (default 2)")
    parser.add_argument("--keep", action="store_true", help="keep the database and the data folders")
    args = parser.parse_args(argv)
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("--database-url must be a PostgreSQL URL (several servers on one database)")
    with deployed(args.database_url, cases=args.cases, tick=args.tick, keep=args.keep) as deployment:
        print(f"A on :{deployment.servers['a']}, B on :{deployment.servers['b']}, two workers with --tick "
              f"{args.tick}; data folders in {deployment.folder}", flush=True)  # fmt: skip
        failures = run_checks(Context(deployment=deployment, tick=args.tick))
    print(f"{len(CHECKS) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
