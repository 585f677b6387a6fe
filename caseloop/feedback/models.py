"""Surveys after a case, follow-ups after a fix, and the praise passed on to the people who earned it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from caseloop.cases.models import Case, Message
from caseloop.customers.models import Contact
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
    Trigger,
)
from caseloop.identity.models import Team, User

ALL_QUESTIONS = [q.value for q in Question]
LIVE_SURVEY_STATES = [SurveyState.SCHEDULED, SurveyState.SENT, SurveyState.ANSWERED]
OPEN_FOLLOW_UP_STATES = [FollowUpState.SCHEDULED, FollowUpState.SENT, FollowUpState.CALL_DUE]


def _all_questions() -> list[str]:
    return list(ALL_QUESTIONS)


class SurveyRule(models.Model):
    """Which event sends which questions, after how long, and how often a customer may be asked.

    The most specific active rule wins: one naming the case's team before one
    for every team, then the oldest. `channels` empty means every channel.
    """

    name = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    trigger = models.CharField(max_length=30, choices=Trigger.choices, default=Trigger.CASE_SOLVED)
    questions = models.JSONField(default=_all_questions)
    delay_minutes = models.PositiveIntegerField(default=60)
    # at most one survey per customer in this many days (0: no limit)
    fatigue_days = models.PositiveIntegerField(default=30)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="survey_rules")
    channels = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class FollowUpRule(models.Model):
    """After which fixes a "did it hold?" follow-up is due, how many hours later, and how it is asked.

    A fix is a solved case matching the rule: of its team (or any team when
    empty), carrying one of its tags (any when empty), and about an asset when
    `needs_asset` is set.
    """

    name = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    trigger = models.CharField(max_length=30, choices=Trigger.choices, default=Trigger.CASE_SOLVED)
    delay_hours = models.PositiveIntegerField(default=72)
    method = models.CharField(max_length=10, choices=FollowUpMethod.choices, default=FollowUpMethod.MESSAGE)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="follow_up_rules")
    tags = models.JSONField(default=list, blank=True)
    needs_asset = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Survey(models.Model):
    """One survey about one solved case, from scheduling to answer.

    At most one live survey (scheduled, sent or answered) per case; a skipped
    one leaves room for a later solve. `team` and `people` are who worked the
    case when it was solved: the answer is attributed to them.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="surveys")
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="surveys")
    rule = models.ForeignKey(SurveyRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="surveys")
    questions = models.JSONField(default=_all_questions)
    channel = models.CharField(max_length=10, blank=True)
    state = models.CharField(max_length=10, choices=SurveyState.choices, default=SurveyState.SCHEDULED)
    skip_reason = models.CharField(max_length=12, choices=SkipReason.choices, blank=True)
    scheduled_for = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    people: models.ManyToManyField[User, SurveyPerson] = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="SurveyPerson", related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case"], condition=Q(state__in=LIVE_SURVEY_STATES),
                                    name="survey_one_live_per_case"),
        ]  # fmt: skip
        indexes = [
            models.Index(fields=["contact", "created_at"], name="survey_contact_recent"),
            models.Index(fields=["state", "scheduled_for"], name="survey_due"),
        ]

    def __str__(self) -> str:
        return f"survey {self.pk} on case {self.case_id}"


class SurveyPerson(models.Model):
    """Someone who worked the surveyed case: its assignee and everyone who answered or noted on it."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="credits")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["survey", "user"], name="survey_person_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} on survey {self.survey_id}"


class SurveyAnswer(models.Model):
    """What the customer answered; every question but the first is optional.

    `last_click`/`last_click_at` remember the latest one-click answer: a second,
    different click within seconds of the first is a mail scanner following
    every link, not a person, and leaves the headline unanswered (see ADR 0041).
    """

    survey = models.OneToOneField(Survey, on_delete=models.CASCADE, related_name="answer")
    expectations = models.CharField(max_length=10, choices=Expectation.choices, null=True, blank=True)
    ces = models.PositiveSmallIntegerField(null=True, blank=True)
    csat = models.PositiveSmallIntegerField(null=True, blank=True)
    nps = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)
    source = models.CharField(max_length=10, choices=AnswerSource.choices, default=AnswerSource.CLICK)
    last_click = models.CharField(max_length=10, blank=True)
    last_click_at = models.DateTimeField(null=True, blank=True)
    clicks_conflicted = models.BooleanField(default=False)
    answered_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(ces__isnull=True) | Q(ces__gte=1, ces__lte=7), name="answer_ces_1_7"),
            models.CheckConstraint(condition=Q(csat__isnull=True) | Q(csat__gte=1, csat__lte=5),
                                   name="answer_csat_1_5"),
            models.CheckConstraint(condition=Q(nps__isnull=True) | Q(nps__lte=10), name="answer_nps_0_10"),
        ]  # fmt: skip
        # insights reads the answers changed since its last refresh
        indexes = [models.Index(fields=["updated_at"], name="answer_updated")]

    def __str__(self) -> str:
        return f"answer to survey {self.survey_id}"


class SurveyOptOut(models.Model):
    """A customer who asked for no more surveys (or complained about them): none is sent again."""

    contact = models.OneToOneField(Contact, on_delete=models.CASCADE, related_name="survey_opt_out")
    reason = models.CharField(max_length=300)
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"no surveys for contact {self.contact_id}"


class FollowUp(models.Model):
    """A "did the fix hold?" check, due some days after a case was solved.

    A message follow-up carries yes/no links; a call follow-up is a task for
    the person who worked the case. "No" reopens the case with the context
    (or opens a new one when the case was closed meanwhile).
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="follow_ups")
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="follow_ups")
    rule = models.ForeignKey(FollowUpRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    method = models.CharField(max_length=10, choices=FollowUpMethod.choices)
    state = models.CharField(max_length=10, choices=FollowUpState.choices, default=FollowUpState.SCHEDULED)
    due_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_up_calls"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    new_case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case"], condition=Q(state__in=OPEN_FOLLOW_UP_STATES),
                                    name="follow_up_one_open_per_case"),
        ]  # fmt: skip
        indexes = [
            models.Index(fields=["state", "due_at"], name="follow_up_due"),
            models.Index(fields=["assigned_to", "state"], name="follow_up_calls"),
        ]

    def __str__(self) -> str:
        return f"follow-up {self.pk} on case {self.case_id}"


class Kudos(models.Model):
    """Praise from a customer, on the profile of one person who worked the case."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="kudos")
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    source = models.CharField(max_length=10, choices=KudosSource.choices)
    survey = models.ForeignKey(Survey, null=True, blank=True, on_delete=models.CASCADE, related_name="kudos")
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    quote = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "survey"], condition=Q(survey__isnull=False),
                                    name="kudos_once_per_survey"),
            models.UniqueConstraint(fields=["user", "message"], condition=Q(message__isnull=False),
                                    name="kudos_once_per_message"),
        ]  # fmt: skip
        indexes = [
            models.Index(fields=["user", "-created_at"], name="kudos_user_newest"),
            models.Index(fields=["created_at"], name="kudos_created"),
        ]
        verbose_name_plural = "kudos"

    def __str__(self) -> str:
        return f"kudos for {self.user_id}"


class ManagerNotice(models.Model):
    """A manager is told that someone in their team was praised."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="kudos_notices")
    kudos = models.ForeignKey(Kudos, on_delete=models.CASCADE, related_name="notices")
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["recipient", "kudos"], name="notice_once_per_kudos")]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notice_unread")]

    def __str__(self) -> str:
        return f"notice to {self.recipient_id} about kudos {self.kudos_id}"


class ThankYou(models.Model):
    """The personal thank-you a customer who praised us is owed within a day.

    Kept when done by `due_at`, late otherwise; one per piece of praise (a
    survey answer or a message), whoever was praised in it.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    survey = models.OneToOneField(Survey, null=True, blank=True, on_delete=models.CASCADE, related_name="thank_you")
    praise_message = models.OneToOneField(
        Message, null=True, blank=True, on_delete=models.CASCADE, related_name="thank_you"
    )
    quote = models.TextField()
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="thank_yous"
    )
    state = models.CharField(max_length=10, choices=ThankYouState.choices, default=ThankYouState.DUE)
    due_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reply = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["state", "due_at"], name="thank_you_due")]

    def __str__(self) -> str:
        return f"thank-you on case {self.case_id}"

    @property
    def kept(self) -> bool | None:
        """True: thanked in time; False: thanked late; None: not yet (whether it is late now depends on the clock)."""
        if self.done_at is None:
            return None
        return self.done_at <= self.due_at
