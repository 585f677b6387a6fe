from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "caseloop.core"
    label = "core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from caseloop.core.checkpoint import on_connection_created

        # SQLite: WAL checkpoints by a background thread per process, not by the commit that fills the log
        connection_created.connect(on_connection_created, dispatch_uid="core.wal_checkpoint")
