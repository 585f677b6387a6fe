from django.apps import AppConfig


class WebFormChannelConfig(AppConfig):
    name = "caseloop.channels.webform"
    label = "webform_channel"
    verbose_name = "Web form channel"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # registering the adapter lets replies to web-form cases reach the customer (by email)
        import caseloop.channels.webform.adapter  # noqa: F401
