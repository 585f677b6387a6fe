"""Cheaper indexes to write on the two tables every create writes.

Ascending instead of descending (a new case lands on the right edge, where
SQLite appends, rather than splitting pages at the left edge; both databases
walk an index backwards for "newest first"), and the links most rows lack
(a case's organization, site, asset and partner; a message's author user or
contact) indexed only where set. The plain foreign-key indexes are dropped by
name, as in 0005: on SQLite AlterField would rebuild the whole table.
"""


from typing import Any

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

DROPPED = [  # (index, table, column): Django's own names for the foreign-key indexes, the same on both databases
    ("cases_case_organization_id_cb1292e0", "cases_case", "organization_id"),
    ("cases_case_site_id_b0299057", "cases_case", "site_id"),
    ("cases_case_asset_id_1541b39d", "cases_case", "asset_id"),
    ("cases_message_author_user_id_1d63318b", "cases_message", "author_user_id"),
    ("cases_message_author_contact_id_ed74cdc9", "cases_message", "author_contact_id"),
]


def analyze_on_sqlite(apps: Any, schema_editor: Any) -> None:
    """SQLite keeps no statistics for a new index until ANALYZE; the planner would guess (PostgreSQL's
    statistics are per column, kept by autovacuum)."""
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("ANALYZE cases_case")
        schema_editor.execute("ANALYZE cases_message")


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0005_drop_indexes_covered_by_composites"),
        ("customers", "0003_contact_name_search"),
        ("identity", "0002_web_workspace"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="case",
            name="case_status_newest",
        ),
        migrations.RemoveIndex(
            model_name="case",
            name="case_requester_newest",
        ),
        migrations.RemoveIndex(
            model_name="case",
            name="case_partner_newest",
        ),
        migrations.RemoveIndex(
            model_name="case",
            name="case_updated_newest",
        ),
        migrations.RemoveIndex(
            model_name="case",
            name="case_open_newest",
        ),
        migrations.RemoveIndex(
            model_name="case",
            name="case_open_updated",
        ),
        migrations.RemoveIndex(
            model_name="case",
            name="case_team_open_newest",
        ),
        migrations.RemoveIndex(
            model_name="case",
            name="case_assignee_open_newest",
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    sql=f'DROP INDEX IF EXISTS "{index}"',
                    reverse_sql=f'CREATE INDEX IF NOT EXISTS "{index}" ON "{table}" ("{column}")',
                )
                for index, table, column in DROPPED
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="case",
                    name="asset",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="cases",
                        to="customers.asset",
                    ),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="organization",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="cases",
                        to="customers.organization",
                    ),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="site",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="cases",
                        to="customers.site",
                    ),
                ),
                migrations.AlterField(
                    model_name="message",
                    name="author_contact",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="messages",
                        to="customers.contact",
                    ),
                ),
                migrations.AlterField(
                    model_name="message",
                    name="author_user",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["is_open", "id"], name="case_open_newest"),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["is_open", "updated_at", "id"], name="case_open_updated"),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["team", "is_open", "id"], name="case_team_open_newest"),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["assignee", "is_open", "id"], name="case_assignee_open_newest"),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["status", "id"], name="case_status_newest"),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["requester", "id"], name="case_requester_newest"),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                condition=models.Q(("partner__isnull", False)), fields=["partner", "id"], name="case_partner_newest"
            ),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["updated_at", "id"], name="case_updated_newest"),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                condition=models.Q(("organization__isnull", False)), fields=["organization"], name="case_organization"
            ),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(condition=models.Q(("site__isnull", False)), fields=["site"], name="case_site"),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(condition=models.Q(("asset__isnull", False)), fields=["asset"], name="case_asset"),
        ),
        migrations.AddIndex(
            model_name="message",
            index=models.Index(
                condition=models.Q(("author_user__isnull", False)), fields=["author_user"], name="message_author_user"
            ),
        ),
        migrations.AddIndex(
            model_name="message",
            index=models.Index(
                condition=models.Q(("author_contact__isnull", False)),
                fields=["author_contact"],
                name="message_author_contact",
            ),
        ),
        migrations.RunPython(analyze_on_sqlite, migrations.RunPython.noop),
    ]
