"""`caseloop webhooks list | retry | purge`: the provider's webhook requests as kept, failed ones replayed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from caseloop import cli
from caseloop.channels.phone import views as phone_views
from caseloop.channels.phone.actions import create_line
from caseloop.channels.phone.choices import WebhookState
from caseloop.channels.phone.models import WebhookDelivery
from caseloop.channels.phone.tests.signing import provider_settings, signed_post
from caseloop.channels.sms import views as sms_views
from caseloop.channels.sms.models import SmsMessage
from caseloop.core import clock
from caseloop.testing.factories import make_team

pytestmark = pytest.mark.django_db

Capture = pytest.CaptureFixture[str]
LINE = "+15550100"
CUSTOMER = "+15557654321"


def run(capsys: Capture, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()  # not what the fixtures' failing requests logged
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def broken(**_: object) -> None:
    raise RuntimeError("the database went away")


@pytest.fixture
def failed(client: Any, settings: Any, admin_user: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """A text and a live call's first step, both failed; and a processed text."""
    provider_settings(settings)
    create_line(actor=admin_user, number=LINE, name="Main", flow=None, team=make_team("Support"))
    with monkeypatch.context() as patch:
        patch.setattr(sms_views, "receive_sms", broken)
        patch.setattr(phone_views, "start_call", broken)
        signed_post(client, "/sms/twilio/inbound/", {"MessageSid": "SM1", "From": CUSTOMER, "To": LINE, "Body": "Hi"})
        signed_post(client, "/phone/twilio/voice/", {"CallSid": "CA1", "From": CUSTOMER, "To": LINE})
    signed_post(client, "/sms/twilio/inbound/", {"MessageSid": "SM2", "From": CUSTOMER, "To": LINE, "Body": "Also"})
    ids = dict(WebhookDelivery.objects.values_list("endpoint", "id").filter(state=WebhookState.FAILED))
    assert set(ids) == {"sms_channel:inbound", "phone_channel:voice"}
    return ids


def test_list_shows_the_kept_requests_and_failed_only_with_their_errors(
    capsys: Capture, failed: dict[str, int]
) -> None:
    status, out, _ = run(capsys, "webhooks", "list", "--failed")

    assert status == 0
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "RECEIVED", "ENDPOINT", "STATE", "ATTEMPTS", "ERROR"]
    assert [line.split()[0] for line in lines[1:]] == [str(failed["phone_channel:voice"]),
                                                       str(failed["sms_channel:inbound"])]  # fmt: skip
    assert all("failed" in line and "RuntimeError: the database went away" in line for line in lines[1:])

    status, out, _ = run(capsys, "webhooks", "list")
    assert status == 0 and len(out.splitlines()) == 4 and "processed" in out


def test_retry_of_an_unknown_id_is_one_line_on_stderr(capsys: Capture, failed: dict[str, int]) -> None:
    status, out, err = run(capsys, "webhooks", "retry", "999999")

    assert (status, out) == (1, "")
    assert err == "caseloop: There is no webhook request 999999 (see `caseloop webhooks list`).\n"


def test_retry_of_a_live_call_step_is_refused_and_retry_of_the_text_files_it(
    capsys: Capture, failed: dict[str, int]
) -> None:
    status, _, err = run(capsys, "webhooks", "retry", str(failed["phone_channel:voice"]))
    assert status == 1 and "cannot be replayed" in err

    text = failed["sms_channel:inbound"]
    status, out, err = run(capsys, "webhooks", "retry", str(text))

    assert (status, err) == (0, "")
    assert out == f"Webhook request {text} (sms_channel:inbound) processed (answer 200).\n"
    assert set(SmsMessage.objects.values_list("provider_sid", flat=True)) == {"SM1", "SM2"}


def test_retry_all_failed_replays_what_can_be_and_says_what_it_skipped(capsys: Capture, failed: dict[str, int]) -> None:
    status, out, _ = run(capsys, "webhooks", "retry", "--all-failed")

    assert status == 0
    assert out.splitlines() == [
        "1 failed step(s) of live calls skipped: they cannot be replayed.",
        f"Webhook request {failed['sms_channel:inbound']} (sms_channel:inbound) processed (answer 200).",
    ]
    assert SmsMessage.objects.filter(provider_sid="SM1").count() == 1


def test_a_retry_that_fails_again_exits_1_and_keeps_the_row_failed(
    capsys: Capture, failed: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sms_views, "receive_sms", broken)
    text = failed["sms_channel:inbound"]

    status, out, err = run(capsys, "webhooks", "retry", str(text))

    assert (status, out) == (1, "")
    # after the log's traceback of the failure
    assert err.endswith(f"Webhook request {text} (sms_channel:inbound) failed again: "
                        "builtins.RuntimeError: the database went away\n")  # fmt: skip
    row = WebhookDelivery.objects.get(pk=text)
    assert (row.state, row.attempts) == (WebhookState.FAILED, 2)


def test_retry_needs_an_id_or_all_failed(capsys: Capture) -> None:
    status, _, err = run(capsys, "webhooks", "retry")
    assert status == 2 and "one of the arguments id --all-failed is required" in err


def test_purge_keeps_failed_requests_unless_asked(capsys: Capture, failed: dict[str, int]) -> None:
    later = clock.now() + dt.timedelta(days=31)
    with clock.frozen_at(later):
        status, out, _ = run(capsys, "webhooks", "purge")
    assert (status, out) == (0, "Purged 1 webhook request.\n")
    assert set(WebhookDelivery.objects.values_list("id", flat=True)) == set(failed.values())

    with clock.frozen_at(later):
        status, out, _ = run(capsys, "webhooks", "purge", "--failed")
    assert (status, out) == (0, "Purged 2 webhook requests.\n")
    assert not WebhookDelivery.objects.exists()
