from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "caseloop.customers"
    label = "customers"
    verbose_name = "Customers, sites and assets"
