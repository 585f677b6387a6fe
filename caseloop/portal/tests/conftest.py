from __future__ import annotations

import pytest
from django.core import mail


@pytest.fixture(autouse=True)
def _portal_settings(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.DEFAULT_FROM_EMAIL = "caseloop <support@example.com>"
    settings.SITE_URL = "https://help.example.com"
    settings.CASELOOP_PORTAL_NAME = "Maple Doors service"
    settings.CASELOOP_PORTAL_LINK_MINUTES = 30
    settings.CASELOOP_PORTAL_LINKS_PER_ADDRESS = 3
    settings.CASELOOP_PORTAL_LINKS_PER_IP = 20
    settings.CASELOOP_PORTAL_LINK_WINDOW_SECONDS = 900
    settings.CASELOOP_WEBFORM_MAX_FILES = 3
    settings.CASELOOP_WEBFORM_MAX_FILE_BYTES = 64 * 1024
    settings.CASELOOP_WEBFORM_FILE_TYPES = "pdf,png,txt"
    mail.outbox = []
