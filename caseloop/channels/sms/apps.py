from django.apps import AppConfig


class SmsChannelConfig(AppConfig):
    name = "caseloop.channels.sms"
    label = "sms_channel"
    verbose_name = "SMS channel"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        import caseloop.channels.sms.adapter  # noqa: F401  (registers the channel adapter)
