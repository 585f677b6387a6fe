"""`case.answered`: whether we have written to the customer, which a count of messages cannot tell."""

from __future__ import annotations

import pytest

from caseloop.cases.actions import MessageInput, add_message
from caseloop.cases.choices import Direction
from caseloop.cases.models import Case
from caseloop.policies.engine import ActionFacts, compile_condition
from caseloop.policies.selectors import snapshot_for
from caseloop.testing.factories import make_case

pytestmark = pytest.mark.django_db


def test_a_customer_writing_twice_is_not_an_answer(agent):
    case = make_case()
    add_message(actor=None, case=case, direction=Direction.INBOUND, body=MessageInput(body_text="Any news?"))
    facts = snapshot_for(case=Case.objects.get(pk=case.pk), action=ActionFacts(kind="status_change"), actor=agent,
                         needed=frozenset())  # fmt: skip
    assert facts.case.message_count == 2 and facts.case.answered is False  # two messages, no reply
    add_message(actor=agent, case=case, direction=Direction.OUTBOUND, body=MessageInput(body_text="On it."))
    facts = snapshot_for(case=Case.objects.get(pk=case.pk), action=ActionFacts(kind="status_change"), actor=agent,
                         needed=frozenset())  # fmt: skip
    assert facts.case.answered is True


def test_a_rule_may_ask_for_it():
    compile_condition('action.to_status == "solved" and not case.answered')
