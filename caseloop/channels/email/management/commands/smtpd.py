"""`caseloop smtpd [--host H] [--port P]` (also `manage.py smtpd`): the built-in SMTP receiver."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from caseloop.channels.email.smtpd import serve


class Command(BaseCommand):
    help = "Receive email for the support addresses over SMTP; each message is stored, then filed on a case."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=2525, help="port to listen on (default 2525)")
        parser.add_argument("--queue", action="store_true",
                            help="file messages through the task queue instead of before answering")  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        serve(host=options["host"], port=options["port"], inline=not options["queue"])
