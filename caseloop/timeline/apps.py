from django.apps import AppConfig


class TimelineConfig(AppConfig):
    name = "caseloop.timeline"
    label = "timeline"
    verbose_name = "Timeline and audit log"
