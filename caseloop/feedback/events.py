"""How the feedback domain reacts to the cases domain (after commit, via core.events).

A solved case queues the work of scheduling its survey and follow-up (a task,
so the request that solved the case pays one queue insert, not the rules).
Every inbound message is read for praise and for complaints about surveys:
one indexed read per message, and writes only when something was found.
"""

from __future__ import annotations

from caseloop.cases.choices import CaseStatus, Direction
from caseloop.core.events import subscribe
from caseloop.feedback import tasks


@subscribe("case.status_changed")
def _case_status_changed(*, case_id: int, after: str, **_: object) -> None:
    if after == CaseStatus.SOLVED:
        tasks.case_solved.enqueue(case_id)


@subscribe("case.message_added")
def _message_added(*, message_id: int, direction: str | None = None, **_: object) -> None:
    if direction is not None and direction != Direction.INBOUND:
        return  # replies and notes say nothing about how the customer feels
    from caseloop.feedback.actions import read_inbound_message

    read_inbound_message(message_id=message_id)


@subscribe("survey.answered")
def _survey_answered(*, survey_id: int, **_: object) -> None:
    tasks.recognise_survey.enqueue(survey_id)
