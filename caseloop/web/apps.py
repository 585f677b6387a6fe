from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "caseloop.web"
    label = "web"
    verbose_name = "Web workspace"
