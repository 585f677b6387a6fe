from django.apps import AppConfig


class PromisesConfig(AppConfig):
    name = "caseloop.promises"
    label = "promises"
    verbose_name = "The promise ledger"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # the listeners of the cases domain's events (a person's reply keeps promises)
        import caseloop.promises.events  # noqa: F401
