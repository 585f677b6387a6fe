"""A throwaway database for a benchmark that seeds its own data: a fresh SQLite folder, or a fresh PostgreSQL
database beside the one a URL names (dropped again afterwards). Django is set up on it and migrated."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


def set_up(postgres: str | None, *, name: str) -> Path | None:
    """Point caseloop at a new empty database (`name` on PostgreSQL; a temporary folder otherwise) and migrate it.

    Returns the SQLite folder (None on PostgreSQL), for `tear_down`.
    """
    folder = None
    if postgres:
        import psycopg

        with psycopg.connect(postgres, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name}")
            conn.execute(f"CREATE DATABASE {name}")
        os.environ["CASELOOP_DATABASE_URL"] = postgres.rsplit("/", 1)[0] + f"/{name}"
    else:
        os.environ.pop("CASELOOP_DATABASE_URL", None)
        folder = Path(tempfile.mkdtemp(prefix=f"{name.replace('_', '-')}-"))
        os.environ["CASELOOP_DATA_DIR"] = str(folder)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseloop.config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return folder


def tear_down(postgres: str | None, folder: Path | None, *, name: str) -> None:
    """Close every connection and remove what `set_up` made."""
    from django.db import connections

    connections.close_all()
    if postgres:
        import psycopg

        with psycopg.connect(postgres, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name}")
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
