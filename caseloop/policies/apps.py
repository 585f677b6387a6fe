from django.apps import AppConfig


class PoliciesConfig(AppConfig):
    name = "caseloop.policies"
    label = "policies"
    verbose_name = "Rules, overrides, authority limits and approvals"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # the guard the cases domain asks before a status change
        import caseloop.policies.events  # noqa: F401
