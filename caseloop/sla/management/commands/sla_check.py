"""`manage.py sla_check`: record missed SLA targets and warn before the next ones are missed."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from caseloop.sla.actions import check_slas


class Command(BaseCommand):
    help = "Mark SLA targets past due as breached (on the case timeline) and warn about cases due soon."

    def handle(self, *args: Any, **options: Any) -> None:
        result = check_slas()
        self.stdout.write(f"sla: {result.breached} breached, {result.warned} warned")
