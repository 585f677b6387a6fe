"""Background work of the feedback domain: each task loads an id and calls one action; all idempotent.

Surveys and follow-ups are queued to run at their due time where the task
backend can defer (the database backend can). Where it cannot, they wait for
the sweep (`manage.py feedback_sweep`, or the `sweep_feedback` task), which
also catches anything a stopped worker missed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django_tasks import task

from caseloop.core import clock


@task()
def case_solved(case_id: int) -> None:
    from caseloop.feedback.actions import on_case_solved

    on_case_solved(case_id=case_id)


@task()
def send_survey(survey_id: int) -> str:
    from caseloop.feedback.actions import send_survey as send

    survey = send(survey_id=survey_id)
    return survey.state if survey is not None else "missing"


@task()
def send_follow_up(follow_up_id: int) -> str:
    from caseloop.feedback.actions import send_follow_up as send

    follow_up = send(follow_up_id=follow_up_id)
    return follow_up.state if follow_up is not None else "missing"


@task()
def recognise_survey(survey_id: int) -> int:
    from caseloop.feedback.actions import recognise_survey as recognise

    return len(recognise(survey_id=survey_id))


@task()
def sweep_feedback() -> dict[str, int]:
    from caseloop.feedback.actions import send_due_follow_ups, send_due_surveys

    return {"surveys": send_due_surveys(), "follow_ups": send_due_follow_ups()}


def _enqueue_at(job: Any, ident: int, when: dt.datetime) -> None:
    if when <= clock.now():
        job.enqueue(ident)
    elif job.get_backend().supports_defer:
        job.using(run_after=when).enqueue(ident)


def enqueue_survey(survey_id: int, when: dt.datetime) -> None:
    _enqueue_at(send_survey, survey_id, when)


def enqueue_follow_up(follow_up_id: int, when: dt.datetime) -> None:
    _enqueue_at(send_follow_up, follow_up_id, when)
