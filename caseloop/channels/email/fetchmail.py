"""`caseloop fetchmail`: read configured mailboxes over IMAP with TLS (polling, or IDLE).

For each mailbox the server's UIDs say what is new: everything above
`imap_last_uid` while UIDVALIDITY is unchanged (when it changes, the folder is
read again from the start and the stored digests drop what we already have).
Each message is fetched with BODY.PEEK[] (which does not mark it read),
stored and committed, and only then flagged \\Seen or moved to the archive
folder, and the mailbox's progress saved. A crash at any point fetches at
most one message again, and its bytes are recognised.

Each round also processes mail stuck in "received" and sends replies whose
retry time has come, so one `fetchmail` process is the email worker.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import imaplib
import logging
import select
import signal
import ssl
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import close_old_connections

from caseloop.channels.email.actions import (
    MIN_POLL_SECONDS,
    ingest_email,
    process_pending,
    record_imap_error,
    record_imap_progress,
    send_due_outbound,
)
from caseloop.channels.email.choices import InboundSource
from caseloop.channels.email.errors import EmailError
from caseloop.channels.email.models import Mailbox
from caseloop.channels.email.selectors import imap_password
from caseloop.core import clock

logger = logging.getLogger(__name__)

IDLE_SECONDS = 25 * 60  # RFC 2177: re-issue IDLE before the server's 30-minute inactivity timeout


class FetchError(Exception):
    """The IMAP server answered something other than OK."""


@dataclass(frozen=True, slots=True)
class FetchResult:
    mailbox: str
    fetched: int  # messages read from the server this round
    stored: int  # of those, new to us


def _ssl_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca_file = getattr(settings, "CASELOOP_EMAIL_IMAP_CA_FILE", "")
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


def connect(mailbox: Mailbox, *, timeout: float = 60) -> imaplib.IMAP4_SSL:
    """Log in over TLS (IMAPS), verifying the server's certificate and name."""
    try:
        password = imap_password(mailbox)
    except EmailError as exc:
        raise FetchError(exc.message) from exc  # recorded on the mailbox; the other mailboxes go on
    conn = imaplib.IMAP4_SSL(mailbox.imap_host, mailbox.imap_port, ssl_context=_ssl_context(), timeout=timeout)
    _ok(conn.login(mailbox.imap_username, password), "LOGIN")
    # servers announce more (MOVE, UIDPLUS …) once logged in; imaplib kept the greeting's list
    data = _ok(conn.capability(), "CAPABILITY")
    if data and isinstance(data[0], bytes):
        conn.capabilities = tuple(data[0].decode("ascii", "replace").upper().split())
    return conn


def _ok(response: tuple[str, Sequence[object]], what: str) -> Sequence[object]:
    status, data = response
    if status != "OK":
        raise FetchError(f"{what}: {status} {data!r}")
    return data


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _message_bytes(data: Sequence[object]) -> bytes | None:
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return item[1]
    return None


def fetch_mailbox(mailbox: Mailbox, *, conn: imaplib.IMAP4_SSL | None = None, inline: bool = True) -> FetchResult:
    """Fetch what is new in one mailbox's folder; store each message before touching it on the server."""
    own = conn is None
    conn = conn or connect(mailbox)
    fetched = stored = 0
    try:
        _ok(conn.select(_quote(mailbox.imap_folder)), f"SELECT {mailbox.imap_folder}")
        validity_data = conn.response("UIDVALIDITY")[1]
        uidvalidity = int(str(validity_data[0], "ascii")) if validity_data and validity_data[0] else 0
        last = mailbox.imap_last_uid if mailbox.imap_uidvalidity == uidvalidity else 0
        found = _ok(conn.uid("SEARCH", f"UID {last + 1}:*"), "UID SEARCH")
        first = found[0] if found else b""
        # "n:*" always matches the newest message, even when its UID is below n
        uids = sorted(int(u) for u in first.split() if int(u) > last) if isinstance(first, bytes) else []
        can_move = "MOVE" in conn.capabilities
        for uid in uids:
            data = _ok(conn.uid("FETCH", str(uid), "(UID BODY.PEEK[])"), f"UID FETCH {uid}")
            raw = _message_bytes(data)
            if raw is None:
                continue  # expunged meanwhile
            fetched += 1
            received = ingest_email(raw=raw, source=InboundSource.IMAP, envelope_to=[mailbox.address],
                                    mailbox=mailbox, inline=inline)  # fmt: skip
            stored += int(received.created)
            # the message is committed: now it may be marked on the server
            if mailbox.imap_archive_folder:
                if can_move:
                    _ok(conn.uid("MOVE", str(uid), _quote(mailbox.imap_archive_folder)), f"UID MOVE {uid}")
                else:
                    _ok(conn.uid("COPY", str(uid), _quote(mailbox.imap_archive_folder)), f"UID COPY {uid}")
                    _ok(conn.uid("STORE", str(uid), "+FLAGS.SILENT", r"(\Deleted \Seen)"), f"UID STORE {uid}")
                    conn.expunge()
            else:
                _ok(conn.uid("STORE", str(uid), "+FLAGS.SILENT", r"(\Seen)"), f"UID STORE {uid}")
            record_imap_progress(mailbox=mailbox, uidvalidity=uidvalidity, last_uid=uid)
        if not uids:
            record_imap_progress(mailbox=mailbox, uidvalidity=uidvalidity, last_uid=last)
    finally:
        if own:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                conn.logout()
    return FetchResult(mailbox=mailbox.address, fetched=fetched, stored=stored)


def wait_for_mail(conn: imaplib.IMAP4_SSL, *, timeout: float) -> bool:
    """IMAP IDLE (RFC 2177) on the selected folder: True when the server reports new mail
    within `timeout` seconds. Python 3.11's imaplib has no IDLE, so the command is spoken here."""
    tag = conn._new_tag().decode("ascii")
    conn.send(f"{tag} IDLE\r\n".encode("ascii"))
    first = conn.readline()
    if not first.startswith(b"+"):
        raise FetchError(f"IDLE refused: {first!r}")
    sock = conn.socket()
    deadline = time.monotonic() + timeout
    news = False
    try:
        while not news and (remaining := deadline - time.monotonic()) > 0:
            pending = sock.pending() if isinstance(sock, ssl.SSLSocket) else 0
            if not pending:
                readable, _, _ = select.select([sock], [], [], min(remaining, 1.0))
                if not readable:
                    continue
            line = conn.readline()
            if not line:
                raise FetchError("the server closed the connection during IDLE")
            news = line.startswith(b"*") and (b"EXISTS" in line or b"RECENT" in line)
    finally:
        conn.send(b"DONE\r\n")
        while True:
            line = conn.readline()
            if not line or line.startswith(tag.encode("ascii")):
                break
    return news


def _mailboxes() -> list[Mailbox]:
    return [m for m in Mailbox.objects.filter(active=True).exclude(imap_host="").order_by("id") if m.uses_imap]


def _is_due(mailbox: Mailbox, now: dt.datetime) -> bool:
    last = mailbox.imap_last_polled_at
    return last is None or (now - last).total_seconds() >= _poll_seconds(mailbox) - 1  # a tick's jitter


def run_once(*, inline: bool = True, due_only: bool = False) -> list[FetchResult]:
    """One round over every IMAP mailbox (with `due_only`, those whose poll interval has passed),
    then the sweeps; a failing mailbox does not stop the others."""
    results: list[FetchResult] = []
    now = clock.now()
    for mailbox in _mailboxes():
        if due_only and not _is_due(mailbox, now):
            continue
        try:
            results.append(fetch_mailbox(mailbox, inline=inline))
        except (FetchError, imaplib.IMAP4.error, OSError) as exc:
            logger.warning("fetching %s failed: %s", mailbox.address, exc)
            record_imap_error(mailbox=mailbox, error=f"{type(exc).__name__}: {exc}")
    process_pending()
    send_due_outbound()
    return results


def _idle_loop(mailbox: Mailbox, stop: threading.Event, inline: bool) -> None:
    backoff = 5.0
    while not stop.is_set():
        close_old_connections()
        try:
            conn = connect(mailbox)
            try:
                while not stop.is_set():
                    fetch_mailbox(mailbox, conn=conn, inline=inline)
                    backoff = 5.0
                    wait_for_mail(conn, timeout=min(IDLE_SECONDS, _poll_seconds(mailbox) * 5))
            finally:
                with contextlib.suppress(imaplib.IMAP4.error, OSError):
                    conn.logout()
        except (FetchError, imaplib.IMAP4.error, OSError) as exc:
            logger.warning("IDLE on %s failed: %s; reconnecting in %.0f s", mailbox.address, exc, backoff)
            record_imap_error(mailbox=mailbox, error=f"{type(exc).__name__}: {exc}")
            stop.wait(backoff)
            backoff = min(backoff * 2, 300.0)


def _poll_seconds(mailbox: Mailbox | None = None) -> int:
    """A mailbox's own poll interval, else CASELOOP_EMAIL_POLL_SECONDS."""
    if mailbox is not None and mailbox.poll_seconds:
        return mailbox.poll_seconds
    return int(getattr(settings, "CASELOOP_EMAIL_POLL_SECONDS", 60))


def _tick(mailboxes: Sequence[Mailbox]) -> int:
    """How long the poll loop sleeps: the shortest interval of any mailbox (each is polled when due)."""
    return max(MIN_POLL_SECONDS, min([_poll_seconds(), *(_poll_seconds(m) for m in mailboxes)]))


def serve(*, once: bool = False, idle: bool = False, inline: bool = True) -> None:
    """`caseloop fetchmail`: one round (--once), a poll of each mailbox at its interval, or IDLE
    (one connection per mailbox, each in its own thread) with the sweeps on the poll interval."""
    if once:
        for result in run_once(inline=inline):
            print(f"{result.mailbox}: {result.fetched} fetched, {result.stored} new", flush=True)
        return
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    threads: list[threading.Thread] = []
    if idle:
        for mailbox in _mailboxes():
            thread = threading.Thread(target=_idle_loop, args=(mailbox, stop, inline), name=f"idle-{mailbox.address}")
            thread.start()
            threads.append(thread)
    while not stop.is_set():
        close_old_connections()
        if idle:
            process_pending()
            send_due_outbound()
            stop.wait(_poll_seconds())
        else:
            run_once(inline=inline, due_only=True)
            stop.wait(_tick(_mailboxes()))
    for thread in threads:
        thread.join()
