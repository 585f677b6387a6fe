from __future__ import annotations

from typing import ClassVar

from django.db import models


class Row(models.Model):
    """A row the size of a case subject plus a short message; its table is made by `create_table`."""

    subject = models.CharField(max_length=300)
    body = models.TextField()
    created_at = models.DateTimeField()

    # declared so type checkers that load caseloop's settings (where this app is absent) know it
    objects: ClassVar[models.Manager[Row]] = models.Manager()

    class Meta:
        app_label = "framework"
        db_table = "bench_framework_row"

    def __str__(self) -> str:
        return self.subject
