from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_stamps(using: str = "default", **_: Any) -> None:
    from django.db import connections

    from caseloop.core.stamps import ensure_stamps

    ensure_stamps(connections[using])


class SlaConfig(AppConfig):
    name = "caseloop.sla"
    label = "sla"
    verbose_name = "Service levels and business calendars"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from caseloop.core.stamps import watch

        # every new case reads the active policies and their calendars: cached per process, checked
        # against the tables' stamps (core.stamps); SQLite drops the triggers when it rebuilds a table
        watch("sla_slapolicy", "sla_businesscalendar")
        post_migrate.connect(_ensure_stamps, sender=self, dispatch_uid="sla.ensure_stamps")
        # the listeners of the cases domain's events (opened, a message, a status change)
        import caseloop.sla.events  # noqa: F401
