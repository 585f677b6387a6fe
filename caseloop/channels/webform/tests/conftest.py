from __future__ import annotations

import pytest
from django.core import mail


@pytest.fixture(autouse=True)
def _webform_settings(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.DEFAULT_FROM_EMAIL = "caseloop <support@example.com>"
    settings.CASELOOP_EMAIL_PLUS_ADDRESSING = True
    settings.CASELOOP_EMAIL_MAX_PER_ADDRESS_PER_HOUR = 5
    settings.CASELOOP_WEBFORM_TOPICS = "question=A question,repair=A repair@doors,billing=Billing"
    settings.CASELOOP_WEBFORM_DEFAULT_TEAM = ""
    settings.CASELOOP_WEBFORM_MAX_PER_ADDRESS = 5
    settings.CASELOOP_WEBFORM_MAX_PER_IP = 20
    settings.CASELOOP_WEBFORM_WINDOW_SECONDS = 3600
    settings.CASELOOP_WEBFORM_ACKNOWLEDGE = True
    settings.CASELOOP_WEBFORM_MAX_FILES = 3
    settings.CASELOOP_WEBFORM_MAX_FILE_BYTES = 64 * 1024
    settings.CASELOOP_WEBFORM_FILE_TYPES = "pdf,png,jpg,txt"
    mail.outbox = []
