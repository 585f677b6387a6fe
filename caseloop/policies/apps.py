from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_stamps(using: str = "default", **_: Any) -> None:
    from django.db import connections

    from caseloop.core.stamps import ensure_stamps

    ensure_stamps(connections[using])


class PoliciesConfig(AppConfig):
    name = "caseloop.policies"
    label = "policies"
    verbose_name = "Rules, overrides, authority limits and approvals"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from caseloop.core.stamps import watch

        # every guarded action reads the active rules, compiled: cached per process, checked against the
        # table's stamp (core.stamps), so an edit made through any process is seen by the next action
        watch("policies_rule")
        post_migrate.connect(_ensure_stamps, sender=self, dispatch_uid="policies.ensure_stamps")
        # the guard the cases domain asks before a status change
        import caseloop.policies.events  # noqa: F401
