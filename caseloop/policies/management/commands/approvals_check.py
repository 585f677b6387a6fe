"""`manage.py approvals_check`: remind approvers of requests due soon and escalate the missed ones."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from caseloop.policies.actions import check_approvals


class Command(BaseCommand):
    help = "Remind approvers shortly before a request is due; hand missed requests to the next approver."

    def handle(self, *args: Any, **options: Any) -> None:
        result = check_approvals()
        self.stdout.write(
            f"approvals: {result.reminded} reminded, {result.escalated} escalated, {result.exhausted} with nobody left"
        )
