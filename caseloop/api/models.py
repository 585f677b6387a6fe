"""What the API itself keeps: the first answer to each idempotent POST."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class IdempotencyKey(models.Model):
    """The stored result of a POST sent with an `Idempotency-Key` header.

    A retry with the same key and the same request gets this response again
    instead of a second create; the same key with another request is refused.
    Rows older than a day are deleted by `caseloop.api.idempotency.expire_keys`.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # SHA-256 of method, path and body: tells a retry from a different request under the same key
    request_hash = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    body = models.TextField()
    location = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user")]

    def __str__(self) -> str:
        return f"{self.key} ({self.status})"
