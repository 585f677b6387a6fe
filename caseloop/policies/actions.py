"""Every write of the policies domain: rules, limits, the rules' verdict on an attempt, concessions and approvals.

`enforce_rules` is what every guarded action calls inside its own
transaction, before it writes: an integrity rule refuses (nothing changes),
a guideline needs a written reason and is then recorded as an Override, on
the case timeline. A concession within the person's authority is granted at
once; above it, an approval request reaches the approvers whose authority
covers it, one at a time, each due within CASELOOP_APPROVAL_DUE_MINUTES, and
the customer is promised an answer by then.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from caseloop.cases.actions import MessageInput, add_message
from caseloop.cases.choices import CaseStatus, Channel, Direction
from caseloop.cases.models import Case
from caseloop.core import clock
from caseloop.core.errors import Invalid, PermissionDenied
from caseloop.core.events import publish, publish_in_transaction
from caseloop.core.money import MAX_AMOUNT, Money
from caseloop.identity.choices import Role
from caseloop.identity.models import Team, User
from caseloop.identity.selectors import require_role, require_staff
from caseloop.policies.choices import (
    PERCENT_KINDS,
    ActionKind,
    ApprovalState,
    ConcessionKind,
    ConcessionState,
    RuleKind,
    StepOutcome,
)
from caseloop.policies.engine import ActionFacts, ConditionError, RuleSpec, compile_condition, evaluate, is_a_sentence
from caseloop.policies.errors import PolicyError, PolicyErrorCode
from caseloop.policies.models import ApprovalRequest, ApprovalStep, AuthorityLimit, Concession, Override, Rule
from caseloop.policies.selectors import (
    MANAGERS,
    active_rules,
    approvers_for,
    authority_of,
    coverage,
    snapshot_for,
)
from caseloop.promises.actions import Owner, keep_promises, make_promise, notify, release_promise
from caseloop.promises.choices import NoticeKind, PromiseKind
from caseloop.promises.kinds import APPROVAL_DECIDED
from caseloop.promises.selectors import promise_made_by
from caseloop.timeline.actions import record_audit, record_event
from caseloop.timeline.choices import SubjectKind as S

_CENT = Decimal("0.01")
_CUSTOMER_CHANNELS = {Channel.EMAIL, Channel.WEB, Channel.PORTAL, Channel.CHAT, Channel.SMS, Channel.PHONE}


def _case_subjects(case: Case) -> list[tuple[S, int | None]]:
    return [(S.CASE, case.pk), (S.CONTACT, case.requester_id)]


# --- the rules' verdict on an attempt ------------------------------------------------------------------------
def _rule_list(specs: Sequence[RuleSpec]) -> str:
    return "; ".join(f"“{s.name}”: {s.explanation}" for s in specs)


def enforce_rules(
    *,
    actor: User,
    case: Case,
    action: ActionFacts,
    kinds: Iterable[str] | None = None,
    override_reason: str = "",
    specs: Sequence[RuleSpec] | None = None,
) -> list[Override]:
    """Put an attempt to the active rules; call it inside the transaction of the write it guards.

    Refuses (PolicyError) when an integrity rule trips, or when a guideline
    trips and `override_reason` is not at least a sentence. Otherwise records
    one Override per guideline bent (on the case timeline) and returns them.
    """
    wanted = frozenset(kinds) if kinds is not None else frozenset({action.kind})
    rules = list(specs) if specs is not None else active_rules(wanted)
    if not rules:
        return []
    needed = frozenset().union(*(spec.condition.names for spec in rules))
    verdict = evaluate(rules, snapshot_for(case=case, action=action, actor=actor, needed=needed), kinds=wanted)
    listed = [
        {"id": s.id, "name": s.name, "explanation": s.explanation} for s in verdict.refusals or verdict.guidelines
    ]
    if verdict.refusals:
        raise PolicyError(
            PolicyErrorCode.INTEGRITY_RULE,
            f"Refused by {_rule_list(verdict.refusals)}",
            status=403,
            extra={"rules": listed},
        )
    if not verdict.guidelines:
        return []
    reason = " ".join(override_reason.split())
    if not reason:
        raise PolicyError(
            PolicyErrorCode.REASON_REQUIRED,
            f"A guideline applies: {_rule_list(verdict.guidelines)} To go ahead, write why (at least a sentence).",
            field="override_reason",
            extra={"rules": listed},
        )
    if not is_a_sentence(reason):
        raise PolicyError(
            PolicyErrorCode.REASON_TOO_SHORT,
            "Write the reason as at least a sentence (four words or more) that a colleague could understand later.",
            field="override_reason",
            extra={"rules": listed},
        )
    now = clock.now()
    details = {
        "kind": action.kind,
        "amount": action.amount,
        "currency": action.currency,
        "percent": action.percent,
        "from": action.from_status,
        "to": action.to_status,
    }
    details = {k: v for k, v in details.items() if v is not None}
    overrides = []
    for spec in verdict.guidelines:
        override = Override.objects.create(
            rule_id=spec.id,
            case=case,
            actor=actor,
            team_id=case.team_id,
            action=action.kind,
            reason=reason,
            details=_plain(details),
            created_at=now,
        )
        record_event(
            kind="policy.overridden",
            subjects=[(S.CASE, case.pk)],
            actor=actor,
            case_id=case.pk,
            summary=f"Guideline “{spec.name}” overridden by {actor.name}: {reason}"[:300],
            data={"rule": spec.id, "override": override.pk, "reason": reason},
        )
        record_audit(
            action="policy.override",
            object_type="case",
            object_id=case.pk,
            actor=actor,
            after={"rule": spec.id, "reason": reason, **details},
        )
        overrides.append(override)
    return overrides


def _plain(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in data.items()}


def check_status_change(*, actor: User, case_id: int, before: str, after: str, override_reason: str) -> None:
    """The guard of a case's status change (called by the cases domain through core.guards)."""
    kinds = {ActionKind.STATUS_CHANGE.value}
    if before == CaseStatus.SOLVED and after == CaseStatus.OPEN:
        kinds.add(ActionKind.REOPEN.value)
    specs = active_rules(kinds)
    if not specs:
        return
    case = Case.objects.select_related("requester__organization", "asset").get(pk=case_id)
    kind = ActionKind.REOPEN.value if ActionKind.REOPEN.value in kinds else ActionKind.STATUS_CHANGE.value
    enforce_rules(
        actor=actor,
        case=case,
        action=ActionFacts(kind=kind, from_status=before, to_status=after),
        kinds=kinds,
        override_reason=override_reason,
        specs=specs,
    )


# --- rules as data -------------------------------------------------------------------------------------------
_NAME_MAX = 120


def _clean_rule(*, name: str, explanation: str, kind: str, applies_to: Sequence[str], condition: str) -> dict[str, Any]:
    name = " ".join(name.split())
    if not name or len(name) > _NAME_MAX:
        raise PolicyError(
            PolicyErrorCode.BAD_RULE, f"A rule needs a name of 1 to {_NAME_MAX} characters.", field="name"
        )
    explanation = explanation.strip()
    if not explanation:
        raise PolicyError(
            PolicyErrorCode.BAD_RULE,
            "Explain the rule in plain words for the person who meets it.",
            field="explanation",
        )
    if kind not in RuleKind.values:
        raise PolicyError(PolicyErrorCode.BAD_RULE, f"kind is one of {', '.join(RuleKind.values)}.", field="kind")
    actions = list(dict.fromkeys(applies_to))
    unknown = [a for a in actions if a not in ActionKind.values]
    if not actions or unknown:
        raise PolicyError(
            PolicyErrorCode.BAD_RULE,
            f"applies_to lists one or more of {', '.join(ActionKind.values)}"
            + (f"; not {', '.join(unknown)}." if unknown else "."),
            field="applies_to",
        )
    condition = condition.strip()
    try:
        compile_condition(condition)
    except ConditionError as error:
        raise PolicyError(
            PolicyErrorCode.BAD_CONDITION,
            f"The condition does not read: {error}",
            field="condition",
            extra={"position": error.position},
        ) from error
    return {"name": name, "explanation": explanation, "kind": kind, "applies_to": actions, "condition": condition}


def create_rule(
    *,
    actor: User,
    name: str,
    explanation: str,
    kind: str,
    applies_to: Sequence[str],
    condition: str,
    is_active: bool = True,
) -> Rule:
    """Add a rule (service managers and administrators)."""
    require_role(actor, *MANAGERS)
    fields = _clean_rule(name=name, explanation=explanation, kind=kind, applies_to=applies_to, condition=condition)
    if Rule.objects.filter(name__iexact=fields["name"]).exists():
        raise PolicyError(
            PolicyErrorCode.RULE_NAME_TAKEN, f"A rule named {fields['name']!r} exists.", status=409, field="name"
        )
    now = clock.now()
    try:
        with transaction.atomic():
            created = Rule.objects.create(
                **fields, is_active=is_active, created_by=actor, created_at=now, updated_at=now
            )
            record_audit(
                action="rule.create",
                object_type="rule",
                object_id=created.pk,
                actor=actor,
                after={**fields, "is_active": is_active},
            )
    except IntegrityError as exc:
        raise PolicyError(
            PolicyErrorCode.RULE_NAME_TAKEN, f"A rule named {fields['name']!r} exists.", status=409
        ) from exc
    return created


def update_rule(*, actor: User, rule: Rule, changes: Mapping[str, Any]) -> Rule:
    """Change a rule; the fields not in `changes` stay. Its past overrides keep pointing at it."""
    require_role(actor, *MANAGERS)
    allowed = {"name", "explanation", "kind", "applies_to", "condition", "is_active"}
    if unknown := set(changes) - allowed:
        raise Invalid(f"Unknown fields: {', '.join(sorted(unknown))}.")
    current = {
        "name": rule.name,
        "explanation": rule.explanation,
        "kind": rule.kind,
        "applies_to": rule.applies_to,
        "condition": rule.condition,
    }
    fields = _clean_rule(**{**current, **{k: v for k, v in changes.items() if k != "is_active"}})
    if "is_active" in changes:
        fields["is_active"] = bool(changes["is_active"])
    if fields["name"].lower() != rule.name.lower() and Rule.objects.filter(name__iexact=fields["name"]).exists():
        raise PolicyError(
            PolicyErrorCode.RULE_NAME_TAKEN, f"A rule named {fields['name']!r} exists.", status=409, field="name"
        )
    before = {k: getattr(rule, k) for k in fields}
    changed = [k for k in fields if before[k] != fields[k]]
    if not changed:
        return rule
    with transaction.atomic():
        for name in changed:
            setattr(rule, name, fields[name])
        rule.updated_at = clock.now()
        rule.save(update_fields=[*changed, "updated_at"])
        record_audit(
            action="rule.update",
            object_type="rule",
            object_id=rule.pk,
            actor=actor,
            before={k: before[k] for k in changed},
            after={k: fields[k] for k in changed},
        )
    return rule


# --- authority limits ------------------------------------------------------------------------------------------
def _decimal(value: Any, field: str) -> Decimal:
    """A limit as the administrator wrote it, or `bad_limit`: never rounded, never past what the column holds.

    A limit stored with more digits than its column was unreadable afterwards (every authority lookup of its
    kind failed); one rounded to the cent was another limit than the one set.
    """
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise PolicyError(PolicyErrorCode.BAD_LIMIT, f"{field} must be a number.", field=field) from exc
    if not number.is_finite():
        raise PolicyError(PolicyErrorCode.BAD_LIMIT, f"{field} must be a finite number.", field=field)
    if abs(number) > MAX_AMOUNT:
        raise PolicyError(PolicyErrorCode.BAD_LIMIT, f"{field} is at most {MAX_AMOUNT:,}.", field=field)
    cents = number.quantize(_CENT)
    if cents != number:
        raise PolicyError(PolicyErrorCode.BAD_LIMIT, f"{field} has more than two decimals ({value}).", field=field)
    return cents


def set_authority_limit(
    *,
    actor: User,
    action: str,
    per_case: Decimal | str,
    role: str = "",
    team: Team | None = None,
    user: User | None = None,
    per_period: Decimal | str | None = None,
    period_days: int | None = None,
    currency: str = "",
) -> AuthorityLimit:
    """Set (create or replace) the limit of one role, team or person for one kind of concession (administrators)."""
    require_role(actor, Role.ADMIN)
    if action not in ConcessionKind.values:
        raise PolicyError(
            PolicyErrorCode.BAD_LIMIT, f"action is one of {', '.join(ConcessionKind.values)}.", field="action"
        )
    subjects = [s for s in (role or None, team, user) if s is not None]
    if len(subjects) != 1:
        raise PolicyError(
            PolicyErrorCode.BAD_LIMIT, "A limit is for exactly one of a role, a team or a person.", field="role"
        )
    if role and role not in Role.values:
        raise PolicyError(PolicyErrorCode.BAD_LIMIT, f"role is one of {', '.join(Role.values)}.", field="role")
    if user is not None and not user.is_staff_member:
        raise PolicyError(PolicyErrorCode.BAD_LIMIT, f"{user} is not staff.", field="user")
    case_limit = _decimal(per_case, "per_case")
    if case_limit < 0:
        raise PolicyError(PolicyErrorCode.BAD_LIMIT, "per_case cannot be negative.", field="per_case")
    period_limit = _decimal(per_period, "per_period") if per_period is not None else None
    if (period_limit is None) != (period_days is None):
        raise PolicyError(PolicyErrorCode.BAD_LIMIT, "per_period and period_days go together.", field="per_period")
    if period_days is not None and not 1 <= period_days <= 366:
        raise PolicyError(PolicyErrorCode.BAD_LIMIT, "period_days is 1 to 366.", field="period_days")
    if period_limit is not None and period_limit < case_limit:
        raise PolicyError(PolicyErrorCode.BAD_LIMIT, "per_period cannot be below per_case.", field="per_period")
    if action in PERCENT_KINDS:
        if case_limit > 100 or currency or period_limit is not None:
            raise PolicyError(
                PolicyErrorCode.BAD_LIMIT,
                "A discount limit is a percentage (0 to 100) per case, with no currency and no period.",
                field="per_case",
            )
        currency = ""
    else:
        currency = Money.parse(0, currency or settings.CASELOOP_CURRENCY).currency
    values = {
        "per_case": case_limit,
        "per_period": period_limit,
        "period_days": period_days,
        "currency": currency,
        "updated_at": clock.now(),
    }
    with transaction.atomic():
        limit, created = AuthorityLimit.objects.update_or_create(
            action=action, role=role, team=team, user=user, defaults=values
        )
        record_audit(
            action="authority_limit.set",
            object_type="authority_limit",
            object_id=limit.pk,
            actor=actor,
            after={
                "action": action,
                "role": role,
                "team": team.pk if team else None,
                "user": user.pk if user else None,
                **values,
                "created": created,
            },
        )
    return limit


def delete_authority_limit(*, actor: User, limit: AuthorityLimit) -> None:
    require_role(actor, Role.ADMIN)
    with transaction.atomic():
        record_audit(
            action="authority_limit.delete",
            object_type="authority_limit",
            object_id=limit.pk,
            actor=actor,
            before={"action": limit.action, "per_case": limit.per_case, "currency": limit.currency},
        )
        limit.delete()


# --- concessions: within authority at once, above it by approval -----------------------------------------------------
@dataclass(frozen=True, slots=True)
class ConcessionResult:
    concession: Concession
    approval: ApprovalRequest | None
    overrides: list[Override]


def _value(kind: str, amount: Money | None, percent: Decimal | None) -> Decimal:
    if kind in PERCENT_KINDS:
        if percent is None or amount is not None:
            raise PolicyError(PolicyErrorCode.BAD_AMOUNT, "A discount is a percentage, not an amount.", field="percent")
        if not percent.is_finite() or not Decimal(0) < percent <= Decimal(100):
            raise PolicyError(
                PolicyErrorCode.BAD_AMOUNT, "A discount is more than 0% and at most 100%.", field="percent"
            )
        # refused rather than rounded: 10.004% would otherwise pass a 10% limit as 10.00%
        if percent.quantize(_CENT) != percent:
            raise PolicyError(
                PolicyErrorCode.BAD_AMOUNT, f"A discount has at most two decimals, not {percent}%.", field="percent"
            )
        return percent.quantize(_CENT)
    if amount is None or percent is not None:
        raise PolicyError(
            PolicyErrorCode.BAD_AMOUNT, f"A {ConcessionKind(kind).label.lower()} is an amount of money.", field="amount"
        )
    if amount.amount <= 0:
        raise PolicyError(
            PolicyErrorCode.BAD_AMOUNT, f"The amount must be more than zero, not {amount}.", field="amount"
        )
    return amount.amount


def _due_in() -> dt.timedelta:
    return dt.timedelta(minutes=int(getattr(settings, "CASELOOP_APPROVAL_DUE_MINUTES", 15)))


def give_concession(
    *,
    actor: User,
    case: Case,
    kind: str,
    note: str,
    amount: Money | None = None,
    percent: Decimal | None = None,
    override_reason: str = "",
    ask_approval: bool = False,
    approval_reason: str = "",
    tell_customer: bool = False,
) -> ConcessionResult:
    """Give a customer a credit, refund, discount, fee waiver or free replacement on a case.

    The rules are put first (an integrity rule refuses; a guideline needs
    `override_reason`). Within the actor's authority the concession is
    granted at once. Above it: refused with `above_authority`, unless
    `ask_approval`, in which case it waits for an approver and the customer is
    promised an answer by the request's due time (told so on the case when
    `tell_customer`). A refusal changes nothing.
    """
    require_staff(actor)
    if kind not in ConcessionKind.values:
        raise PolicyError(
            PolicyErrorCode.BAD_AMOUNT, f"kind is one of {', '.join(ConcessionKind.values)}.", field="kind"
        )
    value = _value(kind, amount, percent)
    note = " ".join(note.split())
    if not note or len(note) > 500:
        raise Invalid("Say what it is for (at most 500 characters).", field="note")
    authority = authority_of(actor, kind)
    currency = ""
    if amount is not None:
        currency = amount.currency
        expected = authority.currency or settings.CASELOOP_CURRENCY
        if currency != expected:
            raise PolicyError(
                PolicyErrorCode.CURRENCY_MISMATCH,
                f"Amounts here are in {expected}, not {currency}; convert it first.",
                field="currency",
            )
    now = clock.now()
    with transaction.atomic():
        # the case row is locked until commit: two concessions on one case are counted one after the other
        case = (
            Case.objects.select_for_update(of=("self",))
            .select_related("requester__organization", "asset")
            .get(pk=case.pk)
        )
        if case.status == CaseStatus.CLOSED:
            raise PolicyError(PolicyErrorCode.CASE_CLOSED, f"{case.number} is closed.", status=409)
        facts = ActionFacts(
            kind=kind,
            amount=value if amount is not None else None,
            currency=currency or None,
            percent=value if amount is None else None,
        )
        overrides = enforce_rules(actor=actor, case=case, action=facts, override_reason=override_reason)
        if authority.per_period is not None:
            _lock_period_of(actor.pk)
        covered = coverage(authority=authority, user_id=actor.pk, case_id=case.pk, value=value, now=now)
        concession = Concession(
            case=case,
            contact_id=case.requester_id,
            kind=kind,
            note=note,
            requested_by=actor,
            amount=value if amount is not None else None,
            currency=currency,
            percent=value if amount is None else None,
            created_at=now,
        )
        if covered.covered:
            concession.state, concession.authorised_by, concession.granted_at = ConcessionState.GRANTED, actor, now
            concession.save()
            record_event(
                kind="concession.granted",
                subjects=_case_subjects(case),
                actor=actor,
                case_id=case.pk,
                summary=f"{ConcessionKind(kind).label} of {concession.value_label} given by {actor.name}: {note}"[:300],
                data={"concession": concession.pk, "kind": kind, "value": value, "currency": currency},
            )
            record_audit(
                action="concession.grant",
                object_type="case",
                object_id=case.pk,
                actor=actor,
                after={"concession": concession.pk, "kind": kind, "value": value, "currency": currency},
            )
            return ConcessionResult(concession=concession, approval=None, overrides=overrides)
        if not ask_approval:
            raise PolicyError(
                PolicyErrorCode.ABOVE_AUTHORITY,
                f"That is beyond your authority: {covered.why}. Ask for approval instead.",
                status=403,
                extra={
                    "per_case": authority.per_case,
                    "case_used": covered.case_used,
                    "period_used": covered.period_used,
                },
            )
        approval = _request_approval(
            actor=actor,
            case=case,
            concession=concession,
            value=value,
            currency=currency,
            reason=approval_reason,
            now=now,
        )
    if tell_customer:
        _tell_customer_when(actor=actor, case=case, approval=approval)
    return ConcessionResult(concession=concession, approval=approval, overrides=overrides)


def _request_approval(
    *, actor: User, case: Case, concession: Concession, value: Decimal, currency: str, reason: str, now: dt.datetime
) -> ApprovalRequest:
    candidates = approvers_for(kind=concession.kind, case=case, value=value, currency=currency, requester=actor)
    if not candidates:
        raise PolicyError(
            PolicyErrorCode.NO_APPROVER,
            "Nobody's authority covers this; an administrator needs to set a higher limit.",
            status=409,
        )
    approver = candidates[0]
    due = now + _due_in()
    concession.state = ConcessionState.PENDING
    concession.save()
    approval = ApprovalRequest.objects.create(
        concession=concession,
        case=case,
        requested_by=actor,
        reason=" ".join(reason.split())[:500],
        approver=approver,
        due_at=due,
        answer_due_at=due,
        created_at=now,
    )
    ApprovalStep.objects.create(request=approval, approver=approver, level=0, assigned_at=now, due_at=due)
    label = f"{ConcessionKind(concession.kind).label.lower()} of {concession.value_label}"
    make_promise(
        actor=actor,
        case=case,
        kind=PromiseKind.APPROVAL_ANSWER,
        description=f"an answer on your {label}",
        due_at=due,
        owner=Owner(user=actor),
        source=f"approval:{approval.pk}",
    )
    record_event(
        kind="approval.requested",
        subjects=[(S.CASE, case.pk)],
        actor=actor,
        case_id=case.pk,
        summary=f"Approval of a {label} asked of {approver.name}, due {due:%H:%M} UTC",
        data={"approval": approval.pk, "approver": approver.pk, "due_at": due},
    )
    record_audit(
        action="approval.request",
        object_type="case",
        object_id=case.pk,
        actor=actor,
        after={"approval": approval.pk, "concession": concession.pk, "approver": approver.pk},
    )
    notify(
        recipients=[approver.pk],
        kind=NoticeKind.APPROVAL_REQUESTED,
        case_id=case.pk,
        approval_id=approval.pk,
        summary=f"{actor.name} asks you to approve a {label} on {case.number}",
    )
    return approval


def _tell_customer_when(*, actor: User, case: Case, approval: ApprovalRequest) -> None:
    contact = case.requester
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        zone: dt.tzinfo = ZoneInfo(contact.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = dt.UTC
    due = approval.answer_due_at.astimezone(zone)
    text = (
        f"Hello {contact.first_name or contact.name},\n\nI have asked for approval of your "
        f"{ConcessionKind(approval.concession.kind).label.lower()} of {approval.concession.value_label}. "
        f"You will have an answer by {due:%H:%M} ({due:%d %b}).\n"
    )
    channel = Channel(case.channel) if case.channel in _CUSTOMER_CHANNELS else Channel.EMAIL
    add_message(
        actor=actor, case=case, direction=Direction.OUTBOUND, channel=channel, body=MessageInput(body_text=text)
    )


def _lock_period_of(user_id: int) -> None:
    """Lock the user's row until commit, so their concessions on other cases are counted one at a time.

    The case lock orders concessions on one case; a per-period limit spans every case the user
    touches, and two grants on different cases at the same moment would each count the period
    without the other (PostgreSQL; SQLite's writers are serialised at BEGIN already).
    """
    list(User.objects.select_for_update().filter(pk=user_id).values_list("pk", flat=True))


def _may_decide(actor: User, approval: ApprovalRequest) -> None:
    if actor.pk == approval.requested_by_id:
        raise PolicyError(PolicyErrorCode.NOT_APPROVER, "You cannot approve your own request.", status=403)
    concession = approval.concession
    value = concession.percent if concession.percent is not None else concession.amount
    assert value is not None
    authority = authority_of(actor, concession.kind)
    if concession.currency and authority.currency != concession.currency:
        raise PolicyError(PolicyErrorCode.NOT_APPROVER, "Your authority is not in this currency.", status=403)
    if authority.per_period is not None:
        _lock_period_of(actor.pk)  # the approver's grants count against their own period
    if not coverage(
        authority=authority, user_id=actor.pk, case_id=approval.case_id, value=value, now=clock.now()
    ).covered:
        raise PolicyError(PolicyErrorCode.NOT_APPROVER, "Your authority does not cover this request.", status=403)


def decide_approval(*, actor: User, approval: ApprovalRequest, approve: bool, reason: str) -> ApprovalRequest:
    """Approve or decline, with a reason; anyone whose own authority covers the request may decide it."""
    require_staff(actor)
    reason = " ".join(reason.split())
    if not reason:
        raise PolicyError(PolicyErrorCode.REASON_TOO_SHORT, "Give the reason for the decision.", field="reason")
    now = clock.now()
    with transaction.atomic():
        approval = ApprovalRequest.objects.select_for_update().select_related("concession", "case").get(pk=approval.pk)
        if approval.state != ApprovalState.PENDING:
            raise PolicyError(PolicyErrorCode.APPROVAL_CLOSED, f"This request is already {approval.state}.", status=409)
        _may_decide(actor, approval)
        concession = approval.concession
        if approve:
            concession.state, concession.authorised_by, concession.granted_at = ConcessionState.GRANTED, actor, now
        else:
            concession.state = ConcessionState.DECLINED
        concession.save(update_fields=["state", "authorised_by", "granted_at"])
        approval.state = ApprovalState.APPROVED if approve else ApprovalState.DECLINED
        approval.decided_by, approval.decided_at, approval.decision_reason = actor, now, reason
        approval.save(update_fields=["state", "decided_by", "decided_at", "decision_reason"])
        waiting = approval.steps.filter(outcome=StepOutcome.WAITING)
        if waiting.filter(approver=actor).exists():
            waiting.filter(approver=actor).update(outcome=StepOutcome.DECIDED, ended_at=now)
        else:
            # someone above the assigned approver answered: their turnaround runs from the request
            ApprovalStep.objects.create(
                request=approval,
                approver=actor,
                level=approval.level,
                assigned_at=approval.created_at,
                due_at=approval.answer_due_at,
                outcome=StepOutcome.DECIDED,
                ended_at=now,
            )
        approval.steps.filter(outcome=StepOutcome.WAITING).update(outcome=StepOutcome.CLOSED, ended_at=now)
        verb = "approved" if approve else "declined"
        label = f"{ConcessionKind(concession.kind).label.lower()} of {concession.value_label}"
        record_event(
            kind="approval.decided",
            subjects=_case_subjects(approval.case),
            actor=actor,
            case_id=approval.case_id,
            summary=f"{actor.name} {verb} the {label}: {reason}"[:300],
            data={"approval": approval.pk, "approved": approve, "reason": reason},
        )
        if approve:
            record_event(
                kind="concession.granted",
                subjects=_case_subjects(approval.case),
                actor=actor,
                case_id=approval.case_id,
                summary=f"{ConcessionKind(concession.kind).label} of "
                f"{concession.value_label} approved by {actor.name}: {concession.note}"[:300],
                data={"concession": concession.pk, "kind": concession.kind},
            )
        record_audit(
            action=f"approval.{verb}",
            object_type="case",
            object_id=approval.case_id,
            actor=actor,
            after={"approval": approval.pk, "reason": reason},
        )
        keep_promises(
            case_id=approval.case_id, event=APPROVAL_DECIDED, at=now, actor=actor, source=f"approval:{approval.pk}"
        )
        notify(
            recipients=[approval.requested_by_id],
            kind=NoticeKind.APPROVAL_DECIDED,
            case_id=approval.case_id,
            approval_id=approval.pk,
            summary=f"{actor.name} {verb} your {label} on {approval.case.number}",
        )
        # what waited on the answer (a quote) follows in this transaction: a decision it cannot follow is not taken
        publish_in_transaction(
            "approval.decided", approval_id=approval.pk, concession_id=concession.pk, approved=approve
        )
    publish("approval.decided", approval_id=approval.pk, concession_id=concession.pk, approved=approve)
    return approval


def withdraw_approval(*, actor: User, approval: ApprovalRequest, reason: str) -> ApprovalRequest:
    """The requester (or a manager) takes a request back; the promised answer is released, with the reason."""
    require_staff(actor)
    if actor.pk != approval.requested_by_id and actor.role not in MANAGERS:
        raise PermissionDenied("Only whoever asked, or a manager, can withdraw a request.")
    reason = " ".join(reason.split())
    if not reason:
        raise PolicyError(PolicyErrorCode.REASON_TOO_SHORT, "Say why it is withdrawn.", field="reason")
    with transaction.atomic():
        approval = ApprovalRequest.objects.select_for_update().select_related("concession").get(pk=approval.pk)
        if approval.state != ApprovalState.PENDING:
            raise PolicyError(PolicyErrorCode.APPROVAL_CLOSED, f"This request is already {approval.state}.", status=409)
        _withdraw(approval, actor=actor, reason=reason)
    return approval


def lock_concession_request(*, concession_id: int) -> None:
    """Lock the concession's pending approval request, if any, until commit.

    `decide_approval` locks the request, then (inside its transaction) what waits on the answer, a quote. A
    caller that locks such a quote and then withdraws the request takes this lock first, in the same order,
    so that the two never wait on each other (PostgreSQL would abort one of them as a deadlock).
    """
    list(
        ApprovalRequest.objects.select_for_update()
        .filter(concession_id=concession_id, state=ApprovalState.PENDING)
        .values_list("pk", flat=True)
    )


def withdraw_concession_request(*, actor: User, concession_id: int, reason: str) -> ApprovalRequest | None:
    """What the concession waited on is gone (its quote was declined or withdrawn): its pending approval request,
    if any, is withdrawn too, so that nobody can still approve it and its promised answer is released rather than
    broken. Trusted: the caller authorised the change that makes the request moot. Call it in that transaction."""
    approval = (
        ApprovalRequest.objects.select_for_update()
        .select_related("concession")
        .filter(concession_id=concession_id, state=ApprovalState.PENDING)
        .first()
    )
    if approval is not None:
        _withdraw(approval, actor=actor, reason=" ".join(reason.split()))
    return approval


def _withdraw(approval: ApprovalRequest, *, actor: User, reason: str) -> None:
    """Withdraw a pending request locked by the caller, in its transaction (with what waited on it), and on commit."""
    now = clock.now()
    approval.state, approval.decided_at, approval.decision_reason = ApprovalState.WITHDRAWN, now, reason
    approval.save(update_fields=["state", "decided_at", "decision_reason"])
    Concession.objects.filter(pk=approval.concession_id).update(state=ConcessionState.WITHDRAWN)
    approval.steps.filter(outcome=StepOutcome.WAITING).update(outcome=StepOutcome.CLOSED, ended_at=now)
    record_event(
        kind="approval.withdrawn",
        subjects=[(S.CASE, approval.case_id)],
        actor=actor,
        case_id=approval.case_id,
        summary=f"Approval request withdrawn by {actor.name}: {reason}"[:300],
        data={"approval": approval.pk},
    )
    promise = promise_made_by(f"approval:{approval.pk}")
    if promise is not None and promise.is_live:
        release_promise(actor=None, promise=promise, reason=f"request withdrawn: {reason}")
    publish_in_transaction("approval.withdrawn", approval_id=approval.pk, concession_id=approval.concession_id)
    publish("approval.withdrawn", approval_id=approval.pk, concession_id=approval.concession_id)


# --- the approval clock: reminders and escalations -----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ApprovalCheck:
    reminded: int
    escalated: int
    exhausted: int


def check_approvals(*, now: dt.datetime | None = None) -> ApprovalCheck:
    """Remind approvers shortly before due; hand a missed request to the next approver who can cover it.

    Idempotent: each request is re-read under a lock and changed only while
    it is still pending and due.
    """
    now = now or clock.now()
    remind_before = dt.timedelta(minutes=int(getattr(settings, "CASELOOP_APPROVAL_REMIND_MINUTES", 5)))
    reminded = escalated = exhausted = 0
    soon = ApprovalRequest.objects.filter(
        state=ApprovalState.PENDING, reminded_at__isnull=True, due_at__gt=now, due_at__lte=now + remind_before
    )
    for approval in soon.select_related("case"):
        if ApprovalRequest.objects.filter(pk=approval.pk, reminded_at__isnull=True).update(reminded_at=now):
            assert approval.approver_id is not None and approval.due_at is not None
            notify(
                recipients=[approval.approver_id],
                kind=NoticeKind.APPROVAL_REMINDER,
                case_id=approval.case_id,
                approval_id=approval.pk,
                summary=f"Approval on {approval.case.number} is due at {approval.due_at:%H:%M} UTC",
            )
            reminded += 1
    for approval_id in ApprovalRequest.objects.filter(state=ApprovalState.PENDING, due_at__lte=now).values_list(
        "id", flat=True
    ):
        outcome = _escalate(approval_id=approval_id, now=now)
        escalated += outcome == "escalated"
        exhausted += outcome == "exhausted"
    return ApprovalCheck(reminded=reminded, escalated=escalated, exhausted=exhausted)


def _escalate(*, approval_id: int, now: dt.datetime) -> str:
    with transaction.atomic():
        approval = (
            ApprovalRequest.objects.select_for_update(of=("self",))
            .select_related("concession", "case", "requested_by", "approver")
            .get(pk=approval_id)
        )
        if approval.state != ApprovalState.PENDING or approval.due_at is None or approval.due_at > now:
            return "unchanged"
        missed_by = approval.approver
        approval.steps.filter(outcome=StepOutcome.WAITING).update(outcome=StepOutcome.ESCALATED, ended_at=now)
        reached = list(approval.steps.values_list("approver_id", flat=True))
        concession = approval.concession
        value = concession.percent if concession.percent is not None else concession.amount
        assert value is not None
        following = approvers_for(
            kind=concession.kind,
            case=approval.case,
            value=value,
            currency=concession.currency,
            requester=approval.requested_by,
            exclude=reached,
        )
        label = f"{ConcessionKind(concession.kind).label.lower()} of {concession.value_label}"
        missed = missed_by.name if missed_by else "nobody"
        if not following:
            approval.due_at = None
            approval.save(update_fields=["due_at"])
            record_event(
                kind="approval.unanswered",
                subjects=[(S.CASE, approval.case_id)],
                case_id=approval.case_id,
                summary=f"Approval of a {label} missed by {missed}; nobody else's authority covers it",
                data={"approval": approval.pk},
            )
            recipients = list(User.objects.filter(role__in=MANAGERS, is_active=True).values_list("id", flat=True))
            notify(
                recipients=recipients,
                kind=NoticeKind.APPROVAL_ESCALATED,
                case_id=approval.case_id,
                approval_id=approval.pk,
                summary=f"Nobody left to approve a {label} on {approval.case.number}",
            )
            return "exhausted"
        nxt = following[0]
        approval.approver, approval.level, approval.reminded_at = nxt, approval.level + 1, None
        approval.due_at = now + _due_in()
        approval.save(update_fields=["approver", "level", "reminded_at", "due_at"])
        ApprovalStep.objects.create(
            request=approval, approver=nxt, level=approval.level, assigned_at=now, due_at=approval.due_at
        )
        record_event(
            kind="approval.escalated",
            subjects=[(S.CASE, approval.case_id)],
            case_id=approval.case_id,
            summary=f"Approval of a {label} missed by {missed}; now with {nxt.name}, due {approval.due_at:%H:%M} UTC",
            data={"approval": approval.pk, "from": missed_by.pk if missed_by else None, "to": nxt.pk},
        )
        notify(
            recipients=[nxt.pk],
            kind=NoticeKind.APPROVAL_ESCALATED,
            case_id=approval.case_id,
            approval_id=approval.pk,
            summary=f"Escalated to you: approve a {label} on {approval.case.number}",
        )
        return "escalated"


_MONEY = re.compile(r"^\s*(\d+(?:\.\d{1,2})?)\s*$")


def parse_money(amount: str | Decimal, currency: str) -> Money:
    """An amount as typed (or sent) with its currency, or `bad_amount` with a clear message."""
    text = str(amount)
    if text.strip().startswith("-"):
        raise PolicyError(PolicyErrorCode.BAD_AMOUNT, "An amount cannot be negative.", field="amount")
    if not _MONEY.match(text):
        raise PolicyError(PolicyErrorCode.BAD_AMOUNT, f"{text!r} is not an amount (e.g. 25 or 25.50).", field="amount")
    return Money.parse(text.strip(), currency)
