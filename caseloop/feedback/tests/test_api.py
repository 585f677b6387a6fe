"""The feedback routes of /api/v1: staff read surveys and kudos, managers write rules, refusals are problems."""

from __future__ import annotations

import pytest

from caseloop.cases.actions import MessageInput, add_message
from caseloop.cases.choices import Channel, Direction
from caseloop.customers.actions import IdentityInput, create_contact
from caseloop.customers.choices import IdentityKind
from caseloop.feedback.actions import answer_survey, read_inbound_message, recognise_survey
from caseloop.feedback.choices import ThankYouState
from caseloop.feedback.models import SurveyOptOut, SurveyRule, ThankYou
from caseloop.feedback.tests.factories import sent_survey, solved_case, token_of
from caseloop.testing.api import ApiClient
from caseloop.testing.factories import make_contact

pytestmark = pytest.mark.django_db


def test_surveys_of_a_case_with_the_answer_and_who_it_is_attributed_to(agent):
    case = solved_case(agent=agent)
    survey = sent_survey(case)
    answer_survey(token=token_of(survey), expectations="met", ces=5, nps=7)
    response = ApiClient(agent).get("/feedback/surveys", {"case": case.number})
    assert response.status_code == 200
    [item] = response.json()
    assert (item["id"], item["state"], item["channel"], item["people"], item["skip_reason"]) == (
        survey.pk, "answered", "email", [agent.pk], None)  # fmt: skip
    assert {k: item["answer"][k] for k in ("expectations", "ces", "csat", "nps")} == {
        "expectations": "met", "ces": 5, "csat": None, "nps": 7}  # fmt: skip


def test_a_customer_cannot_read_surveys(agent, customer):
    case = solved_case(agent=agent)
    response = ApiClient(customer).get("/feedback/surveys", {"case": str(case.pk)})
    assert response.status_code == 404  # the case is not theirs: not found, as the cases routes say


def test_managers_create_and_change_rules_agents_cannot(manager, agent):
    api = ApiClient(manager)
    created = api.post("/feedback/survey-rules", {"name": "Chat", "questions": ["nps"], "channels": ["chat"],
                                                  "delay_minutes": 0})  # fmt: skip
    assert created.status_code == 201
    body = created.json()
    assert (body["questions"], body["channels"], body["delay_minutes"], body["fatigue_days"]) == (
        ["expectations", "nps"], ["chat"], 0, 30)  # fmt: skip
    patched = api.patch(f"/feedback/survey-rules/{body['id']}", {"is_active": False, "fatigue_days": 90})
    assert (patched.json()["is_active"], patched.json()["fatigue_days"]) == (False, 90)
    refused = ApiClient(agent).post("/feedback/survey-rules", {"name": "Mine"})
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    bad = api.post("/feedback/survey-rules", {"name": "Odd", "questions": ["mood"]})
    assert bad.status_code == 422
    assert SurveyRule.objects.count() == 2


def test_kudos_and_thank_yous_through_the_api(agent):
    survey = sent_survey(solved_case(agent=agent))
    answer_survey(token=token_of(survey), expectations="exceeded", csat=5, comment="Excellent help")
    recognise_survey(survey_id=survey.pk)
    api = ApiClient(agent)
    kudos = api.get("/feedback/kudos", {"user": agent.pk}).json()
    assert [(k["quote"], k["source"]) for k in kudos["items"]] == [("Excellent help", "survey")]
    [owed] = api.get("/feedback/thank-yous").json()
    assert (owed["state"], owed["kept"]) == ("due", None)
    sent = api.post(f"/feedback/thank-yous/{owed['id']}/send", {"body": "Thank you!"})
    assert sent.status_code == 200 and sent.json()["state"] == "sent" and sent.json()["kept"] is True
    again = api.post(f"/feedback/thank-yous/{owed['id']}/phone", {})
    assert again.status_code == 409 and again.json()["code"] == "thank_you_done"
    assert ThankYou.objects.get().state == ThankYouState.SENT


def test_a_thank_you_no_channel_can_carry_is_a_problem_saying_so(agent):
    caller = create_contact(
        actor=None, name="Paula Phone", identities=[IdentityInput(IdentityKind.PHONE, "+1 415 555 0103")]
    )
    case = solved_case(agent=agent, requester=caller, channel=Channel.API, reply=False)
    message = add_message(actor=None, case=case, direction=Direction.INBOUND,
                          body=MessageInput(body_text="You were fantastic, thank you.")).message  # fmt: skip
    read_inbound_message(message_id=message.pk)
    owed = ThankYou.objects.get()
    refused = ApiClient(agent).post(f"/feedback/thank-yous/{owed.pk}/send", {"body": "Thank you!"})
    assert refused.status_code == 409 and refused["Content-Type"] == "application/problem+json"
    problem = refused.json()
    assert (problem["code"], problem["detail"]) == (
        "no_channel",
        f"No channel reaches this customer: {case.number} came by API, which cannot send messages, and they have "
        "no email address. Call them and record the thank-you.",
    )
    assert ThankYou.objects.get().state == ThankYouState.DUE


def test_staff_opt_a_customer_out(agent):
    contact = make_contact()
    response = ApiClient(agent).post("/feedback/opt-outs", {"contact": contact.pk, "reason": "Asked on the phone"})
    assert response.status_code == 201 and response.json()["contact_id"] == contact.pk
    assert SurveyOptOut.objects.get().reason == "Asked on the phone"
