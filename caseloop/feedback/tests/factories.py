"""Builders for feedback tests (and the insights tests above): solved cases, sent surveys, answers.

Everything goes through the actions, so a builder exercises the same path as
production; the clock is moved with `clock.frozen_at` where time matters.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from caseloop.cases.actions import MessageInput, add_message, change_status
from caseloop.cases.choices import CaseStatus, Channel, Direction
from caseloop.cases.models import Case
from caseloop.core import clock
from caseloop.customers.models import Contact
from caseloop.feedback.actions import schedule_survey, send_survey
from caseloop.feedback.models import Survey
from caseloop.feedback.tokens import Purpose, make_token
from caseloop.identity.models import User
from caseloop.testing.factories import make_case, make_contact

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)  # a Monday


def solved_case(*, agent: User, requester: Contact | None = None, channel: Channel = Channel.EMAIL,
                reply: bool = True, **kw: Any) -> Case:  # fmt: skip
    """A case opened by a customer, answered by `agent` (unless reply=False) and solved by them."""
    case = make_case(requester=requester or make_contact(), channel=channel, assignee=agent, **kw)
    if reply:
        add_message(actor=agent, case=case, direction=Direction.OUTBOUND, channel=channel,
                    body=MessageInput(body_text="Fixed: new spring fitted."))  # fmt: skip
    return change_status(actor=agent, case=case, status=CaseStatus.SOLVED)


def sent_survey(case: Case, *, at: dt.datetime = START) -> Survey:
    """Schedule the case's survey at `at` and send it when due (the default rule waits an hour)."""
    with clock.frozen_at(at):
        survey = schedule_survey(case_id=case.pk)
    assert survey is not None
    with clock.frozen_at(survey.scheduled_for):
        sent = send_survey(survey_id=survey.pk)
    assert sent is not None
    return sent


def token_of(survey: Survey) -> str:
    return make_token(purpose=Purpose.SURVEY, ident=survey.pk)
