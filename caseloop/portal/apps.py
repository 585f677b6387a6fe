from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "caseloop.portal"
    label = "portal"
    verbose_name = "Customer portal"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # registering the adapter lets replies to portal cases reach the customer (by email)
        import caseloop.portal.adapter  # noqa: F401
