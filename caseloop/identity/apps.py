from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "caseloop.identity"
    label = "identity"
    verbose_name = "Identity"
