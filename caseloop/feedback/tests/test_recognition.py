"""Recognition: praise becomes kudos for each person, their managers are told, the customer is thanked in a day."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.test import override_settings

from caseloop.cases.actions import MessageInput, add_message, change_status
from caseloop.cases.choices import CaseStatus, Channel, Direction
from caseloop.cases.models import Message
from caseloop.core import clock
from caseloop.core.errors import DomainError
from caseloop.customers.actions import IdentityInput, create_contact
from caseloop.customers.choices import IdentityKind
from caseloop.feedback.actions import (
    answer_survey,
    mark_notices_read,
    read_inbound_message,
    recognise_survey,
    record_thanked_by_phone,
    send_thank_you,
)
from caseloop.feedback.choices import KudosSource, ThankYouState
from caseloop.feedback.errors import FeedbackErrorCode
from caseloop.feedback.models import Kudos, ManagerNotice, SurveyOptOut, ThankYou
from caseloop.feedback.selectors import managers_of, recognition_by_person, thank_yous_due
from caseloop.feedback.tests.factories import START, sent_survey, solved_case, token_of
from caseloop.identity.actions import add_member
from caseloop.identity.choices import Role
from caseloop.testing.factories import make_agent, make_team
from caseloop.timeline.models import TimelineEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def crew(db):
    """Two agents who worked a case in a team led by Lena; a manager elsewhere."""
    team = make_team("Doors")
    ann, bob, lena = make_agent(username="ann"), make_agent(username="bob"), make_agent(username="lena")
    for person, lead in ((ann, False), (bob, False), (lena, True)):
        add_member(team=team, user=person, is_lead=lead)
    make_agent(username="mona", role=Role.MANAGER)
    case = solved_case(agent=ann, team=team)
    change_status(actor=ann, case=case, status=CaseStatus.OPEN)
    add_message(actor=bob, case=case, direction=Direction.OUTBOUND, body=MessageInput(body_text="Part ordered"))
    change_status(actor=ann, case=case, status=CaseStatus.SOLVED)
    return {"team": team, "ann": ann, "bob": bob, "lena": lena, "case": case}


def _answer(survey, **answer):
    answer.setdefault("expectations", "exceeded")
    with clock.frozen_at(START + dt.timedelta(hours=2)):
        answer_survey(token=token_of(survey), **answer)
        return recognise_survey(survey_id=survey.pk)


def test_high_score_with_a_kind_comment_gives_kudos_to_everyone_who_worked_the_case(crew):
    survey = sent_survey(crew["case"])
    kudos = _answer(survey, nps=10, comment="Ann and Bob were brilliant, thank you!")
    assert sorted(k.user.username for k in kudos) == ["ann", "bob"]
    assert {(k.source, k.quote, k.case_id) for k in kudos} == {
        (KudosSource.SURVEY, "Ann and Bob were brilliant, thank you!", crew["case"].pk)}  # fmt: skip
    # the team lead is told about each of them; the manager elsewhere is not (Lena leads their team)
    notices = sorted((n.recipient.username, n.kudos.user.username) for n in ManagerNotice.objects.all())
    assert notices == [("lena", "ann"), ("lena", "bob")]
    thank_you = ThankYou.objects.get()
    assert (thank_you.owner, thank_you.state, thank_you.contact_id) == (crew["ann"], ThankYouState.DUE,
                                                                        survey.contact_id)  # fmt: skip
    assert thank_you.due_at == START + dt.timedelta(hours=26)
    event = TimelineEvent.objects.get(kind="kudos.given", subject_kind="case")
    assert event.summary.startswith("Praise for ann, bob on ")


def test_recognising_twice_gives_nothing_twice(crew):
    survey = sent_survey(crew["case"])
    _answer(survey, csat=5, comment="Great work")
    _answer(survey, csat=5, comment="Great work")
    assert (Kudos.objects.count(), ManagerNotice.objects.count(), ThankYou.objects.count()) == (2, 2, 1)


def test_praise_read_again_puts_it_on_the_timeline_once(crew):
    """The recognise task run twice, the answer saved again, a message read twice: one "praise" entry each."""
    survey = sent_survey(crew["case"])
    _answer(survey, csat=5, comment="Great work")
    recognise_survey(survey_id=survey.pk)  # the task delivered twice
    _answer(survey, csat=5, comment="Great work, really")  # the customer saves the page again
    message = add_message(actor=None, case=crew["case"], direction=Direction.INBOUND,
                          body=MessageInput(body_text="Just to say: Bob was fantastic yesterday.")).message  # fmt: skip
    read_inbound_message(message_id=message.pk)
    read_inbound_message(message_id=message.pk)
    on_case = TimelineEvent.objects.filter(kind="kudos.given", subject_kind="case").order_by("id")
    number = crew["case"].number
    assert [e.summary for e in on_case] == [f"Praise for ann, bob on {number}: “Great work”",
                                            f"Praise for ann, bob on {number}: “Just to say: Bob was fantastic "
                                            "yesterday.”"]  # fmt: skip
    assert (Kudos.objects.count(), ManagerNotice.objects.count(), ThankYou.objects.count()) == (4, 4, 2)


@pytest.mark.parametrize("answer", [
    {"expectations": "met", "csat": 4, "nps": 8, "comment": "Lovely people"},  # no high score
    {"expectations": "exceeded", "comment": "Fast, but the noise is back"},  # a complaint in the comment
    {"expectations": "exceeded"},  # no comment
    {"expectations": "failed", "nps": 10, "comment": "Great"},  # failed expectations are never praise
])  # fmt: skip
def test_no_kudos_without_a_high_score_and_a_positive_comment(crew, answer):
    survey = sent_survey(crew["case"])
    assert _answer(survey, **answer) == []
    assert (Kudos.objects.count(), ManagerNotice.objects.count(), ThankYou.objects.count()) == (0, 0, 0)


def test_a_compliment_written_in_a_message_gives_kudos(crew):
    message = add_message(actor=None, case=crew["case"], direction=Direction.INBOUND,
                          body=MessageInput(body_text="Just to say: Bob was fantastic yesterday.")).message  # fmt: skip
    kudos = read_inbound_message(message_id=message.pk)
    assert sorted(k.user.username for k in kudos) == ["ann", "bob"]
    assert {k.source for k in kudos} == {KudosSource.MESSAGE}
    assert ThankYou.objects.get().praise_message == message
    assert read_inbound_message(message_id=message.pk) and Kudos.objects.count() == 2  # idempotent


def test_a_request_or_our_own_reply_gives_no_kudos(crew):
    inbound = add_message(actor=None, case=crew["case"], direction=Direction.INBOUND,
                          body=MessageInput(body_text="Great work, but it squeaks again")).message  # fmt: skip
    outbound = Message.objects.filter(direction=Direction.OUTBOUND).first()
    assert outbound is not None
    assert read_inbound_message(message_id=inbound.pk) == []
    assert read_inbound_message(message_id=outbound.pk) == []
    assert Kudos.objects.count() == 0


def test_a_message_complaining_about_surveys_opts_the_customer_out(crew):
    message = add_message(actor=None, case=crew["case"], direction=Direction.INBOUND,
                          body=MessageInput(body_text="Please stop sending surveys, thanks")).message  # fmt: skip
    assert read_inbound_message(message_id=message.pk) == []
    opt_out = SurveyOptOut.objects.get()
    assert (opt_out.contact_id, opt_out.message_id) == (crew["case"].requester_id, message.pk)


def test_the_listener_reads_inbound_messages_after_commit(crew, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        add_message(actor=None, case=crew["case"], direction=Direction.INBOUND,
                    body=MessageInput(body_text="You are all amazing."))  # fmt: skip
    assert Kudos.objects.count() == 2


def test_without_a_lead_every_manager_is_told(db):
    loner = make_agent(username="loner")
    boss = make_agent(username="boss2", role=Role.MANAGER)
    assert managers_of(loner) == [boss]
    assert managers_of(boss) == []


# --- thank-yous ---------------------------------------------------------------------------------------------
def test_the_owner_thanks_the_customer_with_a_message_on_the_case(crew):
    _answer(sent_survey(crew["case"]), nps=10, comment="Wonderful")
    thank_you = ThankYou.objects.get()
    assert list(thank_yous_due(crew["ann"])) == [thank_you]
    assert list(thank_yous_due(crew["bob"])) == []  # someone else's to do
    with clock.frozen_at(START + dt.timedelta(hours=20)):
        done = send_thank_you(actor=crew["ann"], thank_you=thank_you, body="Thank you, it made our day. Ann")
    assert (done.state, done.done_by, done.kept) == (ThankYouState.SENT, crew["ann"], True)
    assert done.reply is not None
    assert (done.reply.direction, done.reply.body_text) == (Direction.OUTBOUND, "Thank you, it made our day. Ann")
    with pytest.raises(DomainError) as excinfo:
        send_thank_you(actor=crew["ann"], thank_you=thank_you, body="again")
    assert excinfo.value.code == FeedbackErrorCode.THANK_YOU_DONE
    assert Message.objects.filter(body_text="again").count() == 0


def test_a_late_thank_you_is_not_kept(crew):
    _answer(sent_survey(crew["case"]), nps=10, comment="Wonderful")
    with clock.frozen_at(START + dt.timedelta(hours=27)):
        done = record_thanked_by_phone(actor=crew["bob"], thank_you=ThankYou.objects.get(), note="Called her")
    assert (done.state, done.kept) == (ThankYouState.CALLED, False)
    assert TimelineEvent.objects.get(kind="thank_you.called", subject_kind="case").summary == (
        f"bob thanked {done.contact.name} by phone: Called her")  # fmt: skip


def test_a_closed_case_is_thanked_by_phone_not_by_message(crew):
    _answer(sent_survey(crew["case"]), nps=10, comment="Wonderful")
    change_status(actor=crew["ann"], case=crew["case"], status=CaseStatus.CLOSED)
    with pytest.raises(DomainError) as excinfo:
        send_thank_you(actor=crew["ann"], thank_you=ThankYou.objects.get(), body="Thanks!")
    assert excinfo.value.code == FeedbackErrorCode.CASE_CLOSED
    assert ThankYou.objects.get().state == ThankYouState.DUE


def test_a_customer_no_channel_reaches_is_thanked_by_phone_and_told_why(crew):
    # given praise in a message on a case that came through the API, from a customer with a phone number only
    caller = create_contact(
        actor=None, name="Paula Phone", identities=[IdentityInput(IdentityKind.PHONE, "+1 415 555 0102")]
    )
    case = solved_case(agent=crew["ann"], requester=caller, channel=Channel.API, reply=False)
    message = add_message(actor=None, case=case, direction=Direction.INBOUND,
                          body=MessageInput(body_text="Ann was fantastic, thank you.")).message  # fmt: skip
    read_inbound_message(message_id=message.pk)
    messages_before = Message.objects.filter(case=case).count()
    # when the owner tries to thank her with a message
    with pytest.raises(DomainError) as excinfo:
        send_thank_you(actor=crew["ann"], thank_you=ThankYou.objects.get(case=case), body="Thanks!")
    # then it is refused as unreachable (the case is solved, not closed), and nothing is sent
    assert (excinfo.value.code, excinfo.value.status) == (FeedbackErrorCode.NO_CHANNEL, 409)
    assert str(excinfo.value) == (
        f"No channel reaches this customer: {case.number} came by API, which cannot send messages, and they have "
        "no email address. Call them and record the thank-you."
    )
    assert ThankYou.objects.get(case=case).state == ThankYouState.DUE
    assert Message.objects.filter(case=case).count() == messages_before


# --- managers see recognition over time -------------------------------------------------------------------------
def test_recognition_per_person_per_month(crew):
    mona = make_agent(username="mona2", role=Role.MANAGER)
    for when, who in (
        (dt.datetime(2026, 1, 5, tzinfo=dt.UTC), "ann"),
        (dt.datetime(2026, 3, 1, tzinfo=dt.UTC), "ann"),
        (dt.datetime(2026, 3, 9, tzinfo=dt.UTC), "bob"),
        (dt.datetime(2026, 3, 10, tzinfo=dt.UTC), "ann"),
    ):
        Kudos.objects.create(user=crew[who], source=KudosSource.MESSAGE, quote="Great", created_at=when)
    Kudos.objects.create(user=crew["bob"], source=KudosSource.MESSAGE, quote="Old", created_at=dt.datetime(
        2025, 9, 30, tzinfo=dt.UTC))  # fmt: skip
    with clock.frozen_at(dt.datetime(2026, 3, 15, tzinfo=dt.UTC)):
        months, rows = recognition_by_person(mona, months=3)
    assert months == [dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1)]
    assert [(r.user.username, r.per_month, r.total) for r in rows] == [("ann", [1, 0, 2], 3), ("bob", [0, 0, 1], 1)]


@override_settings(TIME_ZONE="America/New_York")
def test_recognition_months_are_the_installations_like_the_rest_of_the_dashboard(crew):
    # given kudos on the evening of the last day of February in New York (already 1 March in UTC)
    mona = make_agent(username="mona3", role=Role.MANAGER)
    evening = dt.datetime(2026, 2, 28, 21, 30, tzinfo=ZoneInfo("America/New_York"))
    Kudos.objects.create(user=crew["ann"], source=KudosSource.MESSAGE, quote="Great", created_at=evening)
    # when a manager looks on the evening of 31 March there (1 April in UTC)
    with clock.frozen_at(dt.datetime(2026, 4, 1, 1, 0, tzinfo=dt.UTC)):
        months, rows = recognition_by_person(mona, months=2)
    # then March is the current month, and the kudos counts in February
    assert months == [dt.date(2026, 2, 1), dt.date(2026, 3, 1)]
    assert [(r.user.username, r.per_month, r.total) for r in rows] == [("ann", [1, 0], 1)]


def test_recognition_overview_is_for_managers(crew):
    with pytest.raises(DomainError) as excinfo:
        recognition_by_person(crew["ann"])
    assert excinfo.value.code == "permission_denied"


def test_notices_are_marked_read(crew):
    _answer(sent_survey(crew["case"]), nps=10, comment="Wonderful")
    assert mark_notices_read(actor=crew["lena"]) == 2
    assert mark_notices_read(actor=crew["lena"]) == 0


@pytest.mark.skipif(not apps.is_installed("caseloop.promises"), reason="the promise ledger is not installed")
def test_the_thank_you_is_a_promise_kept_by_the_thank_you_message(crew, django_capture_on_commit_callbacks):
    from caseloop.promises.choices import PromiseKind, PromiseState
    from caseloop.promises.models import Promise

    _answer(sent_survey(crew["case"]), nps=10, comment="Wonderful")
    thank_you = ThankYou.objects.get()
    promise = Promise.objects.get(source=f"feedback.thank_you:{thank_you.pk}")
    assert (promise.kind, promise.owner_user, promise.due_at, promise.state) == (
        PromiseKind.REPLY, crew["ann"], thank_you.due_at, PromiseState.OPEN)  # fmt: skip
    with clock.frozen_at(START + dt.timedelta(hours=20)), django_capture_on_commit_callbacks(execute=True):
        send_thank_you(actor=crew["ann"], thank_you=thank_you, body="Thank you! Ann")
    promise.refresh_from_db()
    assert promise.state == PromiseState.KEPT


@pytest.mark.skipif(not apps.is_installed("caseloop.promises"), reason="the promise ledger is not installed")
def test_a_thank_you_by_phone_keeps_its_promise(crew):
    from caseloop.promises.choices import PromiseState
    from caseloop.promises.models import Promise

    _answer(sent_survey(crew["case"]), nps=10, comment="Wonderful")
    with clock.frozen_at(START + dt.timedelta(hours=5)):
        record_thanked_by_phone(actor=crew["bob"], thank_you=ThankYou.objects.get())
    assert Promise.objects.get().state == PromiseState.KEPT
