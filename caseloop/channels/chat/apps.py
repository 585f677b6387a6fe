from django.apps import AppConfig


class ChatChannelConfig(AppConfig):
    name = "caseloop.channels.chat"
    label = "chat_channel"
    verbose_name = "Live chat channel"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        import caseloop.channels.chat.adapter  # noqa: F401  (registers the channel adapter)
