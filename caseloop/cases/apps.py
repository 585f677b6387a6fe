from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_search_schema(using: str = "default", **_: Any) -> None:
    from django.db import connections

    from caseloop.cases.numbering import ensure_case_numbering
    from caseloop.cases.search import ensure_search_schema
    from caseloop.core.stamps import ensure_stamps

    ensure_search_schema(connections[using])
    ensure_case_numbering(connections[using])
    ensure_stamps(connections[using])


class CasesConfig(AppConfig):
    name = "caseloop.cases"
    label = "cases"
    verbose_name = "Cases and messages"

    def ready(self) -> None:
        from caseloop.core.stamps import watch

        # every create reads the definitions: cached per process, checked against a stamp (core.stamps)
        watch("cases_customfielddefinition")
        # SQLite rebuilds a table to alter it, dropping its FTS and stamp triggers and restarting its id
        # sequence; put them back
        post_migrate.connect(_ensure_search_schema, sender=self, dispatch_uid="cases.ensure_search_schema")
