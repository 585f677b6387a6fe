from django.apps import AppConfig


class PricingConfig(AppConfig):
    name = "caseloop.pricing"
    label = "pricing"
    verbose_name = "Price book and quotes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # an approved (or declined) discount issues (or refuses) the quote waiting on it
        import caseloop.pricing.events  # noqa: F401
