from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "caseloop.api"
    label = "api"
    verbose_name = "REST API"
