"""The visitor's live stream: server-sent events read from the database.

Every app server can serve any visitor: the stream polls the case's messages
(one indexed query every CASELOOP_CHAT_POLL_SECONDS), so a reply written
through another server reaches the visitor within one poll. Nothing is kept in
process memory but the count of open streams.

`caseloop serve` runs gunicorn with threaded workers, where an open stream
holds a thread. So a stream is bounded twice (ADR 0061):

- in time: it ends after CASELOOP_CHAT_STREAM_SECONDS and the browser
  reconnects with the id of the last event it got (`after=`/Last-Event-ID);
- in number: a process keeps at most CASELOOP_CHAT_STREAMS_PER_PROCESS
  streams open, and under `caseloop serve` always fewer than its request
  threads (none with the one thread per process it uses on SQLite); past
  that a stream sends what is new and ends at once with a longer `retry:`,
  so that visitor polls instead and the workspace keeps its threads.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

from django.conf import settings

from caseloop.channels.chat.actions import note_delivery
from caseloop.channels.chat.choices import ChatState
from caseloop.channels.chat.selectors import chat_state, visitor_messages
from caseloop.core import server

HEARTBEAT_SECONDS = 15  # a comment line keeps proxies from closing a quiet stream
SEEN_EVERY_SECONDS = 10  # how often a quiet stream notes that the visitor is still there
STATE_EVERY_SECONDS = 2  # how often a stream checks that the chat is still open
RETRY_MS = 1000  # reconnect delay after a held stream ends
POLL_RETRY_MS = 2000  # reconnect delay for a visitor served by polling (no free stream slot)

_lock = threading.Lock()
_open = 0


def stream_slots() -> int:
    """Streams this process may hold: the setting, and always one request thread fewer than it has."""
    slots = int(settings.CASELOOP_CHAT_STREAMS_PER_PROCESS)
    threads = server.request_threads()
    return slots if threads is None else max(0, min(slots, threads - 1))


def _take_slot() -> bool:
    global _open
    with _lock:
        if _open >= stream_slots():
            return False
        _open += 1
        return True


def _give_slot() -> None:
    global _open
    with _lock:
        _open = max(0, _open - 1)


def open_streams() -> int:
    return _open


def event(name: str, data: dict[str, Any], *, event_id: int | None = None) -> str:
    lines = [f"id: {event_id}"] if event_id is not None else []
    lines += [f"event: {name}", "data: " + json.dumps(data, separators=(",", ":"))]
    return "\n".join(lines) + "\n\n"


def events(*, chat_id: int, case_id: int, after: int) -> Iterator[str]:
    """The stream's body: messages after `after`, then new ones as they come, until time is up.

    A visitor who ended the chat elsewhere (another tab), or a rep who ended
    it, gets an `ended` event and the stream closes for good (no `retry`).
    """
    held = _take_slot()
    try:
        yield f"retry: {RETRY_MS if held else POLL_RETRY_MS}\n\n"
        deadline = time.monotonic() + float(settings.CASELOOP_CHAT_STREAM_SECONDS)
        poll = float(settings.CASELOOP_CHAT_POLL_SECONDS)
        last_seen_note = last_output = last_state_check = time.monotonic()
        first = True
        while True:
            rows = visitor_messages(case_id, after=after)
            for row in rows:
                yield event("message", row, event_id=row["id"])
                after = row["id"]
            now = time.monotonic()
            if rows or first or now - last_seen_note >= SEEN_EVERY_SECONDS:
                note_delivery(chat_id=chat_id, delivered_id=after)
                last_seen_note = now
            if rows:
                last_output = now
            # whether the chat ended is asked less often than for messages: it is one more query per poll
            last_round = not held or now >= deadline
            if first or last_round or now - last_state_check >= STATE_EVERY_SECONDS:
                last_state_check = now
                if chat_state(chat_id) != ChatState.OPEN:
                    yield event("ended", {"id": chat_id})
                    return
            first = False
            if last_round:
                return
            if now - last_output >= HEARTBEAT_SECONDS:
                yield ": still here\n\n"
                last_output = now
            time.sleep(poll)
    finally:
        if held:
            _give_slot()
