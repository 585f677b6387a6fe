from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "caseloop.feedback"
    label = "feedback"
    verbose_name = "Surveys, follow-ups and recognition"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # the listeners of the cases domain's events (a solved case, an inbound message)
        import caseloop.feedback.events  # noqa: F401

        # the survey outcome of cases, for the override review of the policies domain (which sits below)
        from caseloop.feedback.selectors import survey_outcome_of
        from caseloop.policies.outcomes import register_survey_outcome

        register_survey_outcome(survey_outcome_of)
