"""`caseloop smtpd`: the built-in SMTP receiver (aiosmtpd).

The asyncio server speaks SMTP; every database call runs in a worker thread
(Django's ORM is synchronous). RCPT is refused for addresses we do not serve
(once a mailbox is configured), DATA over the size limit is refused by the
server itself (552), and "250" is answered only after the raw message is
committed. A failure to store answers "451" so the sending server retries:
the message stays with the sender until we have it.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import ssl
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.conf import settings
from django.db import close_old_connections

from caseloop.channels.email.actions import accepts_recipient, ingest_email, max_message_bytes, process_pending
from caseloop.channels.email.choices import InboundSource

logger = logging.getLogger(__name__)
T = TypeVar("T")


class InboundHandler:
    """aiosmtpd handler: accept recipients we serve, store each message, then process it.

    `inline=True` parses and files the message before answering (simplest, and
    the SMTP client's retry covers a crash); `inline=False` queues processing
    as a task and answers as soon as the bytes are stored.
    """

    def __init__(self, *, inline: bool = True, workers: int = 4) -> None:
        self.inline = inline
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="smtpd-db")

    async def _run(self, function: Callable[..., T], /, **kwargs: Any) -> T:
        def call() -> T:
            close_old_connections()  # a long-lived worker thread must not reuse a dead connection
            return function(**kwargs)

        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    async def handle_RCPT(  # noqa: N802  (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        try:
            accepted = await self._run(accepts_recipient, address=address)
        except Exception:
            logger.exception("checking recipient %s failed", address)
            return "451 4.3.0 Temporary failure; try again later"
        if not accepted:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        raw = envelope.original_content
        if raw is None:
            content = envelope.content or b""
            raw = content if isinstance(content, bytes) else content.encode("utf-8", "surrogateescape")
        try:
            await self._run(self.accept, raw=raw, envelope_from=envelope.mail_from or "",
                            envelope_to=list(envelope.rcpt_tos))  # fmt: skip
        except Exception:
            logger.exception("storing a message from %s failed", envelope.mail_from)
            return "451 4.3.0 Could not store the message; try again later"
        return "250 2.0.0 Message accepted"

    def accept(self, *, raw: bytes, envelope_from: str, envelope_to: list[str]) -> None:
        """What one DATA does, callable without a socket (the ingest benchmark uses it)."""
        ingest_email(raw=raw, source=InboundSource.SMTP, envelope_from=envelope_from, envelope_to=envelope_to,
                     inline=self.inline)  # fmt: skip

    def close(self) -> None:
        self._executor.shutdown(wait=True)


def _tls_context() -> ssl.SSLContext | None:
    cert = getattr(settings, "CASELOOP_EMAIL_SMTPD_TLS_CERT", "")
    key = getattr(settings, "CASELOOP_EMAIL_SMTPD_TLS_KEY", "")
    if not cert or not key:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def make_controller(handler: InboundHandler, *, host: str, port: int) -> Controller:
    """An aiosmtpd server in its own thread (call start()/stop())."""
    return Controller(
        handler,
        hostname=host,
        port=port,
        data_size_limit=max_message_bytes(),
        enable_SMTPUTF8=True,
        tls_context=_tls_context(),
        ident="caseloop smtpd",
    )


def serve(*, host: str = "127.0.0.1", port: int = 2525, inline: bool = True) -> None:
    """Run until SIGINT/SIGTERM. Mail left unprocessed by a previous crash is processed first."""
    recovered = process_pending()
    if recovered:
        logger.warning("processed %d messages left from a previous run", recovered)
    handler = InboundHandler(inline=inline)
    controller = make_controller(handler, host=host, port=port)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    controller.start()
    print(f"caseloop smtpd listening on {host}:{port} (max {max_message_bytes()} bytes per message)", flush=True)
    try:
        stop.wait()
    finally:
        controller.stop()
        handler.close()
