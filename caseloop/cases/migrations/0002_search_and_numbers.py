"""Full-text search structures, and case numbers starting at 10001."""

from django.db import migrations


def forwards(apps, schema_editor):
    from caseloop.cases.search import ensure_search_schema

    connection = schema_editor.connection
    ensure_search_schema(connection)
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT count(*) FROM sqlite_sequence WHERE name = 'cases_case'")
            if cursor.fetchone()[0] == 0:
                cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('cases_case', 10000)")
        elif connection.vendor == "postgresql":
            cursor.execute("SELECT coalesce(max(id), 0) FROM cases_case")
            if cursor.fetchone()[0] < 10000:
                cursor.execute("ALTER TABLE cases_case ALTER COLUMN id RESTART WITH 10001")


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=False)]
