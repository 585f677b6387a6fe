"""`python -m bench.framework.create_table`: an empty row table, before the server starts."""

from __future__ import annotations

import os


def main() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.framework.settings"
    import django

    django.setup()
    from django.db import connection

    from bench.framework.models import Row

    with connection.schema_editor() as editor:
        if Row._meta.db_table in connection.introspection.table_names():
            editor.delete_model(Row)
        editor.create_model(Row)


if __name__ == "__main__":
    main()
