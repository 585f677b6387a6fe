from __future__ import annotations

import pytest
from django.core import mail


@pytest.fixture(autouse=True)
def _email_settings(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.DEFAULT_FROM_EMAIL = "caseloop <support@example.com>"
    settings.CASELOOP_EMAIL_DEFAULT_TEAM = ""
    settings.CASELOOP_EMAIL_ACKNOWLEDGE = True
    settings.CASELOOP_EMAIL_MAX_PER_ADDRESS_PER_HOUR = 5
    mail.outbox = []
