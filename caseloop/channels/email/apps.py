from django.apps import AppConfig


class EmailChannelConfig(AppConfig):
    name = "caseloop.channels.email"
    label = "email_channel"
    verbose_name = "Email channel"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # registering the adapter also subscribes the registry's outbound dispatcher
        import caseloop.channels.email.adapter  # noqa: F401
