"""`manage.py promises_check`: one pass of the promise checker, then the apologies it queued."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from caseloop.promises.actions import send_apologies
from caseloop.promises.checker import check_promises


class Command(BaseCommand):
    help = "Mark overdue promises broken (and due ones at risk or reminded), then tell customers of broken ones."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--apologies", type=int, default=100, help="at most this many customer messages")

    def handle(self, *args: Any, **options: Any) -> None:
        result = check_promises()
        sent = send_apologies(limit=options["apologies"])
        self.stdout.write(
            f"promises: {result.kept} kept at due, {result.broken} broken, {result.at_risk} at risk, "
            f"{result.reminded} reminded, {result.notices} notices, {sent} apologies"
        )
