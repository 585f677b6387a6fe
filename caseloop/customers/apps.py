from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_contact_search_schema(using: str = "default", **_: Any) -> None:
    from django.db import connections

    from caseloop.customers.search import ensure_contact_search_schema

    ensure_contact_search_schema(connections[using])


class CustomersConfig(AppConfig):
    name = "caseloop.customers"
    label = "customers"
    verbose_name = "Customers, sites and assets"

    def ready(self) -> None:
        # SQLite rebuilds a table to alter it, dropping its FTS triggers; put them back
        post_migrate.connect(
            _ensure_contact_search_schema, sender=self, dispatch_uid="customers.ensure_contact_search_schema"
        )
