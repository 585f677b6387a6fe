from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "caseloop.sla"
    label = "sla"
    verbose_name = "Service levels and business calendars"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # the listeners of the cases domain's events (opened, a message, a status change)
        import caseloop.sla.events  # noqa: F401
