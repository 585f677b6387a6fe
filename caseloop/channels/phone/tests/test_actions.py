"""IVR versions (who may change them, publishing only what passes the rules) and calls logged by hand."""

from __future__ import annotations

import copy

import pytest

from caseloop.cases.actions import MessageInput, add_message, change_status
from caseloop.cases.choices import CaseStatus, Channel, Direction
from caseloop.cases.models import Case, Message
from caseloop.channels.phone.actions import (
    ManualCall,
    create_flow,
    create_line,
    log_call,
    parse_definition,
    publish_draft,
    restore_version,
    save_draft,
)
from caseloop.channels.phone.choices import CallDirection, CallOutcome, CallSource, IvrState
from caseloop.channels.phone.errors import PhoneErrorCode
from caseloop.channels.phone.ivr import EXAMPLE
from caseloop.channels.phone.models import Call, IvrFlow, IvrVersion, PhoneLine
from caseloop.channels.sms.models import SmsMessage
from caseloop.channels.sms.senders import RecordingSender
from caseloop.core.errors import CommonErrorCode, DomainError
from caseloop.customers.actions import IdentityInput, add_identity
from caseloop.customers.choices import IdentityKind
from caseloop.testing.factories import make_case, make_contact, make_team
from caseloop.timeline.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sender(settings):
    settings.CASELOOP_SMS_SENDER = "caseloop.channels.sms.senders.RecordingSender"
    RecordingSender.reset()


@pytest.fixture
def support():
    return make_team("Support")


def test_only_administrators_shape_menus_and_lines(agent, admin_user, support):
    for attempt in (
        lambda: create_flow(actor=agent, name="Main"),
        lambda: create_line(actor=agent, number="+15550100", name="Main", flow=None, team=None),
    ):
        with pytest.raises(DomainError) as excinfo:
            attempt()
        assert excinfo.value.code == CommonErrorCode.PERMISSION_DENIED
    assert not IvrFlow.objects.exists() and not PhoneLine.objects.exists()
    flow = create_flow(actor=admin_user, name="Main")
    with pytest.raises(DomainError) as excinfo:
        save_draft(actor=agent, flow=flow, definition=EXAMPLE)
    assert excinfo.value.code == CommonErrorCode.PERMISSION_DENIED
    with pytest.raises(DomainError) as excinfo:
        publish_draft(actor=agent, flow=flow)
    assert excinfo.value.code == CommonErrorCode.PERMISSION_DENIED
    assert IvrVersion.objects.get().state == IvrState.DRAFT


def test_a_new_menu_starts_with_a_draft_that_publishes(admin_user, support):
    flow = create_flow(actor=admin_user, name="Main")
    draft = IvrVersion.objects.get(flow=flow)
    assert (draft.number, draft.state, draft.definition) == (1, IvrState.DRAFT, EXAMPLE)
    published = publish_draft(actor=admin_user, flow=flow)
    assert (published.pk, published.state, published.published_by) == (draft.pk, IvrState.PUBLISHED, admin_user)
    assert AuditEntry.objects.filter(action="ivr_version.publish", object_id=published.pk).count() == 1
    with pytest.raises(DomainError) as excinfo:
        publish_draft(actor=admin_user, flow=flow)
    assert excinfo.value.code == PhoneErrorCode.IVR_NOT_DRAFT


def test_a_version_that_breaks_the_rules_is_not_published_and_nothing_changes(admin_user, support):
    flow = create_flow(actor=admin_user, name="Main")
    live = publish_draft(actor=admin_user, flow=flow)
    broken = copy.deepcopy(EXAMPLE)
    broken["menus"]["main"]["options"] = [o for o in broken["menus"]["main"]["options"] if o["action"] != "person"]
    broken["menus"]["lost"] = {
        "prompt": "Nobody gets here.",
        "options": [{"digit": "0", "label": "Person", "action": "person"}],
    }
    draft = save_draft(actor=admin_user, flow=flow, definition=broken, note="no person")
    assert (draft.number, draft.state) == (2, IvrState.DRAFT)
    with pytest.raises(DomainError) as excinfo:
        publish_draft(actor=admin_user, flow=flow)
    assert excinfo.value.code == PhoneErrorCode.IVR_INVALID
    assert [(p["code"], p["where"]) for p in excinfo.value.extra["problems"]] == [
        ("no_person", "menus.main.options"),
        ("unreachable", "menus.lost"),
    ]
    assert dict(IvrVersion.objects.values_list("number", "state")) == {1: IvrState.PUBLISHED, 2: IvrState.DRAFT}
    assert IvrVersion.objects.get(pk=live.pk).state == IvrState.PUBLISHED


def test_publishing_retires_the_live_version_and_restoring_copies_an_old_one_into_the_draft(admin_user, support):
    flow = create_flow(actor=admin_user, name="Main")
    first = publish_draft(actor=admin_user, flow=flow)
    changed = copy.deepcopy(EXAMPLE)
    changed["menus"]["main"]["prompt"] = "Welcome back."
    save_draft(actor=admin_user, flow=flow, definition=changed)
    second = publish_draft(actor=admin_user, flow=flow)
    assert dict(IvrVersion.objects.values_list("number", "state")) == {1: IvrState.RETIRED, 2: IvrState.PUBLISHED}
    restored = restore_version(actor=admin_user, version=first)
    assert (restored.number, restored.state, restored.definition, restored.note) == (
        3,
        IvrState.DRAFT,
        EXAMPLE,
        "from version 1",
    )
    # saving again edits the one draft in place
    assert save_draft(actor=admin_user, flow=flow, definition=changed).pk == restored.pk
    assert IvrVersion.objects.get(pk=second.pk).definition == changed


def test_a_team_that_does_not_exist_blocks_publishing(admin_user):
    flow = create_flow(actor=admin_user, name="Main")  # EXAMPLE routes to "support", which is not a team here
    with pytest.raises(DomainError) as excinfo:
        publish_draft(actor=admin_user, flow=flow)
    assert [p["code"] for p in excinfo.value.extra["problems"]] == ["unknown_team"]


def test_definitions_are_json_and_bounded():
    assert parse_definition('{"start": "main"}') == {"start": "main"}
    # NUL and a lone surrogate are valid JSON escapes no database text (or jsonb) can store
    for text in (
        "{start: main}",
        "x" * 200_001,
        '{"start": "m\\u0000"}',
        '{"start": "\\ud800"}',
        '{"a": NaN}',
        '{"a": 1e999}',
    ):
        with pytest.raises(DomainError) as excinfo:
            parse_definition(text)
        assert excinfo.value.code == PhoneErrorCode.IVR_NOT_JSON


def test_lines_are_stored_in_e164_once(admin_user, support):
    line = create_line(actor=admin_user, number="(555) 010-0100", name="Main", flow=None, team=support)
    assert line.number == "+15550100100"
    for number, code in (
        ("+1 555 010 0100", PhoneErrorCode.LINE_NUMBER_TAKEN),
        ("not a number", PhoneErrorCode.BAD_NUMBER),
    ):
        with pytest.raises(DomainError) as excinfo:
            create_line(actor=admin_user, number=number, name="Other", flow=None, team=None)
        assert excinfo.value.code == code
    assert PhoneLine.objects.count() == 1


def test_a_rep_logs_an_inbound_call_by_hand(agent, django_capture_on_commit_callbacks):
    case = make_case(requester=make_contact(name="Ann Smith"))
    with django_capture_on_commit_callbacks(execute=True):
        call = log_call(
            actor=agent,
            case=case,
            call=ManualCall(
                direction=CallDirection.INBOUND,
                number="555-765-4321",
                duration_seconds=272,
                notes="Spring is 2 inch; booked Tuesday.",
            ),
        )
    assert (call.source, call.direction, call.from_number, call.duration_seconds, call.outcome, call.logged_by) == (
        CallSource.MANUAL,
        CallDirection.INBOUND,
        "+15557654321",
        272,
        CallOutcome.TALKED,
        agent,
    )
    message = call.message
    assert message is not None
    assert (message.case_id, message.direction, message.channel, message.author_contact_id) == (
        case.pk,
        Direction.INBOUND,
        Channel.PHONE,
        case.requester_id,
    )
    assert message.body_text == (
        "Phone call from +15557654321.\n4:32 long (logged by agent).\n\nSpring is 2 inch; booked Tuesday."
    )
    assert AuditEntry.objects.filter(action="call.log", object_id=call.pk, actor=agent).count() == 1
    assert not SmsMessage.objects.exists() and RecordingSender.sent == []


def test_an_outbound_call_logged_by_hand_is_a_response_and_is_never_texted(agent, django_capture_on_commit_callbacks):
    case = make_case()
    with django_capture_on_commit_callbacks(execute=True):
        call = log_call(
            actor=agent,
            case=case,
            call=ManualCall(direction=CallDirection.OUTBOUND, number="+15557654321", duration_seconds=60),
        )
    case.refresh_from_db()
    assert call.message is not None
    assert (call.to_number, call.message.direction, call.message.author_user) == (
        "+15557654321",
        Direction.OUTBOUND,
        agent,
    )
    assert case.first_response_at is not None and case.status == CaseStatus.OPEN
    assert not SmsMessage.objects.exists() and RecordingSender.sent == []


def test_logging_a_call_refuses_bad_input_and_closed_cases(agent, customer):
    case = make_case()
    for manual, code in (
        (ManualCall(direction=CallDirection.INBOUND, number="twelve", duration_seconds=10), PhoneErrorCode.BAD_NUMBER),
        (
            ManualCall(direction=CallDirection.INBOUND, number="+15557654321", duration_seconds=-1),
            PhoneErrorCode.BAD_DURATION,
        ),
        (
            ManualCall(direction=CallDirection.INBOUND, number="+15557654321", duration_seconds=90_000),
            PhoneErrorCode.BAD_DURATION,
        ),
    ):
        with pytest.raises(DomainError) as excinfo:
            log_call(actor=agent, case=case, call=manual)
        assert excinfo.value.code == code
    with pytest.raises(DomainError) as excinfo:
        log_call(
            actor=customer,
            case=case,
            call=ManualCall(direction=CallDirection.INBOUND, number="+15557654321", duration_seconds=10),
        )
    assert excinfo.value.code == CommonErrorCode.PERMISSION_DENIED
    change_status(actor=agent, case=case, status=CaseStatus.SOLVED)
    change_status(actor=agent, case=case, status=CaseStatus.CLOSED)
    with pytest.raises(DomainError) as excinfo:
        log_call(
            actor=agent,
            case=case,
            call=ManualCall(direction=CallDirection.INBOUND, number="+15557654321", duration_seconds=10),
        )
    assert excinfo.value.code == "already_closed"
    assert not Call.objects.exists() and Message.objects.filter(case=case).count() == 1


def test_a_written_reply_on_a_phone_case_goes_to_the_caller_as_a_text(
    agent, admin_user, support, django_capture_on_commit_callbacks
):
    create_line(actor=admin_user, number="+15550100", name="Main", flow=None, team=support)
    contact = make_contact(name="Ann Smith")
    add_identity(actor=None, contact=contact, identity=IdentityInput(IdentityKind.PHONE, "+15557654321"))
    case = make_case(requester=contact, channel=Channel.PHONE)
    with django_capture_on_commit_callbacks(execute=True):
        reply = add_message(
            actor=agent,
            case=case,
            direction=Direction.OUTBOUND,
            channel=Channel.PHONE,
            body=MessageInput(body_text="Your part arrives Tuesday."),
        ).message
    sms = SmsMessage.objects.get(message=reply)
    assert (sms.to_number, sms.from_number, sms.state, sms.provider_sid) == (
        "+15557654321",
        "+15550100",
        "sent",
        "SMrecorded000001",
    )
    assert [(t.to_number, t.body) for t in RecordingSender.sent] == [("+15557654321", "Your part arrives Tuesday.")]
    assert Case.objects.count() == 1


def test_a_logged_call_is_on_the_case_and_the_callers_timelines(agent, django_capture_on_commit_callbacks):
    from caseloop.timeline.models import TimelineEvent

    case = make_case(requester=make_contact(name="Ann Smith"))
    with django_capture_on_commit_callbacks(execute=True):
        logged = ManualCall(direction=CallDirection.INBOUND, number="555-765-4321", duration_seconds=60,
                            notes="Booked Tuesday.")  # fmt: skip
        call = log_call(actor=agent, case=case, call=logged)
    assert call.message is not None
    events = TimelineEvent.objects.filter(case_id=case.pk, data__message=call.message.pk)
    assert sorted(events.values_list("subject_kind", flat=True)) == ["case", "contact"]
    assert {e.kind for e in events} == {"message.received"}
