"""Every write of the feedback domain: rules, surveys, answers, follow-ups, kudos and thank-yous.

Surveys and follow-ups are scheduled when a case is solved (the cases domain's
`case.status_changed`, see events.py) and sent later by a task; what they say
goes out as an outbound message on the case, so the channel that serves the
case delivers it and the conversation shows it. Reads are done before a write
transaction opens where possible (on SQLite a write transaction holds the one
write lock).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q

from caseloop.cases.actions import MessageInput, add_message, change_status, create_case
from caseloop.cases.choices import OPEN_STATUSES, CaseStatus, Channel, Direction, Priority
from caseloop.cases.models import Case, Message
from caseloop.core import clock
from caseloop.core.errors import Invalid
from caseloop.core.events import on_commit, publish
from caseloop.core.fastdb import get_by
from caseloop.customers.models import Contact
from caseloop.customers.selectors import contact_ids_for_history, surviving_contact
from caseloop.feedback import promising, tasks
from caseloop.feedback.choices import (
    AnswerSource,
    Expectation,
    FollowUpMethod,
    FollowUpState,
    KudosSource,
    Question,
    SkipReason,
    SurveyState,
    ThankYouState,
)
from caseloop.feedback.errors import FeedbackError, FeedbackErrorCode
from caseloop.feedback.lexicon import complains_about_surveys, may_concern_feedback, read_praise
from caseloop.feedback.models import (
    LIVE_SURVEY_STATES,
    OPEN_FOLLOW_UP_STATES,
    FollowUp,
    FollowUpRule,
    Kudos,
    ManagerNotice,
    Survey,
    SurveyAnswer,
    SurveyOptOut,
    SurveyPerson,
    SurveyRule,
    ThankYou,
)
from caseloop.feedback.selectors import (
    MANAGER_ROLES,
    follow_up_from_token,
    has_email,
    managers_of,
    matching_follow_up_rule,
    matching_survey_rule,
    opted_out,
    reply_channel,
    survey_from_token,
    surveyed_recently,
    worked_by,
)
from caseloop.feedback.texts import follow_up_text, not_held_text, survey_text
from caseloop.feedback.tokens import Purpose, make_token
from caseloop.identity.models import Team, User
from caseloop.identity.selectors import require_role, require_staff
from caseloop.timeline.actions import record_audit, record_event
from caseloop.timeline.choices import SubjectKind as S

MAX_COMMENT = 5000
MAX_DELAY_MINUTES = 60 * 24 * 30
SCALES = {Question.CES: (1, 7), Question.CSAT: (1, 5), Question.NPS: (0, 10)}


def _subjects(case: Case) -> list[tuple[S, int | None]]:
    """Where a survey answer or a follow-up lands: the case, its customer, organization, site and asset."""
    return [(S.CASE, case.pk), (S.CONTACT, case.requester_id), (S.ORGANIZATION, case.organization_id),
            (S.SITE, case.site_id), (S.ASSET, case.asset_id)]  # fmt: skip


# --- rules ----------------------------------------------------------------------------------------------
def _clean_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 100:
        raise Invalid("A rule needs a name of at most 100 characters.", field="name")
    return name


def _clean_questions(questions: Sequence[str]) -> list[str]:
    """Known questions, each once, expectations first (it is the headline and the one-click question)."""
    unknown = [q for q in questions if q not in Question.values]
    if unknown:
        raise FeedbackError(FeedbackErrorCode.BAD_RULE, f"Unknown question {', '.join(map(str, unknown))}.",
                            field="questions")  # fmt: skip
    rest = [q for q in Question.values if q in questions and q != Question.EXPECTATIONS]
    return [Question.EXPECTATIONS.value, *rest]


def _clean_channels(channels: Sequence[str]) -> list[str]:
    unknown = [c for c in channels if c not in Channel.values]
    if unknown:
        raise FeedbackError(FeedbackErrorCode.BAD_RULE, f"Unknown channel {', '.join(map(str, unknown))}.",
                            field="channels")  # fmt: skip
    return sorted(set(channels))


def _check_range(value: int, *, low: int, high: int, field: str) -> int:
    if not low <= value <= high:
        raise FeedbackError(FeedbackErrorCode.BAD_RULE, f"{field} must be between {low} and {high}.", field=field)
    return value


def create_survey_rule(
    *,
    actor: User | None,
    name: str,
    questions: Sequence[str] = tuple(Question.values),
    delay_minutes: int = 60,
    fatigue_days: int = 30,
    team: Team | None = None,
    channels: Sequence[str] = (),
    is_active: bool = True,
) -> SurveyRule:
    """Say which questions a solved case's customer is asked, how long after, and how often at most."""
    require_role(actor, *MANAGER_ROLES)
    fields = {
        "name": _clean_name(name), "questions": _clean_questions(questions),
        "delay_minutes": _check_range(delay_minutes, low=0, high=MAX_DELAY_MINUTES, field="delay_minutes"),
        "fatigue_days": _check_range(fatigue_days, low=0, high=365, field="fatigue_days"),
        "channels": _clean_channels(channels), "is_active": is_active,
    }  # fmt: skip
    with transaction.atomic():
        rule = SurveyRule.objects.create(team=team, **fields)
        record_audit(action="survey_rule.create", object_type="survey_rule", object_id=rule.pk, actor=actor,
                     after={**fields, "team": team.pk if team else None})  # fmt: skip
    return rule


def update_survey_rule(
    *,
    actor: User | None,
    rule: SurveyRule,
    name: str | None = None,
    questions: Sequence[str] | None = None,
    delay_minutes: int | None = None,
    fatigue_days: int | None = None,
    channels: Sequence[str] | None = None,
    is_active: bool | None = None,
) -> SurveyRule:
    """Change a rule; only the arguments given are touched. Surveys already scheduled keep their questions."""
    require_role(actor, *MANAGER_ROLES)
    changes: dict[str, object] = {}
    if name is not None:
        changes["name"] = _clean_name(name)
    if questions is not None:
        changes["questions"] = _clean_questions(questions)
    if delay_minutes is not None:
        changes["delay_minutes"] = _check_range(delay_minutes, low=0, high=MAX_DELAY_MINUTES, field="delay_minutes")
    if fatigue_days is not None:
        changes["fatigue_days"] = _check_range(fatigue_days, low=0, high=365, field="fatigue_days")
    if channels is not None:
        changes["channels"] = _clean_channels(channels)
    if is_active is not None:
        changes["is_active"] = is_active
    changed = {k: v for k, v in changes.items() if getattr(rule, k) != v}
    if not changed:
        return rule
    with transaction.atomic():
        before = {k: getattr(rule, k) for k in changed}
        for key, value in changed.items():
            setattr(rule, key, value)
        rule.save(update_fields=[*changed, "updated_at"])
        record_audit(action="survey_rule.update", object_type="survey_rule", object_id=rule.pk, actor=actor,
                     before=before, after=changed)  # fmt: skip
    return rule


def create_follow_up_rule(
    *,
    actor: User | None,
    name: str,
    delay_hours: int = 72,
    method: FollowUpMethod = FollowUpMethod.MESSAGE,
    team: Team | None = None,
    tags: Sequence[str] = (),
    needs_asset: bool = True,
    is_active: bool = True,
) -> FollowUpRule:
    """Say which fixes get a "did it hold?" follow-up, how many hours after the solve, and by message or call."""
    require_role(actor, *MANAGER_ROLES)
    cleaned_tags = sorted({t.strip().lower() for t in tags if t.strip()})
    fields = {"name": _clean_name(name), "method": FollowUpMethod(method),
              "delay_hours": _check_range(delay_hours, low=1, high=24 * 90, field="delay_hours"),
              "tags": cleaned_tags, "needs_asset": needs_asset, "is_active": is_active}  # fmt: skip
    with transaction.atomic():
        rule = FollowUpRule.objects.create(team=team, **fields)
        record_audit(action="follow_up_rule.create", object_type="follow_up_rule", object_id=rule.pk, actor=actor,
                     after={**fields, "team": team.pk if team else None})  # fmt: skip
    return rule


def set_follow_up_rule_active(*, actor: User | None, rule: FollowUpRule, is_active: bool) -> FollowUpRule:
    require_role(actor, *MANAGER_ROLES)
    if rule.is_active != is_active:
        with transaction.atomic():
            rule.is_active = is_active
            rule.save(update_fields=["is_active"])
            record_audit(action="follow_up_rule.update", object_type="follow_up_rule", object_id=rule.pk,
                         actor=actor, before={"is_active": not is_active}, after={"is_active": is_active})  # fmt: skip
    return rule


# --- surveys: scheduling and sending ----------------------------------------------------------------------------
def on_case_solved(*, case_id: int) -> None:
    """A case was solved: schedule its survey and, for a fix, its follow-up (each idempotent)."""
    schedule_survey(case_id=case_id)
    schedule_follow_up(case_id=case_id)


def _skip_reason_now(case: Case, contact_ids: Sequence[int], *, fatigue_days: int, survey_id: int | None) -> str:
    if case.status == CaseStatus.CLOSED:
        return SkipReason.CLOSED
    if case.status != CaseStatus.SOLVED:
        return SkipReason.REOPENED
    if opted_out(contact_ids):
        return SkipReason.OPTED_OUT
    if surveyed_recently(contact_ids, days=fatigue_days, exclude_id=survey_id):
        return SkipReason.FATIGUE
    return ""


def _survey_decided(case: Case) -> Survey | None:
    """The case's live survey, or the one already decided for its current solve (skipped ones included).

    A skipped survey leaves room for a later solve, not for the same solve
    decided twice: `case_solved` delivered twice (two workers, a retry) must
    not record a second "no survey" nor count the first decision as fatigue.
    """
    assert case.solved_at is not None
    this_solve = Q(state__in=LIVE_SURVEY_STATES) | Q(created_at__gte=case.solved_at)
    return Survey.objects.filter(this_solve, case_id=case.pk).order_by("-id").first()


def schedule_survey(*, case_id: int) -> Survey | None:
    """Schedule the survey of a solved case under the rule that applies, or record why none goes out.

    Idempotent: a case has at most one live survey, and one decision per solve.
    Fatigue (one survey per customer per the rule's days) and opt-outs are
    checked now and again when sending. The customer's contact row is locked
    while deciding, so two cases of one customer solved at once cannot both
    pass the fatigue check, and the same solve scheduled by two workers at
    once is decided by the first (the second finds its survey under the lock).
    """
    case = Case.objects.select_related("requester").filter(pk=case_id).first()
    if case is None or case.status != CaseStatus.SOLVED:
        return None
    existing = _survey_decided(case)
    if existing is not None:
        return existing
    rule = matching_survey_rule(case)
    if rule is None:
        return None
    contact = surviving_contact(case.requester)
    history = contact_ids_for_history(contact)
    channel = reply_channel(case, contact)
    people = worked_by(case)
    now = clock.now()
    try:
        with transaction.atomic():
            Contact.objects.select_for_update().filter(pk=contact.pk).first()
            decided = _survey_decided(case)
            if decided is not None:  # another worker scheduled this solve while we read the rules
                return decided
            skip = _skip_reason_now(case, history, fatigue_days=rule.fatigue_days, survey_id=None)
            if not skip and channel is None:
                skip = SkipReason.NO_CHANNEL
            survey = Survey.objects.create(
                case=case, contact=contact, rule=rule, questions=list(rule.questions), channel=channel or "",
                state=SurveyState.SKIPPED if skip else SurveyState.SCHEDULED, skip_reason=skip,
                scheduled_for=now + dt.timedelta(minutes=rule.delay_minutes), team_id=case.team_id, created_at=now,
            )  # fmt: skip
            SurveyPerson.objects.bulk_create(SurveyPerson(survey=survey, user=person) for person in people)
            if skip:
                record_event(kind="survey.skipped", subjects=[(S.CASE, case.pk)], case_id=case.pk,
                             summary=f"No survey for {case.number}: {SkipReason(skip).label.lower()}",
                             data={"survey": survey.pk, "reason": skip})  # fmt: skip
    except IntegrityError:  # the same solve delivered twice, concurrently
        return Survey.objects.filter(case_id=case.pk, state__in=LIVE_SURVEY_STATES).first()
    if not skip:
        on_commit(tasks.enqueue_survey, survey.pk, survey.scheduled_for)
    return survey


def send_survey(*, survey_id: int) -> Survey | None:
    """Send a scheduled survey whose time has come, or skip it with the reason (idempotent)."""
    with transaction.atomic():
        survey = Survey.objects.select_for_update(of=("self",)).select_related("case", "contact", "rule") \
            .filter(pk=survey_id).first()  # fmt: skip
        if survey is None or survey.state != SurveyState.SCHEDULED or survey.scheduled_for > clock.now():
            return survey
        case = survey.case
        fatigue = survey.rule.fatigue_days if survey.rule else settings.CASELOOP_SURVEY_FATIGUE_DAYS
        skip = _skip_reason_now(case, contact_ids_for_history(survey.contact), fatigue_days=fatigue,
                                survey_id=survey.pk)  # fmt: skip
        now = clock.now()
        if skip:
            survey.state, survey.skip_reason = SurveyState.SKIPPED, skip
            survey.save(update_fields=["state", "skip_reason"])
            record_event(kind="survey.skipped", subjects=[(S.CASE, case.pk)], case_id=case.pk,
                         summary=f"No survey for {case.number}: {SkipReason(skip).label.lower()}",
                         data={"survey": survey.pk, "reason": skip})  # fmt: skip
            return survey
        text = survey_text(case=case, contact=survey.contact, token=make_token(purpose=Purpose.SURVEY, ident=survey.pk),
                           questions=list(survey.questions), channel=survey.channel)  # fmt: skip
        added = add_message(actor=None, case=case, direction=Direction.OUTBOUND, channel=Channel(survey.channel),
                            body=MessageInput(body_text=text.body_text, body_html=text.body_html))  # fmt: skip
        survey.state, survey.sent_at, survey.message = SurveyState.SENT, now, added.message
        survey.save(update_fields=["state", "sent_at", "message"])
        record_event(kind="survey.sent", subjects=[(S.CASE, case.pk), (S.CONTACT, survey.contact_id)],
                     case_id=case.pk, summary=f"Survey sent on {case.number} by {survey.channel}",
                     data={"survey": survey.pk, "message": added.message.pk})  # fmt: skip
    return survey


def send_due_surveys(*, limit: int = 200) -> int:
    """Send (or skip) every scheduled survey whose time has come; the sweep behind deferred tasks."""
    due = list(Survey.objects.filter(state=SurveyState.SCHEDULED, scheduled_for__lte=clock.now())
               .order_by("scheduled_for").values_list("id", flat=True)[:limit])  # fmt: skip
    for survey_id in due:
        send_survey(survey_id=survey_id)
    return len(due)


# --- answers --------------------------------------------------------------------------------------------------------
def _expectation(raw: str | None) -> Expectation | None:
    if raw in (None, ""):
        return None
    if raw not in Expectation.values:
        raise FeedbackError(FeedbackErrorCode.BAD_ANSWER, "Choose failed, met or exceeded.", field="expectations")
    return Expectation(raw)


def _answerable(survey: Survey) -> None:
    if survey.state not in (SurveyState.SENT, SurveyState.ANSWERED):
        raise FeedbackError(FeedbackErrorCode.BAD_ANSWER, "This survey takes no answers.", status=409)


def _summary(case: Case, answer: SurveyAnswer) -> str:
    parts = []
    if answer.expectations:
        parts.append(Expectation(answer.expectations).label.lower())
    if answer.ces is not None:
        parts.append(f"effort {answer.ces}/7")
    if answer.csat is not None:
        parts.append(f"satisfaction {answer.csat}/5")
    if answer.nps is not None:
        parts.append(f"recommend {answer.nps}/10")
    text = f"Survey on {case.number}: " + (" · ".join(parts) if parts else "no answer yet")
    if answer.comment:
        text += f" — “{answer.comment[:120]}”"
    return text


def _record_answer_event(survey: Survey, answer: SurveyAnswer) -> None:
    people = list(SurveyPerson.objects.filter(survey=survey).values_list("user_id", flat=True))
    record_event(kind="survey.answered", subjects=_subjects(survey.case), case_id=survey.case_id,
                 summary=_summary(survey.case, answer),
                 data={"survey": survey.pk, "expectations": answer.expectations, "ces": answer.ces,
                       "csat": answer.csat, "nps": answer.nps, "team": survey.team_id, "people": people})  # fmt: skip


def _answer_values(answer: SurveyAnswer) -> dict[str, str | int | None]:
    return {"expectations": answer.expectations, "ces": answer.ces, "csat": answer.csat, "nps": answer.nps,
            "comment": answer.comment}  # fmt: skip


def _record_change_event(
    survey: Survey, before: dict[str, str | int | None], after: dict[str, str | int | None]
) -> None:
    """An answer already recorded was changed: one `survey.changed` with the values before and after."""

    def shown(name: str, value: str | int | None) -> str:
        if value is None:
            return "none"
        if name == "expectations":
            return Expectation(str(value)).label.lower()
        return f"{value}/{SCALES[Question(name)][1]}"

    labels = {"ces": "effort", "csat": "satisfaction", "nps": "recommend"}
    parts = []
    for name in ("expectations", "ces", "csat", "nps"):
        if before[name] != after[name]:
            was, now = shown(name, before[name]), shown(name, after[name])
            parts.append(f"{was} → {now}" if name == "expectations" else f"{labels[name]} {was} → {now}")
    if before["comment"] != after["comment"]:
        parts.append(f"comment “{str(after['comment'])[:120]}”" if after["comment"] else "comment removed")
    people = list(SurveyPerson.objects.filter(survey=survey).values_list("user_id", flat=True))
    record_event(kind="survey.changed", subjects=_subjects(survey.case), case_id=survey.case_id,
                 summary=f"Survey on {survey.case.number} changed: " + " · ".join(parts),
                 data={"survey": survey.pk, "before": before, "after": after, "team": survey.team_id,
                       "people": people})  # fmt: skip


def record_click(*, token: str, choice: str) -> Survey:
    """The one-click answer to the headline question, from a link in the survey message.

    A different choice clicked within CASELOOP_SURVEY_CLICK_CONFLICT_SECONDS of
    the previous click is a link scanner opening every link, not a person: the
    headline is left unanswered and the page asks for it (ADR 0041).
    """
    survey = survey_from_token(token)
    expectation = _expectation(choice)
    if expectation is None:
        raise FeedbackError(FeedbackErrorCode.BAD_ANSWER, "Choose failed, met or exceeded.", field="expectations")
    _answerable(survey)
    window = dt.timedelta(seconds=settings.CASELOOP_SURVEY_CLICK_CONFLICT_SECONDS)
    with transaction.atomic():
        now = clock.now()
        answer = SurveyAnswer.objects.select_for_update().filter(survey=survey).first()
        first = answer is None or answer.expectations is None
        before = None if answer is None or first else _answer_values(answer)
        if answer is None:
            answer = SurveyAnswer(survey=survey, answered_at=now, source=AnswerSource.CLICK)
        scanner = (answer.source == AnswerSource.CLICK and answer.last_click not in ("", expectation)
                   and answer.last_click_at is not None and now - answer.last_click_at <= window)  # fmt: skip
        if scanner:
            if not answer.clicks_conflicted:
                record_event(kind="survey.clicks_conflicted", subjects=[(S.CASE, survey.case_id)],
                             case_id=survey.case_id,
                             summary=f"Survey on {survey.case.number}: several answers clicked within seconds "
                                     "(a mail scanner?); set aside until the customer chooses",
                             data={"survey": survey.pk})  # fmt: skip
            answer.expectations, answer.clicks_conflicted = None, True
        else:
            answer.expectations, answer.clicks_conflicted = expectation, False
        answer.last_click, answer.last_click_at, answer.updated_at = expectation, now, now
        answer.save()
        state = SurveyState.ANSWERED if answer.expectations else SurveyState.SENT
        if survey.state != state:
            survey.state = state
            survey.save(update_fields=["state"])
        if first and answer.expectations:
            _record_answer_event(survey, answer)
        elif before is not None and before != (after := _answer_values(answer)):
            _record_change_event(survey, before, after)  # a later click with another choice, or set aside
    return survey


def _scale(value: int | None, question: Question, asked: Sequence[str]) -> int | None:
    if value is None:
        return None
    if question not in asked:
        raise FeedbackError(FeedbackErrorCode.BAD_ANSWER, f"This survey does not ask {question.label}.",
                            field=question.value)  # fmt: skip
    low, high = SCALES[question]
    if isinstance(value, bool) or not low <= value <= high:
        raise FeedbackError(FeedbackErrorCode.BAD_ANSWER, f"{question.label} is a whole number from {low} to {high}.",
                            field=question.value)  # fmt: skip
    return value


def answer_survey(
    *,
    token: str,
    expectations: str | None,
    ces: int | None = None,
    csat: int | None = None,
    nps: int | None = None,
    comment: str = "",
    no_more_surveys: bool = False,
) -> SurveyAnswer:
    """The survey page's answer: the headline (required unless a click gave it) and the optional rest.

    Answering again replaces the earlier answer: the change is recorded as
    `survey.changed` (before and after), the same answer again records
    nothing. A comment that complains about
    surveys, or the "no more surveys" box, stops surveys to this customer.
    Praise is recognised after commit.
    """
    survey = survey_from_token(token)
    _answerable(survey)
    asked = list(survey.questions)
    headline = _expectation(expectations)
    previous = getattr(survey, "answer", None)
    if headline is None and (previous is None or previous.expectations is None):
        raise FeedbackError(FeedbackErrorCode.BAD_ANSWER, "Please say whether we met your expectations.",
                            field="expectations")  # fmt: skip
    comment = comment.strip()
    if comment and Question.COMMENT not in asked:
        raise FeedbackError(FeedbackErrorCode.BAD_ANSWER, "This survey does not ask for a comment.", field="comment")
    if len(comment) > MAX_COMMENT:
        raise FeedbackError(FeedbackErrorCode.BAD_ANSWER, f"A comment is at most {MAX_COMMENT} characters.",
                            field="comment")  # fmt: skip
    scores = {"ces": _scale(ces, Question.CES, asked), "csat": _scale(csat, Question.CSAT, asked),
              "nps": _scale(nps, Question.NPS, asked)}  # fmt: skip
    stop = no_more_surveys or complains_about_surveys(comment)
    with transaction.atomic():
        now = clock.now()
        answer = SurveyAnswer.objects.select_for_update().filter(survey=survey).first()
        if answer is None:
            answer = SurveyAnswer(survey=survey, answered_at=now)
        # an answer with its headline is on the timelines already: what follows changes it (or repeats it)
        before = _answer_values(answer) if answer.pk is not None and answer.expectations is not None else None
        answer.expectations = headline or answer.expectations
        answer.ces, answer.csat, answer.nps = scores["ces"], scores["csat"], scores["nps"]
        answer.comment, answer.source, answer.clicks_conflicted = comment, AnswerSource.PAGE, False
        answer.updated_at = now
        answer.save()
        if survey.state != SurveyState.ANSWERED:
            survey.state = SurveyState.ANSWERED
            survey.save(update_fields=["state"])
        if before is None:
            _record_answer_event(survey, answer)
        elif before != (after := _answer_values(answer)):
            _record_change_event(survey, before, after)
        if stop:
            reason = "ticked “no more surveys”" if no_more_surveys else "complained about surveys in a comment"
            _opt_out(contact=survey.contact, reason=f"On the survey page of {survey.case.number}: {reason}",
                     message=None, actor=None)  # fmt: skip
    publish("survey.answered", survey_id=survey.pk)
    return answer


# --- opting out -------------------------------------------------------------------------------------------------------
def _opt_out(*, contact: Contact, reason: str, message: Message | None, actor: User | None) -> SurveyOptOut:
    now = clock.now()
    opt_out = SurveyOptOut.objects.filter(contact_id=contact.pk).first()
    if opt_out is None:
        opt_out = SurveyOptOut.objects.create(contact=contact, reason=reason[:300], message=message, created_at=now)
        record_event(kind="survey.opted_out", subjects=[(S.CONTACT, contact.pk)], actor=actor,
                     case_id=message.case_id if message else None,
                     summary=f"{contact.name} gets no more surveys: {reason}"[:300])  # fmt: skip
    Survey.objects.filter(contact_id__in=contact_ids_for_history(contact), state=SurveyState.SCHEDULED).update(
        state=SurveyState.SKIPPED, skip_reason=SkipReason.OPTED_OUT
    )
    return opt_out


def opt_out_of_surveys(
    *, actor: User | None, contact: Contact, reason: str, message: Message | None = None
) -> SurveyOptOut:
    """Send this customer no more surveys (they asked, or complained about them); scheduled ones are dropped."""
    if actor is not None:
        require_staff(actor)
    reason = reason.strip()
    if not reason:
        raise Invalid("Say why (e.g. what the customer asked).", field="reason")
    contact = surviving_contact(contact)
    try:
        with transaction.atomic():
            return _opt_out(contact=contact, reason=reason, message=message, actor=actor)
    except IntegrityError:  # opted out concurrently
        return SurveyOptOut.objects.get(contact_id=contact.pk)


# --- recognition -----------------------------------------------------------------------------------------------
def _high_score(answer: SurveyAnswer) -> bool:
    """Exceeded expectations, full satisfaction or a promoter's score — never with failed expectations."""
    if answer.expectations == Expectation.FAILED:
        return False
    promoter = answer.nps is not None and answer.nps >= 9
    return answer.expectations == Expectation.EXCEEDED or answer.csat == 5 or promoter


def _recognise(*, case: Case, contact: Contact, people: Sequence[User], quote: str, source: KudosSource,
               survey: Survey | None, message: Message | None) -> list[Kudos]:  # fmt: skip
    """Kudos on each person's profile, their managers told, a thank-you owed to the customer within a day.

    Idempotent: the praise's row (the survey or the message) is locked first, so
    the same praise read again (a task run twice, a survey answer saved again)
    adds nothing and puts no second "praise" on the timeline.
    """
    if not people:
        return []
    managers = {person.pk: managers_of(person) for person in people}
    owner = next((p for p in people if p.pk == case.assignee_id), people[0])
    now = clock.now()
    with transaction.atomic():
        if survey is not None:
            Survey.objects.select_for_update().filter(pk=survey.pk).first()
        elif message is not None:
            Message.objects.select_for_update().filter(pk=message.pk).first()
        already = set(Kudos.objects.filter(user__in=list(people), survey=survey, message=message)
                      .values_list("user_id", flat=True))  # fmt: skip
        Kudos.objects.bulk_create(
            [Kudos(user=person, case=case, contact=contact, source=source, survey=survey, message=message,
                   quote=quote[:MAX_COMMENT], created_at=now) for person in people],
            ignore_conflicts=True,
        )  # fmt: skip
        given = Kudos.objects.filter(user__in=list(people), survey=survey, message=message).select_related("user")
        kudos = list(given)
        ManagerNotice.objects.bulk_create(
            [ManagerNotice(recipient=manager, kudos=k, created_at=now)
             for k in kudos for manager in managers[k.user_id]],
            ignore_conflicts=True,
        )  # fmt: skip
        exists = ThankYou.objects.filter(survey=survey) if survey else ThankYou.objects.filter(praise_message=message)
        if not exists.exists():
            thank_you = ThankYou.objects.create(
                case=case, contact=contact, survey=survey, praise_message=message, quote=quote[:MAX_COMMENT],
                owner=owner, created_at=now, due_at=now + dt.timedelta(hours=settings.CASELOOP_THANK_YOU_HOURS),
            )  # fmt: skip
            promising.promise_thank_you(thank_you)
        praised = [k for k in kudos if k.user_id not in already]
        if praised:
            names = ", ".join(k.user.name for k in praised)
            record_event(kind="kudos.given", subjects=[(S.CASE, case.pk), (S.CONTACT, contact.pk)], case_id=case.pk,
                         summary=f"Praise for {names} on {case.number}: “{quote[:120]}”",
                         data={"people": [k.user_id for k in praised], "source": source})  # fmt: skip
    return kudos


def recognise_survey(*, survey_id: int) -> list[Kudos]:
    """A high score with a positive comment becomes kudos for everyone who worked the case."""
    survey = Survey.objects.select_related("case", "contact", "answer").filter(pk=survey_id).first()
    answer = getattr(survey, "answer", None) if survey is not None else None
    if survey is None or answer is None or not answer.comment:
        return []
    if not _high_score(answer) or not read_praise(answer.comment).is_positive_comment():
        return []
    people = list(User.objects.filter(pk__in=SurveyPerson.objects.filter(survey=survey).values("user_id")))
    return _recognise(case=survey.case, contact=survey.contact, people=people, quote=answer.comment,
                      source=KudosSource.SURVEY, survey=survey, message=None)  # fmt: skip


def read_inbound_message(*, message_id: int) -> list[Kudos]:
    """What an inbound message tells us about feedback: a compliment (kudos) or a complaint about surveys (opt-out)."""
    # Runs after every inbound message (each email filed): one prepared read, and the case and
    # contact are read only for the few messages that say something about feedback.
    message = get_by(Message, id=message_id)
    if message is None or message.direction != Direction.INBOUND or not may_concern_feedback(message.body_text):
        return []
    complains = complains_about_surveys(message.body_text)
    if not complains and not read_praise(message.body_text).is_compliment():
        return []
    contact = surviving_contact(message.author_contact or message.case.requester)
    if complains:
        opt_out_of_surveys(actor=None, contact=contact, message=message,
                           reason=f"Complained about surveys in a message on {message.case.number}")  # fmt: skip
        return []
    return _recognise(case=message.case, contact=contact, people=worked_by(message.case), quote=message.body_text,
                      source=KudosSource.MESSAGE, survey=None, message=message)  # fmt: skip


def mark_notices_read(*, actor: User) -> int:
    return ManagerNotice.objects.filter(recipient=actor, read_at__isnull=True).update(read_at=clock.now())


def _thank_you_open(thank_you: ThankYou) -> ThankYou:
    current = ThankYou.objects.select_for_update().get(pk=thank_you.pk)
    if current.state != ThankYouState.DUE:
        raise FeedbackError(FeedbackErrorCode.THANK_YOU_DONE, "This customer has been thanked already.", status=409)
    return current


def send_thank_you(*, actor: User, thank_you: ThankYou, body: str) -> ThankYou:
    """Thank the customer personally with a message on the case (written by `actor`)."""
    require_staff(actor)
    body = body.strip()
    if not body:
        raise Invalid("Write the thank-you.", field="body")
    case = Case.objects.get(pk=thank_you.case_id)
    if case.status == CaseStatus.CLOSED:
        raise FeedbackError(FeedbackErrorCode.CASE_CLOSED,
                            f"{case.number} is closed: call the customer and record the thank-you.",
                            status=409)  # fmt: skip
    channel = reply_channel(case, thank_you.contact)
    if channel is None:
        why = "they have no email address" if not has_email(thank_you.contact) else "email cannot be sent from here"
        raise FeedbackError(FeedbackErrorCode.NO_CHANNEL,
                            f"No channel reaches this customer: {case.number} came by "
                            f"{Channel(case.channel).label}, which cannot send messages, and {why}. "
                            "Call them and record the thank-you.",
                            status=409)  # fmt: skip
    with transaction.atomic():
        current = _thank_you_open(thank_you)
        added = add_message(actor=actor, case=case, direction=Direction.OUTBOUND, channel=Channel(channel),
                            body=MessageInput(body_text=body))  # fmt: skip
        now = clock.now()
        current.state, current.done_at, current.done_by, current.reply = ThankYouState.SENT, now, actor, added.message
        current.save(update_fields=["state", "done_at", "done_by", "reply"])
        record_event(kind="thank_you.sent", subjects=[(S.CASE, case.pk), (S.CONTACT, current.contact_id)],
                     actor=actor, case_id=case.pk,
                     summary=f"{actor.name} thanked {thank_you.contact.name} for the praise",
                     data={"thank_you": current.pk, "kept": current.kept})  # fmt: skip
    return current


def record_thanked_by_phone(*, actor: User, thank_you: ThankYou, note: str = "") -> ThankYou:
    """The customer was thanked on the phone (or in person): record it, with what was said."""
    require_staff(actor)
    with transaction.atomic():
        current = _thank_you_open(thank_you)
        current.state, current.done_at, current.done_by = ThankYouState.CALLED, clock.now(), actor
        current.save(update_fields=["state", "done_at", "done_by"])
        promising.thanked_by_phone(current, actor=actor)
        said = f": {note.strip()}" if note.strip() else ""
        summary = f"{actor.name} thanked {thank_you.contact.name} by phone{said}"
        record_event(kind="thank_you.called", subjects=[(S.CASE, current.case_id), (S.CONTACT, current.contact_id)],
                     actor=actor, case_id=current.case_id, summary=summary[:300],
                     data={"thank_you": current.pk, "kept": current.kept})  # fmt: skip
    return current


# --- follow-ups ------------------------------------------------------------------------------------------------
def schedule_follow_up(*, case_id: int) -> FollowUp | None:
    """Schedule "did the fix hold?" for a solved case under a follow-up rule (idempotent).

    Solved again after a reopen, a follow-up not yet asked moves to the new due time.
    """
    case = Case.objects.select_related("requester").filter(pk=case_id).first()
    if case is None or case.status != CaseStatus.SOLVED:
        return None
    rule = matching_follow_up_rule(case, list(case.tags.values_list("name", flat=True)))
    if rule is None:
        return None
    now = clock.now()
    due = now + dt.timedelta(hours=rule.delay_hours)
    open_one = FollowUp.objects.filter(case_id=case.pk, state__in=OPEN_FOLLOW_UP_STATES).first()
    if open_one is not None:
        if open_one.state == FollowUpState.SCHEDULED and open_one.due_at != due:
            with transaction.atomic():
                promising.follow_up_released(open_one, reason="Solved again: the follow-up moves to the new solve.")
                open_one.due_at = due
                open_one.save(update_fields=["due_at"])
                promising.promise_follow_up(open_one, case)
            on_commit(tasks.enqueue_follow_up, open_one.pk, due)
        return open_one
    try:
        with transaction.atomic():
            follow_up = FollowUp.objects.create(
                case=case, contact=surviving_contact(case.requester), rule=rule, method=rule.method, due_at=due,
                assigned_to_id=case.assignee_id if rule.method == FollowUpMethod.CALL else None, created_at=now,
            )  # fmt: skip
            record_event(kind="follow_up.scheduled", subjects=[(S.CASE, case.pk)], case_id=case.pk,
                         summary=f"Follow-up “did it hold?” due {due:%d %b %Y} "
                                 f"({FollowUpMethod(rule.method).label.lower()})",
                         data={"follow_up": follow_up.pk, "due_at": due})  # fmt: skip
            promising.promise_follow_up(follow_up, case)
    except IntegrityError:
        return FollowUp.objects.filter(case_id=case.pk, state__in=OPEN_FOLLOW_UP_STATES).first()
    on_commit(tasks.enqueue_follow_up, follow_up.pk, due)
    return follow_up


def send_follow_up(*, follow_up_id: int) -> FollowUp | None:
    """Ask "did it hold?" when due: by message on a solved case, else as a call task; reopened cases need none."""
    with transaction.atomic():
        follow_up = FollowUp.objects.select_for_update(of=("self",)).select_related("case", "contact") \
            .filter(pk=follow_up_id).first()  # fmt: skip
        if follow_up is None or follow_up.state != FollowUpState.SCHEDULED or follow_up.due_at > clock.now():
            return follow_up
        case = follow_up.case
        now = clock.now()
        if case.status in OPEN_STATUSES:
            follow_up.state, follow_up.note = FollowUpState.CANCELLED, "The case was reopened before the follow-up."
            follow_up.save(update_fields=["state", "note"])
            promising.follow_up_released(follow_up, reason="The case was reopened before the follow-up.")
            return follow_up
        channel = reply_channel(case, follow_up.contact) if case.status == CaseStatus.SOLVED else None
        if follow_up.method == FollowUpMethod.CALL or channel is None:
            why = "" if follow_up.method == FollowUpMethod.CALL else (
                "The case is closed, so the question cannot go on it: call instead." if case.status == CaseStatus.CLOSED
                else "No channel reaches the customer: call instead.")  # fmt: skip
            follow_up.state, follow_up.note = FollowUpState.CALL_DUE, why
            follow_up.assigned_to_id = follow_up.assigned_to_id or case.assignee_id
            follow_up.save(update_fields=["state", "note", "assigned_to"])
            record_event(kind="follow_up.call_due", subjects=[(S.CASE, case.pk)], case_id=case.pk,
                         summary=f"Call {follow_up.contact.name}: did the fix on {case.number} hold?",
                         data={"follow_up": follow_up.pk, "assigned_to": follow_up.assigned_to_id})  # fmt: skip
            return follow_up
        text = follow_up_text(case=case, contact=follow_up.contact, channel=channel,
                              token=make_token(purpose=Purpose.FOLLOW_UP, ident=follow_up.pk))  # fmt: skip
        added = add_message(actor=None, case=case, direction=Direction.OUTBOUND, channel=Channel(channel),
                            body=MessageInput(body_text=text.body_text, body_html=text.body_html))  # fmt: skip
        follow_up.state, follow_up.sent_at, follow_up.message = FollowUpState.SENT, now, added.message
        follow_up.save(update_fields=["state", "sent_at", "message"])
        promising.follow_up_done(follow_up, actor=None)
        record_event(kind="follow_up.sent", subjects=[(S.CASE, case.pk)], case_id=case.pk,
                     summary=f"Asked whether the fix on {case.number} held",
                     data={"follow_up": follow_up.pk})  # fmt: skip
    return follow_up


def send_due_follow_ups(*, limit: int = 200) -> int:
    due = list(FollowUp.objects.filter(state=FollowUpState.SCHEDULED, due_at__lte=clock.now())
               .order_by("due_at").values_list("id", flat=True)[:limit])  # fmt: skip
    for follow_up_id in due:
        send_follow_up(follow_up_id=follow_up_id)
    return len(due)


def answer_follow_up_link(*, token: str, held: bool) -> FollowUp:
    """The customer's yes or no from the follow-up message; the same answer twice is the same answer."""
    follow_up = follow_up_from_token(token)
    if follow_up.state in (FollowUpState.HELD, FollowUpState.NOT_HELD):
        if (follow_up.state == FollowUpState.HELD) == held:
            return follow_up
        raise FeedbackError(FeedbackErrorCode.FOLLOW_UP_ANSWERED, "This follow-up has been answered already.",
                            status=409)  # fmt: skip
    if follow_up.state != FollowUpState.SENT:
        raise FeedbackError(FeedbackErrorCode.FOLLOW_UP_NOT_DUE, "This follow-up takes no answer.", status=409)
    return _close_follow_up(follow_up, held=held, actor=None, note="")


def record_follow_up_call(*, actor: User, follow_up: FollowUp, held: bool, note: str = "") -> FollowUp:
    """What the customer said on the follow-up call (also allowed while an emailed follow-up waits)."""
    require_staff(actor)
    if follow_up.state not in (FollowUpState.CALL_DUE, FollowUpState.SENT):
        raise FeedbackError(FeedbackErrorCode.FOLLOW_UP_ANSWERED, "This follow-up is not waiting for an answer.",
                            status=409)  # fmt: skip
    return _close_follow_up(follow_up, held=held, actor=actor, note=note)


def _reopen_with_context(*, follow_up: FollowUp, actor: User | None, note: str) -> Case | None:
    """Put a fix that did not hold back in front of the team: reopen the case, or open a new one if it is closed.

    The customer's own "no" (actor None) is an inbound message, which reopens a
    solved case as any customer reply does; a rep's call is a status change and
    a note with what was said.
    """
    case = Case.objects.select_related("requester", "site", "asset", "team", "assignee").get(pk=follow_up.case_id)
    context = not_held_text(note=note)
    channel = Channel(follow_up.message.channel) if follow_up.message else Channel(case.channel)
    if case.status == CaseStatus.CLOSED:
        assignee = case.assignee if case.assignee is not None and case.assignee.is_active else None
        created = create_case(
            actor=actor, requester=follow_up.contact, subject=f"Fix did not hold: {case.subject}"[:300],
            body=MessageInput(body_text=f"{context}\n\nFollow-up of {case.number}."), channel=channel,
            priority=Priority(case.priority), team=case.team, assignee=assignee, site=case.site, asset=case.asset,
            tags=list(case.tags.values_list("name", flat=True)),
        )  # fmt: skip
        return created.case
    if actor is None:
        add_message(actor=None, case=case, direction=Direction.INBOUND, channel=channel,
                    author_contact=follow_up.contact, body=MessageInput(body_text=context))  # fmt: skip
    else:
        if case.status == CaseStatus.SOLVED:
            change_status(actor=actor, case=case, status=CaseStatus.OPEN)
        add_message(actor=actor, case=case, direction=Direction.NOTE, body=MessageInput(body_text=context),
                    channel=Channel.INTERNAL)  # fmt: skip
    return None


def _close_follow_up(follow_up: FollowUp, *, held: bool, actor: User | None, note: str) -> FollowUp:
    with transaction.atomic():
        current = FollowUp.objects.select_for_update(of=("self",)).select_related("case", "contact", "message") \
            .get(pk=follow_up.pk)  # fmt: skip
        if current.state not in (FollowUpState.SENT, FollowUpState.CALL_DUE):
            raise FeedbackError(FeedbackErrorCode.FOLLOW_UP_ANSWERED, "This follow-up has been answered already.",
                                status=409)  # fmt: skip
        current.state = FollowUpState.HELD if held else FollowUpState.NOT_HELD
        current.answered_at, current.answered_by, current.note = clock.now(), actor, note.strip()[:MAX_COMMENT]
        if not held:
            current.new_case = _reopen_with_context(follow_up=current, actor=actor, note=note)
        current.save(update_fields=["state", "answered_at", "answered_by", "note", "new_case"])
        promising.follow_up_done(current, actor=actor)  # a call made (a link answered: kept when it was sent)
        how = "by phone" if actor is not None else "by link"
        summary = (f"The fix on {current.case.number} held (answered {how})" if held else
                   f"The fix on {current.case.number} did not hold (answered {how})"
                   + (f"; new case {current.new_case.number}" if current.new_case else "; case reopened"))  # fmt: skip
        record_event(kind="follow_up.held" if held else "follow_up.not_held", subjects=_subjects(current.case),
                     actor=actor, case_id=current.case_id, summary=summary,
                     data={"follow_up": current.pk, "new_case": current.new_case_id})  # fmt: skip
    return current
