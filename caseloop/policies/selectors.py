"""Reads of the policies domain: rules as the engine sees them, snapshots, authority, approvers, and the reviews."""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Q, QuerySet, Sum

from caseloop.cases.choices import OPEN_STATUSES
from caseloop.cases.models import Case
from caseloop.core import clock, stamps
from caseloop.core.errors import Invalid, NotFound
from caseloop.core.idlists import id_list
from caseloop.customers.choices import OrderStatus
from caseloop.customers.models import Order
from caseloop.identity.choices import STAFF_ROLES, Role
from caseloop.identity.models import Membership, Team, User
from caseloop.identity.selectors import require_role, require_staff
from caseloop.policies.choices import (
    PERCENT_KINDS,
    ApprovalState,
    ConcessionKind,
    ConcessionState,
    RuleKind,
    StepOutcome,
)
from caseloop.policies.engine import (
    ActionFacts,
    ActorFacts,
    AssetFacts,
    CaseFacts,
    ConditionError,
    CustomerFacts,
    RuleSpec,
    Snapshot,
    Verdict,
    evaluate,
    rule,
)
from caseloop.policies.models import (
    ApprovalRequest,
    ApprovalStep,
    AuthorityLimit,
    Concession,
    Override,
    Rule,
)
from caseloop.policies.outcomes import SurveyOutcome, survey_outcome
from caseloop.timeline.choices import SubjectKind
from caseloop.timeline.models import TimelineEvent

logger = logging.getLogger(__name__)

MANAGERS = (Role.MANAGER, Role.ADMIN)


# --- rules ----------------------------------------------------------------------------------------------------
def rules_visible_to(actor: User) -> QuerySet[Rule]:
    """Every member of staff may read the rules (a rep should know what they will meet)."""
    require_staff(actor)
    return Rule.objects.order_by("name")


def access_rule(actor: User, rule_id: int) -> Rule:
    found = rules_visible_to(actor).filter(pk=rule_id).first()
    if found is None:
        raise NotFound("Rule", rule_id)
    return found


def spec_of(row: Rule) -> RuleSpec:
    return rule(
        id=row.pk,
        name=row.name,
        kind=row.kind,
        applies_to=row.applies_to,
        condition=row.condition,
        explanation=row.explanation,
    )


RULE_TABLES = ("policies_rule",)


def _load_active_rules() -> tuple[tuple[frozenset[str], RuleSpec], ...]:
    specs = []
    for row in Rule.objects.filter(is_active=True).order_by("id"):
        try:
            specs.append((frozenset(row.applies_to), spec_of(row)))
        except ConditionError:
            logger.error("Rule %s (%s) has a condition that no longer compiles; it is skipped", row.pk, row.name)
    return tuple(specs)


def active_rules(kinds: Iterable[str]) -> list[RuleSpec]:
    """The active rules applying to any of `kinds`, compiled.

    The compiled set is kept per process and built again only when the rules
    table changed (core.stamps: a trigger gives it a new stamp in the editing
    transaction): every guarded action asks this, and reading the stamps costs
    far less than reading and compiling 50 rules. A change committed by any
    process, on any machine, is seen by the next attempt here. (A version made
    of the rules' count, highest id and latest `updated_at` missed an edit
    whose `updated_at` was not the newest: two edits committed out of order, or
    one from a machine whose clock is behind.)

    A stored condition that no longer compiles (the language changed under
    it) is logged and skipped: refusing every action of a kind for it would
    stop the team's work; the rules page shows it as broken.
    """
    wanted = set(kinds)
    compiled = stamps.cached(RULE_TABLES, _load_active_rules)
    return [spec for applies_to, spec in compiled if not wanted.isdisjoint(applies_to)]


def verdict_for(*, actor: User, case: Case, action: ActionFacts, kinds: Iterable[str]) -> Verdict:
    """Which active rules an action would trip, without doing or recording anything (the dialog asks first)."""
    require_staff(actor)
    wanted = set(kinds)
    specs = active_rules(wanted)
    needed = frozenset().union(*(s.condition.names for s in specs))
    return evaluate(specs, snapshot_for(case=case, action=action, actor=actor, needed=needed), kinds=wanted)


def overrides_visible_to(actor: User) -> QuerySet[Override]:
    require_role(actor, *MANAGERS)
    return Override.objects.select_related("rule", "actor").order_by("-id")


# --- snapshots --------------------------------------------------------------------------------------------------
def _needs(needed: frozenset[str], prefix: str, *names: str) -> bool:
    return any(f"{prefix}.{n}" in needed for n in names)


def snapshot_for(*, case: Case, action: ActionFacts, actor: User | None, needed: frozenset[str]) -> Snapshot:
    """The facts of this attempt, reading only what the rules at hand look at (`needed` field names)."""
    now = clock.now()
    case_facts = CaseFacts(
        id=case.pk,
        status=case.status,
        priority=case.priority,
        channel=case.channel,
        team=Team.objects.filter(pk=case.team_id).values_list("slug", flat=True).first()
        if case.team_id and "case.team" in needed
        else None,
        tags=frozenset(case.tags.values_list("name", flat=True)) if "case.tags" in needed else frozenset(),
        age_hours=Decimal((now - case.created_at).total_seconds() / 3600).quantize(Decimal("0.01")),
        message_count=case.message_count,
        has_asset=case.asset_id is not None,
        answered=case.first_response_at is not None,
    )
    currency = action.currency or settings.CASELOOP_CURRENCY
    return Snapshot(
        action=action,
        case=case_facts,
        customer=_customer_facts(case, needed, now, currency),
        asset=_asset_facts(case, needed, now),
        actor=_actor_facts(actor, needed),
    )


def _customer_facts(case: Case, needed: frozenset[str], now: dt.datetime, currency: str) -> CustomerFacts:
    if not any(n.startswith("customer.") for n in needed):
        return CustomerFacts()
    contact = case.requester
    organization = contact.organization if contact.organization_id else None
    counts: dict[str, Any] = {}
    wanted = [name for name in _CUSTOMER_COUNTS if f"customer.{name}" in needed]
    if wanted:
        counts = _customer_counts(contact_id=contact.pk, now=now, currency=currency, names=wanted)
    open_cases, cases_90d = counts.get("open_cases"), counts.get("cases_90d")
    concessions, orders_total = counts.get("concessions_90d"), counts.get("orders_total")
    return CustomerFacts(
        tier=contact.tier,
        organization=organization.name if organization else None,
        organization_tier=organization.tier if organization else None,
        language=contact.language,
        open_cases=open_cases,
        cases_90d=cases_90d,
        concessions_90d=concessions,
        orders_total=orders_total,
    )


_CUSTOMER_COUNTS = ("open_cases", "cases_90d", "concessions_90d", "orders_total")


def _customer_counts(*, contact_id: int, now: dt.datetime, currency: str, names: Sequence[str]) -> dict[str, Any]:
    """The customer's counts the rules at hand read, in one statement of scalar sub-selects (one round trip)."""
    q = connection.ops.quote_name
    since = connection.ops.adapt_datetimefield_value(now - dt.timedelta(days=90))
    cases, concessions, orders = (q(m._meta.db_table) for m in (Case, Concession, Order))
    open_marks = ", ".join(["%s"] * len(OPEN_STATUSES))
    parts: dict[str, tuple[str, list[Any]]] = {
        "open_cases": (
            f"SELECT COUNT(*) FROM {cases} WHERE requester_id = %s AND status IN ({open_marks})",
            [contact_id, *sorted(OPEN_STATUSES)],
        ),
        "cases_90d": (
            f"SELECT COUNT(*) FROM {cases} WHERE requester_id = %s AND created_at >= %s",
            [contact_id, since],
        ),
        "concessions_90d": (
            f"SELECT COUNT(*) FROM {concessions} WHERE contact_id = %s AND state = %s AND created_at >= %s",
            [contact_id, ConcessionState.GRANTED, since],
        ),
        "orders_total": (
            f"SELECT COALESCE(SUM(total), 0) FROM {orders} WHERE contact_id = %s AND currency = %s "
            "AND status NOT IN (%s, %s)",
            [contact_id, currency, OrderStatus.CANCELLED, OrderStatus.REFUNDED],
        ),
    }
    selects = ", ".join(f"({parts[name][0]})" for name in names)
    params = [p for name in names for p in parts[name][1]]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {selects}", params)
        row = cursor.fetchone()
    out: dict[str, Any] = {}
    for name, value in zip(names, row, strict=True):
        out[name] = Decimal(str(value)).quantize(Decimal("0.01")) if name == "orders_total" else int(value)
    return out


def _asset_facts(case: Case, needed: frozenset[str], now: dt.datetime) -> AssetFacts:
    if case.asset_id is None or not any(n.startswith("asset.") and n != "asset.present" for n in needed):
        return AssetFacts(present=case.asset_id is not None)
    asset = case.asset
    assert asset is not None
    today = now.date()
    warranty_left = (asset.warranty_until - today).days if asset.warranty_until else None
    return AssetFacts(
        present=True,
        in_warranty=warranty_left is not None and warranty_left >= 0,
        warranty_days_left=warranty_left,
        age_days=(today - asset.installed_on).days if asset.installed_on else None,
        status=asset.status,
        manufacturer=asset.manufacturer or None,
        model=asset.model or None,
    )


def _actor_facts(actor: User | None, needed: frozenset[str]) -> ActorFacts:
    if actor is None:
        return ActorFacts()
    teams = frozenset(actor.teams.values_list("slug", flat=True)) if "actor.teams" in needed else frozenset()
    return ActorFacts(role=actor.role, teams=teams)


# --- authority ------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Authority:
    """What one person may give of one kind: None per case means no authority at all."""

    kind: str
    per_case: Decimal | None
    per_period: Decimal | None = None
    period_days: int | None = None
    currency: str = ""
    source: str = "no limit set"


def _authority_from(kind: str, user: User, limits: Sequence[AuthorityLimit], team_ids: Sequence[int]) -> Authority:
    own = [limit for limit in limits if limit.user_id == user.pk]
    teams = sorted((limit for limit in limits if limit.team_id in team_ids), key=lambda limit: -limit.per_case)
    role = [limit for limit in limits if limit.role and limit.role == user.role]
    for chosen, source in ((own, "own limit"), (teams, "team"), (role, "role")):
        if chosen:
            limit = chosen[0]
            label = f"team {limit.team.name}" if source == "team" and limit.team else source
            if source == "role":
                label = f"role {Role(limit.role).label}"
            return Authority(
                kind=kind,
                per_case=limit.per_case,
                per_period=limit.per_period,
                period_days=limit.period_days,
                currency=limit.currency,
                source=label,
            )
    return Authority(kind=kind, per_case=None)


def authority_of(user: User, kind: str) -> Authority:
    limits = list(AuthorityLimit.objects.filter(action=kind).select_related("team"))
    team_ids = list(Membership.objects.filter(user=user).values_list("team_id", flat=True))
    return _authority_from(kind, user, limits, team_ids)


def authorities_of(user: User) -> list[Authority]:
    """The person's authority for every kind, in two queries (the dialog beside a case shows them all)."""
    limits = list(AuthorityLimit.objects.select_related("team"))
    team_ids = list(Membership.objects.filter(user=user).values_list("team_id", flat=True))
    return [
        _authority_from(kind, user, [limit for limit in limits if limit.action == kind], team_ids)
        for kind in ConcessionKind.values
    ]


def case_usage(*, case_id: int, kind: str) -> Decimal:
    """What is already given of `kind` on this case: the sum of amounts, or the largest discount."""
    granted = Concession.objects.filter(case_id=case_id, kind=kind, state=ConcessionState.GRANTED)
    if kind in PERCENT_KINDS:
        values = list(granted.values_list("percent", flat=True))
        return max((v for v in values if v is not None), default=Decimal(0))
    return granted.aggregate(total=Sum("amount"))["total"] or Decimal(0)


def period_usage(*, user_id: int, kind: str, days: int, now: dt.datetime) -> Decimal:
    """What `user_id` authorised of `kind` in the `days` days up to now (a rolling window)."""
    return Concession.objects.filter(
        authorised_by_id=user_id, kind=kind, state=ConcessionState.GRANTED, granted_at__gt=now - dt.timedelta(days=days)
    ).aggregate(total=Sum("amount"))["total"] or Decimal(0)


@dataclass(frozen=True, slots=True)
class Coverage:
    covered: bool
    authority: Authority
    case_used: Decimal
    period_used: Decimal | None
    why: str = ""


def coverage(
    *,
    authority: Authority,
    user_id: int,
    case_id: int,
    value: Decimal,
    now: dt.datetime,
    case_used: Decimal | None = None,
) -> Coverage:
    """Whether `value` more of the authority's kind on this case is within it, and if not, why."""
    kind = authority.kind
    used = case_usage(case_id=case_id, kind=kind) if case_used is None else case_used
    if authority.per_case is None:
        return Coverage(False, authority, used, None, "no authority for this")
    unit = "%" if kind in PERCENT_KINDS else f" {authority.currency}"
    if kind in PERCENT_KINDS:
        if value > authority.per_case:
            return Coverage(
                False, authority, used, None, f"above the {authority.per_case}{unit} limit ({authority.source})"
            )
        return Coverage(True, authority, used, None)
    if used + value > authority.per_case:
        return Coverage(
            False,
            authority,
            used,
            None,
            f"{used + value}{unit} on this case is above the {authority.per_case}{unit} per case ({authority.source})",
        )
    period_used = None
    if authority.per_period is not None and authority.period_days:
        period_used = period_usage(user_id=user_id, kind=kind, days=authority.period_days, now=now)
        if period_used + value > authority.per_period:
            return Coverage(
                False,
                authority,
                used,
                period_used,
                f"{period_used + value}{unit} in {authority.period_days} days is above the "
                f"{authority.per_period}{unit} per period ({authority.source})",
            )
    return Coverage(True, authority, used, period_used)


def approvers_for(
    *, kind: str, case: Case, value: Decimal, currency: str, requester: User, exclude: Iterable[int] = ()
) -> list[User]:
    """Who can approve `value` of `kind` on this case, in the order a request reaches them.

    Only active staff whose own authority covers it (same currency, per case
    and per period), never the requester. The leads of the requester's teams
    come first, then whoever's limit is the nearest above (a small credit does
    not go to the director), then by id.
    """
    now = clock.now()
    limits = list(AuthorityLimit.objects.filter(action=kind).select_related("team"))
    if not limits:
        return []
    excluded = {requester.pk, *exclude}
    memberships: dict[int, list[int]] = defaultdict(list)
    leads_of: dict[int, set[int]] = defaultdict(set)
    for team_id, user_id, is_lead in Membership.objects.values_list("team_id", "user_id", "is_lead"):
        memberships[user_id].append(team_id)
        if is_lead:
            leads_of[team_id].add(user_id)
    requester_leads = {lead for team_id in memberships.get(requester.pk, []) for lead in leads_of[team_id]}
    used = case_usage(case_id=case.pk, kind=kind)
    ranked: list[tuple[int, Decimal, int, User]] = []
    for user in User.objects.filter(is_active=True, role__in=list(STAFF_ROLES)).exclude(pk__in=excluded):
        authority = _authority_from(kind, user, limits, memberships.get(user.pk, []))
        if authority.per_case is None or (kind not in PERCENT_KINDS and authority.currency != currency):
            continue
        if not coverage(
            authority=authority, user_id=user.pk, case_id=case.pk, value=value, now=now, case_used=used
        ).covered:
            continue
        ranked.append((0 if user.pk in requester_leads else 1, authority.per_case, user.pk, user))
    return [user for *_, user in sorted(ranked, key=lambda r: (r[0], r[1], r[2]))]


def limits_visible_to(actor: User) -> QuerySet[AuthorityLimit]:
    require_staff(actor)
    return AuthorityLimit.objects.select_related("team", "user").order_by("action", "role", "team__name", "user_id")


# --- concessions and approvals ------------------------------------------------------------------------------------
def concessions_of_case(actor: User, case: Case) -> list[Concession]:
    require_staff(actor)
    return list(
        Concession.objects.filter(case=case).select_related("requested_by", "authorised_by", "approval").order_by("-id")
    )


def approvals_visible_to(actor: User) -> QuerySet[ApprovalRequest]:
    require_staff(actor)
    return ApprovalRequest.objects.select_related("concession", "case", "requested_by", "approver", "decided_by")


def access_approval(actor: User, approval_id: int, *, for_update: bool = False) -> ApprovalRequest:
    qs = approvals_visible_to(actor)
    if for_update:
        qs = qs.select_for_update(of=("self",))
    found = qs.filter(pk=approval_id).first()
    if found is None:
        raise NotFound("Approval request", approval_id)
    return found


def approvals_waiting_for(actor: User) -> QuerySet[ApprovalRequest]:
    """Requests waiting on the actor now, soonest due first."""
    return approvals_visible_to(actor).filter(approver=actor, state=ApprovalState.PENDING).order_by("due_at", "id")


# --- the override review ------------------------------------------------------------------------------------------
@dataclass(slots=True)
class Outcome:
    cases: int = 0  # solved at least once
    reopened: int = 0
    surveys: SurveyOutcome | None = None  # None: no domain measures surveys (no provider registered)

    @property
    def rate(self) -> float | None:
        return self.reopened / self.cases if self.cases else None


@dataclass(slots=True)
class RuleReview:
    rule: Rule
    overrides: int
    by_rep: list[tuple[str, int]] = field(default_factory=list)
    by_team: list[tuple[str, int]] = field(default_factory=list)
    overridden: Outcome = field(default_factory=Outcome)
    comparable: Outcome = field(default_factory=Outcome)
    suggestion: str = ""


def _reopened(case_ids: Sequence[int]) -> set[int]:
    if not case_ids:
        return set()
    rows = TimelineEvent.objects.filter(
        subject_kind=SubjectKind.CASE,
        subject_id__in=id_list(case_ids),
        kind__in=["case.reopened", "case.status_changed"],
        data__from="solved",
    ).values_list("subject_id", flat=True)
    return set(rows)


def _outcome(case_ids: Sequence[int]) -> Outcome:
    """Of these cases, those solved at least once, and how many of those came back."""
    if not case_ids:
        return Outcome(surveys=survey_outcome(case_ids))
    reopened = _reopened(case_ids)
    solved = set(Case.objects.filter(pk__in=id_list(case_ids), solved_at__isnull=False).values_list("id", flat=True))
    ever_solved = solved | reopened
    return Outcome(cases=len(ever_solved), reopened=len(reopened & ever_solved), surveys=survey_outcome(case_ids))


COMPARABLE_SAMPLE = 2000
SURVEY_MIN_ANSWERS = 5  # answered surveys needed on each side before the survey comparison means anything


def override_review(actor: User, *, since: dt.datetime, until: dt.datetime) -> list[RuleReview]:
    """Overrides in [since, until) by rule, rep and team, with the outcome of overridden cases beside comparable ones.

    Comparable cases: opened in the same period on the same channel and
    priority as the overridden ones, solved at least once, and with no
    override of that rule (the most recent COMPARABLE_SAMPLE of them). The
    outcome is the reopen rate and, when the feedback domain has registered
    its provider (policies.outcomes), the survey results: answered surveys,
    the share that met or exceeded expectations, the mean CES. A guideline
    overridden at least CASELOOP_OVERRIDE_REVIEW_MIN times whose overridden
    cases came back no more often (within 2 points) is suggested for relaxing
    or retiring; with at least SURVEY_MIN_ANSWERS answers on each side, only
    when those cases also met expectations at least as often.
    """
    require_role(actor, *MANAGERS)
    if since >= until:
        raise Invalid("since comes before until.", field="since")
    minimum = int(getattr(settings, "CASELOOP_OVERRIDE_REVIEW_MIN", 10))
    overrides = list(
        Override.objects.filter(created_at__gte=since, created_at__lt=until).select_related(
            "rule", "actor", "team", "case"
        )
    )
    by_rule: dict[int, list[Override]] = defaultdict(list)
    for row in overrides:
        by_rule[row.rule_id].append(row)
    reviews = []
    for rows in by_rule.values():
        rule_row = rows[0].rule
        reps = _counts(o.actor.name for o in rows)
        teams = _counts(o.team.name if o.team else "no team" for o in rows)
        case_ids = sorted({o.case_id for o in rows})
        shapes = {(o.case.channel, o.case.priority) for o in rows}
        shape_filter = Q()
        for channel, priority in shapes:
            shape_filter |= Q(channel=channel, priority=priority)
        comparable_ids = list(
            Case.objects.filter(shape_filter, created_at__gte=since, created_at__lt=until)
            .exclude(pk__in=Override.objects.filter(rule_id=rule_row.pk).values("case_id"))
            # newest first along the created_at index, which the period already uses: the scan stops at the
            # sample's size instead of sorting every case of the period (9,558 at 100k, ten times that at 1M)
            .order_by("-created_at", "-id")
            .values_list("id", flat=True)[:COMPARABLE_SAMPLE]
        )
        review = RuleReview(
            rule=rule_row,
            overrides=len(rows),
            by_rep=reps,
            by_team=teams,
            overridden=_outcome(case_ids),
            comparable=_outcome(comparable_ids),
        )
        review.suggestion = _suggestion(review, minimum)
        reviews.append(review)
    return sorted(reviews, key=lambda r: (-r.overrides, r.rule.name))


def _counts(names: Iterable[str]) -> list[tuple[str, int]]:
    counts: dict[str, int] = defaultdict(int)
    for name in names:
        counts[name] += 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def _survey_words(o: SurveyOutcome) -> str:
    return f"{o.met_rate or 0:.0%} of {o.answered} answer{'s' if o.answered != 1 else ''}"


def _suggestion(review: RuleReview, minimum: int) -> str:
    if review.rule.kind != RuleKind.GUIDELINE or review.overrides < minimum:
        return ""
    mine, theirs = review.overridden.rate, review.comparable.rate
    if mine is None or theirs is None:
        return ""
    reopened = f"{mine:.0%} vs {theirs:.0%} reopened"
    if mine >= theirs + 0.10:
        return (
            f"Overridden cases came back more often ({reopened}): the guideline "
            f"seems to protect customers; talk it through with the people overriding it."
        )
    if mine > theirs + 0.02:
        return ""
    ours, others = review.overridden.surveys, review.comparable.surveys
    if ours is None or others is None:  # no survey results at all: the reopen rate alone
        return (
            f"Overridden {review.overrides} times, and those cases came back no more often than comparable ones "
            f"({reopened}): consider relaxing or retiring this guideline."
        )
    if ours.answered < SURVEY_MIN_ANSWERS or others.answered < SURVEY_MIN_ANSWERS:
        return (
            f"Overridden {review.overrides} times, and those cases came back no more often than comparable ones "
            f"({reopened}): consider relaxing or retiring this guideline. The survey comparison is not yet "
            f"meaningful ({ours.answered} answered on overridden cases, {others.answered} on comparable ones; "
            f"{SURVEY_MIN_ANSWERS} needed on each side)."
        )
    met = f"expectations met or exceeded: {_survey_words(ours)} vs {_survey_words(others)}"
    if (ours.met_rate or 0) >= (others.met_rate or 0):
        return (
            f"Overridden {review.overrides} times, and those cases came back no more often than comparable ones "
            f"({reopened}) and met customers' expectations at least as often ({met}): consider relaxing or "
            f"retiring this guideline."
        )
    return (
        f"Overridden {review.overrides} times; those cases came back no more often ({reopened}) but met "
        f"customers' expectations less often ({met}): keep the guideline and read the answers."
    )


# --- approval turnaround --------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Turnaround:
    approver_id: int
    approver: str
    decided: int
    escalated: int
    p50_minutes: float | None
    p90_minutes: float | None


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile (the value at or below which `share` of the values lie)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def approval_turnaround(actor: User, *, since: dt.datetime, until: dt.datetime) -> list[Turnaround]:
    """Per approver: requests decided and missed (escalated), and minutes from reaching them to the decision."""
    require_role(actor, *MANAGERS)
    if since >= until:
        raise Invalid("since comes before until.", field="since")
    steps = ApprovalStep.objects.filter(assigned_at__gte=since, assigned_at__lt=until).select_related("approver")
    minutes: dict[int, list[float]] = defaultdict(list)
    escalated: dict[int, int] = defaultdict(int)
    names: dict[int, str] = {}
    for step in steps:
        names[step.approver_id] = step.approver.name
        if step.outcome == StepOutcome.DECIDED and step.ended_at is not None:
            minutes[step.approver_id].append((step.ended_at - step.assigned_at).total_seconds() / 60)
        elif step.outcome == StepOutcome.ESCALATED:
            escalated[step.approver_id] += 1
    rows = [
        Turnaround(
            approver_id=uid,
            approver=name,
            decided=len(minutes[uid]),
            escalated=escalated[uid],
            p50_minutes=percentile(minutes[uid], 0.5),
            p90_minutes=percentile(minutes[uid], 0.9),
        )
        for uid, name in names.items()
    ]
    return sorted(rows, key=lambda r: (-(r.p90_minutes or 0.0), r.approver))
