from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_stamps(using: str = "default", **_: Any) -> None:
    from django.db import connections

    from caseloop.core.stamps import ensure_stamps

    ensure_stamps(connections[using])


class IdentityConfig(AppConfig):
    name = "caseloop.identity"
    label = "identity"
    verbose_name = "Identity"

    def ready(self) -> None:
        from caseloop.core.stamps import watch

        from .models import TOKEN_TABLES

        # every API request checks its bearer token: the token with its user is kept per process and
        # checked against both tables' stamps (core.stamps), so a revoked token or a deactivated user is
        # refused by every process from the moment the change commits
        watch(*TOKEN_TABLES)
        post_migrate.connect(_ensure_stamps, sender=self, dispatch_uid="identity.ensure_stamps")
