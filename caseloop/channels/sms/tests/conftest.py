from __future__ import annotations

import pytest

from caseloop.channels.phone.tests.signing import provider_settings
from caseloop.channels.sms.senders import RecordingSender


@pytest.fixture(autouse=True)
def _sms_settings(settings):
    provider_settings(settings)
    settings.CASELOOP_SMS_SENDER = "caseloop.channels.sms.senders.RecordingSender"
    settings.CASELOOP_SMS_FROM_NUMBER = ""
    RecordingSender.reset()
    yield
    RecordingSender.reset()
