"""IMAP passwords sealed at rest (caseloop.core.secretbox); a poll interval per mailbox."""

from django.db import migrations, models


def seal_existing(apps, schema_editor):  # type: ignore[no-untyped-def]
    from caseloop.core.secretbox import is_sealed, seal

    Mailbox = apps.get_model("email_channel", "Mailbox")
    for mailbox in Mailbox.objects.exclude(imap_password_sealed=""):
        if not is_sealed(mailbox.imap_password_sealed):
            mailbox.imap_password_sealed = seal(mailbox.imap_password_sealed)
            mailbox.save(update_fields=["imap_password_sealed"])


class Migration(migrations.Migration):
    dependencies = [("email_channel", "0001_initial")]

    operations = [
        migrations.RenameField("mailbox", "imap_password", "imap_password_sealed"),
        migrations.AlterField("mailbox", "imap_password_sealed", models.TextField(blank=True)),
        migrations.AddField(
            "mailbox",
            "poll_seconds",
            models.PositiveIntegerField(
                blank=True, null=True, help_text="how often fetchmail polls it; empty: CASELOOP_EMAIL_POLL_SECONDS"
            ),
        ),
        # plain passwords stored before this migration are sealed now; going back leaves them sealed
        migrations.RunPython(seal_existing, migrations.RunPython.noop),
    ]
