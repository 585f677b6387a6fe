"""Drop three single-column indexes that composite indexes already lead with.

case_requester_newest (requester_id, id), case_partner_newest (partner_id, id)
and message_case_order (case_id, id) answer every lookup the plain foreign-key
indexes did, so each create wrote three index entries for nothing. The indexes
are dropped by name rather than by AlterField: on SQLite AlterField rebuilds the
whole table (every case and message copied) to change an index.
"""

import django.db.models.deletion
from django.db import migrations, models

DROPPED = [  # (index, table, column): Django's own names for the foreign-key indexes, the same on both databases
    ("cases_case_requester_id_1c34c677", "cases_case", "requester_id"),
    ("cases_case_partner_id_b74a222e", "cases_case", "partner_id"),
    ("cases_message_case_id_544aca6d", "cases_message", "case_id"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0004_case_is_open"),
        ("customers", "0003_contact_name_search"),
    ]

    operations = [
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
                    name="partner",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="partner_cases",
                        to="customers.organization",
                    ),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="requester",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="cases",
                        to="customers.contact",
                    ),
                ),
                migrations.AlterField(
                    model_name="message",
                    name="case",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="messages",
                        to="cases.case",
                    ),
                ),
            ],
        ),
    ]
