"""`manage.py feedback_sweep`: send the surveys and follow-ups that are due (cron, or where tasks cannot defer)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from caseloop.feedback.actions import send_due_follow_ups, send_due_surveys


class Command(BaseCommand):
    help = "Send every survey and follow-up whose time has come (the safety net behind the deferred tasks)."

    def handle(self, *args: Any, **options: Any) -> None:
        surveys, follow_ups = send_due_surveys(), send_due_follow_ups()
        self.stdout.write(f"{surveys} survey(s) and {follow_ups} follow-up(s) handled.")
