"""The IVR editor (administrators only) and the case page's calls panel with its "log a call" form."""

from __future__ import annotations

import copy
import json

import pytest

from caseloop.cases.choices import Channel
from caseloop.channels.phone.actions import create_flow
from caseloop.channels.phone.choices import IvrState
from caseloop.channels.phone.ivr import EXAMPLE
from caseloop.channels.phone.models import Call, IvrFlow, IvrVersion, PhoneLine
from caseloop.testing.factories import make_case, make_team

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(client, admin_user):
    make_team("Support")
    client.force_login(admin_user)
    return client


def test_menus_and_lines_pages_are_for_administrators(client, agent):
    client.force_login(agent)
    assert client.get("/phone/ivr/").status_code == 403
    assert client.post("/phone/ivr/", {"name": "Main"}).status_code == 403
    assert not IvrFlow.objects.exists()


def test_an_administrator_adds_a_menu_and_a_line(admin):
    response = admin.post("/phone/ivr/", {"name": "Main line"})
    flow = IvrFlow.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/phone/ivr/{flow.pk}/"
    response = admin.post(
        "/phone/ivr/", {"number": "+1 555 0100 100", "line_name": "Main", "flow": str(flow.pk), "team": ""}
    )
    assert response.status_code == 302
    line = PhoneLine.objects.get()
    assert (line.number, line.flow_id) == ("+15550100100", flow.pk)
    page = admin.get("/phone/ivr/").content.decode()
    assert "https://caseloop.example" not in page and "http://127.0.0.1:8000/phone/twilio/voice/" in page
    bad = admin.post("/phone/ivr/", {"number": "nope", "line_name": "X"})
    assert bad.status_code == 422 and PhoneLine.objects.count() == 1
    # the line is pointed elsewhere and taken out of service
    response = admin.post("/phone/ivr/", {"line": str(line.pk), "flow": "", "team": ""})
    assert response.status_code == 302
    line.refresh_from_db()
    assert (line.flow_id, line.active) == (None, False)
    assert admin.post("/phone/ivr/", {"line": "999"}).status_code == 422


def test_the_editor_saves_checks_and_publishes(admin, admin_user):
    flow = create_flow(actor=admin_user, name="Main")
    page = admin.get(f"/phone/ivr/{flow.pk}/").content.decode()
    assert "The draft passes every rule" in page and "[main] Thank you for calling." in page
    broken = copy.deepcopy(EXAMPLE)
    broken["menus"]["main"]["options"].pop()  # no "speak to a person" left
    response = admin.post(
        f"/phone/ivr/{flow.pk}/", {"definition": json.dumps(broken), "note": "shorter", "publish": "1"}
    )
    html = response.content.decode()
    assert response.status_code == 422 and "cannot be published" in html
    assert "menus.main.options" in html and "does not offer" in html
    assert IvrVersion.objects.get().state == IvrState.DRAFT  # saved, not published
    response = admin.post(f"/phone/ivr/{flow.pk}/", {"definition": "{not json", "save": "1"})
    assert response.status_code == 422 and "{not json" in response.content.decode()  # what was typed is kept
    response = admin.post(f"/phone/ivr/{flow.pk}/", {"definition": json.dumps(EXAMPLE), "publish": "1"})
    assert response.status_code == 302
    assert IvrVersion.objects.get().state == IvrState.PUBLISHED
    assert admin.post(f"/phone/ivr/{flow.pk}/", {"restore": "x"}).status_code == 422
    assert admin.post(f"/phone/ivr/{flow.pk}/", {"restore": "²"}).status_code == 422  # isdigit(), yet no number
    response = admin.post(f"/phone/ivr/{flow.pk}/", {"restore": str(IvrVersion.objects.get().pk)})
    assert response.status_code == 302
    assert list(IvrVersion.objects.order_by("number").values_list("number", "state")) == [
        (1, IvrState.PUBLISHED),
        (2, IvrState.DRAFT),
    ]


def test_the_calls_panel_lists_calls_and_logs_one_by_hand(client, agent):
    case = make_case(channel=Channel.EMAIL)
    client.force_login(agent)
    panel = client.get(f"/phone/cases/{case.pk}/calls/", HTTP_HX_REQUEST="true").content.decode()
    assert "No calls or texts on this case." in panel and "Log a call" in panel
    response = client.post(
        f"/phone/cases/{case.pk}/calls/",
        {"direction": "outbound", "number": "+15557654321", "duration": "3:05", "notes": "Left a voicemail"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200 and response["HX-Trigger"] == "case-changed"
    call = Call.objects.get()
    assert (call.direction, call.to_number, call.duration_seconds, call.notes) == (
        "outbound",
        "+15557654321",
        185,
        "Left a voicemail",
    )
    assert "To +15557654321" in html and '<span class="small">3:05</span>' in html
    assert 'hx-swap-oob="innerHTML:#thread .messages"' in html
    assert "Phone call to +15557654321." in html  # the conversation, refreshed in the same answer


@pytest.mark.parametrize(
    ("form", "field_text"),
    [
        ({"direction": "sideways", "number": "+15557654321", "duration": "1"}, "Say whether"),
        ({"direction": "inbound", "number": "+15557654321", "duration": "1:75"}, "minutes:seconds"),
        ({"direction": "inbound", "number": "+15557654321", "duration": "²"}, "minutes:seconds"),
        ({"direction": "inbound", "number": "+15557654321", "duration": "1:²"}, "minutes:seconds"),
        ({"direction": "inbound", "number": "call me", "duration": "1"}, "is not a phone number"),
    ],
)
def test_logging_a_call_with_mistakes_shows_them_and_logs_nothing(client, agent, form, field_text):
    case = make_case()
    client.force_login(agent)
    response = client.post(f"/phone/cases/{case.pk}/calls/", form, HTTP_HX_REQUEST="true")
    assert response.status_code == 422 and field_text in response.content.decode()
    assert not Call.objects.exists() and case.messages.count() == 1


def test_the_calls_panel_needs_staff(client, customer):
    case = make_case()
    assert client.get(f"/phone/cases/{case.pk}/calls/").status_code == 302
    client.force_login(customer)
    assert client.get(f"/phone/cases/{case.pk}/calls/").status_code == 403
