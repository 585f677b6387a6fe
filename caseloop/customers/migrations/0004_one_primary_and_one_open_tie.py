"""One primary identity of a kind per contact, one open tie of a role per person and site, held by the database.

Rows that broke either rule before it was enforced are mended first, losing nothing: the oldest primary of a
kind stays primary and the others become secondary; the earliest open tie stays open and a later duplicate is
closed on the day it began.
"""

from typing import Any

from django.db import migrations, models


def mend(apps: Any, schema_editor: Any) -> None:
    ContactIdentity = apps.get_model("customers", "ContactIdentity")
    SiteRelation = apps.get_model("customers", "SiteRelation")
    seen: set[tuple[int, str]] = set()
    for identity in ContactIdentity.objects.filter(is_primary=True).order_by("contact_id", "kind", "id"):
        key = (identity.contact_id, identity.kind)
        if key in seen:
            ContactIdentity.objects.filter(pk=identity.pk).update(is_primary=False)
        seen.add(key)
    open_ties: set[tuple[int, int, str]] = set()
    for tie in SiteRelation.objects.filter(valid_to__isnull=True).order_by("site_id", "contact_id", "role",
                                                                          "valid_from", "id"):  # fmt: skip
        key = (tie.site_id, tie.contact_id, tie.role)
        if key in open_ties:
            SiteRelation.objects.filter(pk=tie.pk).update(valid_to=tie.valid_from)
        open_ties.add(key)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0003_contact_name_search"),
    ]

    operations = [
        migrations.RunPython(mend, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="contactidentity",
            constraint=models.UniqueConstraint(
                condition=models.Q(("is_primary", True)),
                fields=("contact", "kind"),
                name="contact_identity_one_primary_per_kind",
            ),
        ),
        migrations.AddConstraint(
            model_name="siterelation",
            constraint=models.UniqueConstraint(
                condition=models.Q(("valid_to__isnull", True)),
                fields=("site", "contact", "role"),
                name="site_relation_one_open_tie_per_role",
            ),
        ),
    ]
