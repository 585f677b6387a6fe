"""Word-prefix search over contact names (FTS5 / tsvector)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from caseloop.customers.search import ensure_contact_search_schema

    ensure_contact_search_schema(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_web_workspace")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=False)]
