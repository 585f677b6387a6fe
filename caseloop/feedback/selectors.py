"""Reads of surveys, follow-ups and recognition; who may see what is part of each query."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Avg, Count, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from caseloop.cases.choices import Channel, Direction
from caseloop.cases.models import Case, Message
from caseloop.channels.registry import adapter_for
from caseloop.core import clock
from caseloop.core.errors import NotFound
from caseloop.core.idlists import id_list
from caseloop.customers.choices import IdentityKind
from caseloop.customers.models import Contact, ContactIdentity
from caseloop.feedback.choices import Expectation, FollowUpState, SurveyState, ThankYouState
from caseloop.feedback.models import (
    LIVE_SURVEY_STATES,
    FollowUp,
    FollowUpRule,
    Kudos,
    ManagerNotice,
    Survey,
    SurveyAnswer,
    SurveyOptOut,
    SurveyRule,
    ThankYou,
)
from caseloop.feedback.tokens import Purpose, read_token
from caseloop.identity.choices import STAFF_ROLES, Role
from caseloop.identity.models import Membership, User
from caseloop.identity.selectors import require_role, require_staff
from caseloop.policies.outcomes import SurveyOutcome

MANAGER_ROLES = (Role.MANAGER, Role.ADMIN)


# --- which rule applies ---------------------------------------------------------------------
def matching_survey_rule(case: Case) -> SurveyRule | None:
    """The active rule for this case: one naming its team first, then one for every team; the oldest wins a tie."""
    rules = SurveyRule.objects.filter(is_active=True).filter(Q(team__isnull=True) | Q(team_id=case.team_id))
    for rule in sorted(rules, key=lambda r: (r.team_id is None, r.pk)):
        if not rule.channels or case.channel in rule.channels:
            return rule
    return None


def matching_follow_up_rule(case: Case, tag_names: Sequence[str]) -> FollowUpRule | None:
    """The active follow-up rule a solved case falls under, by the same precedence as survey rules."""
    rules = FollowUpRule.objects.filter(is_active=True).filter(Q(team__isnull=True) | Q(team_id=case.team_id))
    for rule in sorted(rules, key=lambda r: (r.team_id is None, r.pk)):
        if rule.needs_asset and case.asset_id is None:
            continue
        if rule.tags and not set(rule.tags) & set(tag_names):
            continue
        return rule
    return None


# --- who worked a case, and how to reach its customer ---------------------------------------------
def worked_by(case: Case) -> list[User]:
    """The assignee and every member of staff who wrote a reply or a note on the case, in the order they joined."""
    author_ids = list(
        Message.objects.filter(case_id=case.pk, direction__in=[Direction.OUTBOUND, Direction.NOTE],
                               author_user__isnull=False)
        .order_by("id").values_list("author_user_id", flat=True)
    )  # fmt: skip
    ordered: list[int] = []
    for user_id in ([case.assignee_id] if case.assignee_id else []) + author_ids:
        if user_id not in ordered:
            ordered.append(user_id)
    users = {u.pk: u for u in User.objects.filter(pk__in=ordered, role__in=list(STAFF_ROLES))}
    return [users[pk] for pk in ordered if pk in users]


def has_email(contact: Contact) -> bool:
    return ContactIdentity.objects.filter(contact_id=contact.pk, kind=IdentityKind.EMAIL).exists()


def reply_channel(case: Case, contact: Contact) -> str | None:
    """The channel a message to the customer goes out on: the case's own when it can deliver, else email.

    A channel delivers when an adapter is registered for it (email today; SMS
    when its adapter exists). A case that came by phone or chat is answered by
    email when the customer has an address; otherwise nothing reaches them.
    """
    if adapter_for(case.channel) is not None:
        return case.channel
    if adapter_for(Channel.EMAIL) is not None and has_email(contact):
        return Channel.EMAIL
    return None


# --- fatigue and opt-outs -----------------------------------------------------------------------------
def opted_out(contact_ids: Sequence[int]) -> bool:
    return SurveyOptOut.objects.filter(contact_id__in=list(contact_ids)).exists()


def surveyed_recently(contact_ids: Sequence[int], *, days: int, exclude_id: int | None = None) -> bool:
    """Whether a live survey (scheduled, sent or answered) reached these contacts in the last `days` days."""
    if days <= 0:
        return False
    since = clock.now() - dt.timedelta(days=days)
    qs = Survey.objects.filter(contact_id__in=list(contact_ids), state__in=LIVE_SURVEY_STATES, created_at__gte=since)
    if exclude_id is not None:
        qs = qs.exclude(pk=exclude_id)
    return qs.exists()


# --- the public pages: the token is the permission -------------------------------------------------------
def survey_from_token(token: str) -> Survey:
    survey = (
        Survey.objects.select_related("case", "contact", "answer")
        .filter(pk=read_token(token, purpose=Purpose.SURVEY))
        .first()
    )
    if survey is None:
        raise NotFound("Survey", "in this link")
    return survey


def follow_up_from_token(token: str) -> FollowUp:
    follow_up = (
        FollowUp.objects.select_related("case", "contact")
        .filter(pk=read_token(token, purpose=Purpose.FOLLOW_UP))
        .first()
    )
    if follow_up is None:
        raise NotFound("Follow-up", "in this link")
    return follow_up


# --- what staff see -----------------------------------------------------------------------------------------
def surveys_of_case(actor: User, case: Case) -> QuerySet[Survey]:
    require_staff(actor)
    return Survey.objects.filter(case_id=case.pk).select_related("answer").order_by("-id")


def survey_rules(actor: User) -> QuerySet[SurveyRule]:
    require_role(actor, *MANAGER_ROLES)
    return SurveyRule.objects.select_related("team").order_by("-is_active", "team_id", "id")


def follow_up_rules(actor: User) -> QuerySet[FollowUpRule]:
    require_role(actor, *MANAGER_ROLES)
    return FollowUpRule.objects.select_related("team").order_by("-is_active", "team_id", "id")


def calls_due(actor: User) -> QuerySet[FollowUp]:
    """Follow-up calls to make: the actor's own, or everyone's for a manager."""
    require_staff(actor)
    qs = FollowUp.objects.filter(state=FollowUpState.CALL_DUE).select_related("case", "contact", "assigned_to")
    if actor.role not in MANAGER_ROLES:
        qs = qs.filter(Q(assigned_to=actor) | Q(assigned_to__isnull=True))
    return qs.order_by("due_at", "id")


def access_follow_up(actor: User, follow_up_id: int) -> FollowUp:
    require_staff(actor)
    follow_up = FollowUp.objects.select_related("case", "contact").filter(pk=follow_up_id).first()
    if follow_up is None:
        raise NotFound("Follow-up", follow_up_id)
    return follow_up


def follow_ups_of(actor: User, *, states: Sequence[str] = ()) -> QuerySet[FollowUp]:
    require_staff(actor)
    qs = FollowUp.objects.select_related("case", "contact", "assigned_to")
    return qs.filter(state__in=list(states)) if states else qs


def thank_yous_due(actor: User) -> QuerySet[ThankYou]:
    """Thank-yous still owed: the actor's own (and unowned ones), or everyone's for a manager; soonest due first."""
    require_staff(actor)
    qs = ThankYou.objects.filter(state=ThankYouState.DUE).select_related("case", "contact", "owner")
    if actor.role not in MANAGER_ROLES:
        qs = qs.filter(Q(owner=actor) | Q(owner__isnull=True))
    return qs.order_by("due_at", "id")


def praised_names(thank_yous: Sequence[ThankYou]) -> dict[int, list[str]]:
    """For each thank-you, the names of the people its praise was for (one query)."""
    by_survey = {t.survey_id: t.pk for t in thank_yous if t.survey_id}
    by_message = {t.praise_message_id: t.pk for t in thank_yous if t.praise_message_id}
    if not by_survey and not by_message:
        return {}
    rows = Kudos.objects.filter(Q(survey_id__in=list(by_survey)) | Q(message_id__in=list(by_message))) \
        .select_related("user").order_by("id")  # fmt: skip
    names: dict[int, list[str]] = {}
    for kudos in rows:
        owner = by_survey.get(kudos.survey_id) if kudos.survey_id else by_message.get(kudos.message_id or 0)
        if owner is not None:
            names.setdefault(owner, []).append(kudos.user.name)
    return names


def access_thank_you(actor: User, thank_you_id: int) -> ThankYou:
    require_staff(actor)
    thank_you = ThankYou.objects.select_related("case", "contact").filter(pk=thank_you_id).first()
    if thank_you is None:
        raise NotFound("Thank-you", thank_you_id)
    return thank_you


def kudos_of(actor: User, person: User) -> QuerySet[Kudos]:
    """A person's kudos, newest first: staff read each other's praise (it is meant to be seen)."""
    require_staff(actor)
    return Kudos.objects.filter(user=person).select_related("case", "contact").order_by("-created_at", "-id")


def unread_notices(actor: User) -> QuerySet[ManagerNotice]:
    return (
        ManagerNotice.objects.filter(recipient=actor, read_at__isnull=True)
        .select_related("kudos__user", "kudos__case")
        .order_by("-created_at", "-id")
    )


def managers_of(user: User) -> list[User]:
    """Who is told when `user` is praised: the leads of their teams, else every active manager.

    A lead is never told about their own praise by this rule (their own manager is).
    """
    team_ids = list(Membership.objects.filter(user=user).values_list("team_id", flat=True))
    leads = list(
        User.objects.filter(memberships__team_id__in=team_ids, memberships__is_lead=True, is_active=True)
        .exclude(pk=user.pk).distinct().order_by("id")
    )  # fmt: skip
    if leads:
        return leads
    return list(User.objects.filter(role=Role.MANAGER, is_active=True).exclude(pk=user.pk).order_by("id"))


@dataclass(frozen=True, slots=True)
class PersonRecognition:
    """One person's kudos per month, oldest month first, over the months asked for."""

    user: User
    per_month: list[int]
    total: int


def month_starts(*, months: int, today: dt.date | None = None) -> list[dt.date]:
    """The first day of each of the last `months` months, the current one last (in the installation's TIME_ZONE)."""
    day = today or timezone.localtime(clock.now()).date()
    year, month = day.year, day.month
    starts = []
    for _ in range(months):
        starts.append(dt.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return list(reversed(starts))


def recognition_by_person(actor: User, *, months: int = 6) -> tuple[list[dt.date], list[PersonRecognition]]:
    """Managers see recognition per person over time: kudos counted per calendar month, most praised first.

    Months are the installation's (TIME_ZONE), as on the insights dashboard: praise on the evening of the
    last day of a month in New York belongs to that month, not to the next one in UTC.
    """
    require_role(actor, *MANAGER_ROLES)
    zone = timezone.get_current_timezone()
    starts = month_starts(months=months)
    since = dt.datetime.combine(starts[0], dt.time.min, tzinfo=zone)
    rows = (
        Kudos.objects.filter(created_at__gte=since)
        .annotate(month=TruncMonth("created_at", tzinfo=zone))
        .values("user_id", "month").annotate(n=Count("id")).order_by()
    )  # fmt: skip
    counts: dict[int, dict[dt.date, int]] = {}
    for row in rows:
        month = row["month"].date() if isinstance(row["month"], dt.datetime) else row["month"]
        counts.setdefault(row["user_id"], {})[month] = row["n"]
    users = {u.pk: u for u in User.objects.filter(pk__in=list(counts))}
    result = [
        PersonRecognition(user=users[pk], per_month=[by_month.get(m, 0) for m in starts],
                          total=sum(by_month.values()))
        for pk, by_month in counts.items() if pk in users
    ]  # fmt: skip
    result.sort(key=lambda r: (-r.total, r.user.name))
    return starts, result


def survey_counts(actor: User) -> dict[str, int]:
    """How many surveys are in each state (the rules page shows whether they work)."""
    require_role(actor, *MANAGER_ROLES)
    rows = Survey.objects.values("state").annotate(n=Count("id")).order_by()
    counts = {state.value: 0 for state in SurveyState}
    counts.update({row["state"]: row["n"] for row in rows})
    return counts


def survey_outcome_of(case_ids: Sequence[int]) -> SurveyOutcome:
    """Answered surveys of these cases (one query): how many, how many met or exceeded expectations, the mean CES.

    Registered with the policies domain at start-up for the override review;
    an answer counts once its headline (expectations) is answered.
    """
    totals = SurveyAnswer.objects.filter(
        survey__case_id__in=id_list(case_ids), survey__state=SurveyState.ANSWERED, expectations__isnull=False
    ).aggregate(
        answered=Count("id"),
        met=Count("id", filter=Q(expectations__in=[Expectation.MET, Expectation.EXCEEDED])),
        ces=Avg("ces"),
    )
    ces = totals["ces"]
    return SurveyOutcome(
        answered=totals["answered"], met_or_exceeded=totals["met"], mean_ces=None if ces is None else float(ces)
    )
