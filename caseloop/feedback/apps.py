from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "caseloop.feedback"
    label = "feedback"
    verbose_name = "Surveys, follow-ups and recognition"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # the listeners of the cases domain's events (a solved case, an inbound message)
        import caseloop.feedback.events  # noqa: F401
