"""Settings of the bare project: nothing but the database, configured exactly as caseloop's.

The database settings are taken from caseloop's own settings module (with
CASELOOP_DATA_DIR pointing at the benchmark's folder), so the pragmas, the
IMMEDIATE transaction mode or the PostgreSQL URL cannot drift apart.
"""

from __future__ import annotations

from caseloop.config import settings as caseloop_settings

SECRET_KEY = caseloop_settings.SECRET_KEY
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["bench.framework"]
MIDDLEWARE: list[str] = []  # bare: the limit of the stack, not of a middleware choice
ROOT_URLCONF = "bench.framework.urls"
DATABASES = {"default": dict(caseloop_settings.DATABASES["default"])}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # a file of its own beside caseloop's: the limit is measured on a small, fresh table
    DATABASES["default"]["NAME"] = str(caseloop_settings.DATA_DIR / "framework.sqlite3")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
LOGGING = caseloop_settings.LOGGING
