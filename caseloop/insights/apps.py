from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "caseloop.insights"
    label = "insights"
    verbose_name = "Insights: outcomes beside compliance"
    default_auto_field = "django.db.models.BigAutoField"
