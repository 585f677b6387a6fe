"""`caseloop fetchmail [--once] [--idle]` (also `manage.py fetchmail`): read the IMAP mailboxes."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from caseloop.channels.email.fetchmail import serve


class Command(BaseCommand):
    help = "Fetch mail from the mailboxes with IMAP settings over TLS; polls, or waits with IMAP IDLE."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="fetch once and exit")
        parser.add_argument("--idle", action="store_true", help="keep a connection per mailbox and wait with IDLE")
        parser.add_argument("--queue", action="store_true",
                            help="file messages through the task queue instead of at once")  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        serve(once=options["once"], idle=options["idle"], inline=not options["queue"])
