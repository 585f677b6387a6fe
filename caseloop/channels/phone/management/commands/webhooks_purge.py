"""`manage.py webhooks_purge`: forget processed provider webhook requests past CASELOOP_WEBHOOK_KEEP_DAYS."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from caseloop.channels.phone.actions import purge_webhooks


class Command(BaseCommand):
    help = "Delete processed provider webhook requests older than CASELOOP_WEBHOOK_KEEP_DAYS (failed ones are kept)."

    def handle(self, *args: Any, **options: Any) -> None:
        purged = purge_webhooks()
        self.stdout.write(f"webhooks: {purged} processed request{'' if purged == 1 else 's'} purged")
