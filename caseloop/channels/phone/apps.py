from django.apps import AppConfig


class PhoneChannelConfig(AppConfig):
    name = "caseloop.channels.phone"
    label = "phone_channel"
    verbose_name = "Phone channel"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        import caseloop.channels.phone.adapter  # noqa: F401  (registers the channel adapter)
