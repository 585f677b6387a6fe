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
        from django.core.signals import request_finished, request_started

        from caseloop.core.stamps import close_request_snapshot, open_request_snapshot

        # a request reads the definition caches' stamps once (core.stamps)
        request_started.connect(open_request_snapshot, dispatch_uid="core.stamps.open")
        request_finished.connect(close_request_snapshot, dispatch_uid="core.stamps.close")
