"""`manage.py insights_refresh [--full]`: bring the dashboard's figures up to date (cron, or by hand)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from caseloop.insights.actions import refresh_insights


class Command(BaseCommand):
    help = "Refresh the precomputed figures of the insights dashboard (incrementally; --full rebuilds them)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--full", action="store_true", help="recompute every fact and every day")

    def handle(self, *args: Any, **options: Any) -> None:
        result = refresh_insights(full=options["full"])
        if result.skipped:
            self.stdout.write("Another refresh is running; nothing done.")
            return
        kind = "Full rebuild" if result.full else "Refresh"
        self.stdout.write(f"{kind}: {result.facts} case facts written, {result.removed} removed, "
                          f"{result.days} days summed, in {result.duration_ms} ms.")  # fmt: skip
