"""The demo's process set-up: business hours, SLA policies, rules, authority limits, the price book, and a few
promises, concessions, approvals and a quote on recent open cases, so that these pages are alive on day one.

Everything goes through the domains' actions (the volumes are small: a few dozen writes), so the demo shows
exactly what a person setting caseloop up by hand would get. Loading into a database that has some of it
already (`caseloop demo --append`) keeps what is there: a calendar, policy, rule or item of the same name or
SKU is left alone; limits are set again.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction

from caseloop.cases.choices import OPEN_STATUSES
from caseloop.cases.models import Case
from caseloop.core import clock
from caseloop.core.errors import DomainError
from caseloop.core.money import Money
from caseloop.demo.people import DemoStaff
from caseloop.identity.choices import Role
from caseloop.identity.models import User
from caseloop.policies.actions import (
    ConcessionResult,
    create_rule,
    decide_approval,
    give_concession,
    set_authority_limit,
)
from caseloop.policies.choices import PERCENT_KINDS
from caseloop.policies.models import Rule
from caseloop.pricing.actions import LineInput, create_quote, publish_price, save_item
from caseloop.pricing.models import PriceItem
from caseloop.promises.actions import Owner, make_promise, mark_kept
from caseloop.promises.choices import PromiseKind
from caseloop.sla.actions import save_calendar, save_policy, start_case_sla
from caseloop.sla.models import BusinessCalendar, SlaPolicy

logger = logging.getLogger(__name__)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
CALENDARS = (
    # (name, time zone, hours)
    ("Support hours", "America/Chicago", {**{d: ["08:00-18:00"] for d in WEEKDAYS}, "sat": ["09:00-13:00"]}),
    ("Field service hours", "America/Chicago", {d: ["07:00-17:00"] for d in WEEKDAYS}),
)
# (name, position, match, first response, next response, resolution, calendar, warn minutes)
POLICIES: tuple[tuple[str, int, dict[str, list[str]], int | None, int | None, int | None, str | None, int], ...] = (
    ("VIP customers", 10, {"tiers": ["vip"]}, 30, 60, 8 * 60, None, 10),
    ("Urgent", 20, {"priorities": ["urgent"]}, 30, 60, 8 * 60, None, 10),
    ("High priority", 30, {"priorities": ["high"]}, 2 * 60, 4 * 60, 2 * 10 * 60, "Support hours", 30),
    ("Field visits", 40, {"channels": ["phone"], "priorities": ["normal"]}, 4 * 60, 8 * 60, 5 * 10 * 60,
     "Field service hours", 60),
    ("Normal priority", 50, {"priorities": ["normal"]}, 8 * 60, 8 * 60, 5 * 10 * 60, "Support hours", 60),
    ("Low priority", 60, {"priorities": ["low"]}, 2 * 10 * 60, 2 * 10 * 60, 10 * 10 * 60, "Support hours", 120),
)  # fmt: skip
# (name, kind, applies to, condition, explanation)
RULES = (
    ("Refunds never exceed what was paid", "integrity", ["refund"], "action.amount > action.paid",
     "A refund can be at most what the customer paid for the order. For more, give a credit instead."),
    ("Nothing is given on a legal hold", "integrity", ["credit", "refund", "discount", "fee_waiver",
                                                       "free_replacement"], '"legal-hold" in case.tags',
     "This case is on legal hold: no credit, refund, discount or replacement until legal releases it."),
    ("Discounts on quotes stop at 25%", "integrity", ["quote"], "action.percent > 25",
     "Quotes are never discounted by more than 25%; above that the price book itself should change."),
    ("Credits above 40 USD", "guideline", ["credit"], "action.amount > 40",
     "Most credits are small. Say why this one is more than 40 USD, so that the review can learn from it."),
    ("A second concession within 90 days", "guideline", ["credit", "refund", "fee_waiver"],
     "customer.concessions_90d >= 2",
     "This customer already received two or more concessions in 90 days. Say what makes this one fair."),
    ("Free replacement after the warranty", "guideline", ["free_replacement"], "asset.warranty_days_left < 0",
     "The warranty has run out. A free replacement is still possible: say why (goodwill, a known fault …)."),
    ("Solving before we have replied", "guideline", ["status_change"],
     'action.to_status == "solved" and not case.answered',
     "Nobody has written to the customer yet. Say how it was solved, so the next person knows."),
    ("Reopening a case older than 30 days", "guideline", ["reopen"], "case.age_hours > 720",
     "Problems that come back after a month are usually new ones. Say why this belongs to the old case."),
)  # fmt: skip
# (role, kind, per case, per period, period days): agents act at once on small things, the manager on most
LIMITS = (
    (Role.AGENT, "credit", "50", "300", 30),
    (Role.AGENT, "refund", "100", "500", 30),
    (Role.AGENT, "discount", "10", None, None),
    (Role.AGENT, "fee_waiver", "25", "150", 30),
    (Role.AGENT, "free_replacement", "150", "600", 30),
    (Role.MANAGER, "credit", "500", "5000", 30),
    (Role.MANAGER, "refund", "1000", "10000", 30),
    (Role.MANAGER, "discount", "25", None, None),
    (Role.MANAGER, "fee_waiver", "200", None, None),
    (Role.MANAGER, "free_replacement", "1000", None, None),
    (Role.ADMIN, "credit", "2000", None, None),
    (Role.ADMIN, "refund", "5000", None, None),
    (Role.ADMIN, "discount", "25", None, None),
)
# (sku, name, kind, unit, price, public, description)
ITEMS = (
    ("SVC-VISIT", "Technician visit (first hour)", "service", "visit", "129.00", True,
     "A technician at your home or business, including the first hour of work."),
    ("SVC-HOUR", "Additional labour", "service", "hour", "95.00", True, "Each further hour on site."),
    ("SVC-EMERGENCY", "Emergency call-out, evenings and weekends", "service", "visit", "195.00", True,
     "Within four hours, any day; labour after the first hour is charged by the hour."),
    ("SVC-HVAC-TUNEUP", "Furnace or air conditioner tune-up", "service", "visit", "149.00", True,
     "Cleaning, filter change, safety and efficiency checks."),
    ("SVC-WH-FLUSH", "Water heater flush and anode check", "service", "visit", "119.00", True, ""),
    ("SVC-GD-SAFETY", "Garage door safety inspection", "service", "visit", "89.00", True,
     "Springs, cables, rollers and the opener's reversing test, with lubrication."),
    ("SVC-WH-INSTALL", "Water heater installation", "service", "each", "650.00", True,
     "Removal of the old heater included; the heater itself is quoted separately."),
    ("PLAN-CARE", "Home care plan", "service", "year", "249.00", True,
     "Two maintenance visits a year and 15% off repairs."),
    ("SVC-RTU-PM", "Rooftop unit preventive maintenance", "service", "visit", "349.00", False,
     "Commercial customers; quoted by the account team."),
    ("GD-SPRINGS", "Garage door torsion springs, pair, fitted", "product", "pair", "289.00", True, ""),
    ("GD-ROLLERS", "Nylon garage door rollers, set of 10", "product", "set", "59.00", True, ""),
    ("GD-OPENER-BELT", "Belt-drive garage door opener", "product", "each", "429.00", True, "Quiet, with two remotes."),
    ("HVAC-FILTER-6", "Furnace filters 16x25x1, pack of 6", "product", "pack", "54.00", True, ""),
    ("HVAC-IGNITER", "Furnace hot surface igniter", "product", "each", "79.00", True, ""),
    ("AC-CAPACITOR", "Air conditioner run capacitor", "product", "each", "65.00", True, ""),
    ("WH-ANODE", "Magnesium anode rod", "product", "each", "45.00", True, ""),
    ("DW-DRAIN-PUMP", "Dishwasher drain pump", "product", "each", "119.00", True, ""),
)  # fmt: skip
# earlier prices (the history of a price book that has been used for a while) and one increase scheduled
EARLIER = {"SVC-VISIT": ("119.00", 300, 120), "GD-SPRINGS": ("269.00", 300, 60)}  # sku: (amount, from, until days ago)
SCHEDULED = {"SVC-EMERGENCY": ("215.00", 30)}  # sku: (amount, in days)
REASON = "Long-standing customer, and the last visit was our fault: the technician came without the part."


@dataclass(slots=True)
class ProcessCounts:
    calendars: int = 0
    sla_policies: int = 0
    sla_clocks: int = 0
    rules: int = 0
    authority_limits: int = 0
    price_items: int = 0
    prices: int = 0
    concessions: int = 0
    approvals: int = 0
    quotes: int = 0
    promises: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def write_process(
    *, staff: DemoStaff, rng: random.Random, now: dt.datetime, carla_contact_id: int | None
) -> ProcessCounts:
    """Set up the process pages and bring a few recent open cases' commitments to life (through the actions)."""
    admin, counts = staff.admin, ProcessCounts()
    calendars = _calendars(admin, counts)
    _policies(admin, calendars, counts)
    _clocks(counts)
    _rules(staff.users["maria"], counts)
    _limits(admin, counts)
    _price_book(admin, now, counts)
    _commitments(staff, rng, counts, carla_contact_id=carla_contact_id)
    return counts


def _calendars(admin: User, counts: ProcessCounts) -> dict[str, BusinessCalendar]:
    existing = {c.name: c for c in BusinessCalendar.objects.filter(name__in=[c[0] for c in CALENDARS])}
    year = clock.now().year
    # the US holidays the demo company closes for, this year and next
    holidays = [f"{y}-{md}" for y in (year, year + 1) for md in ("01-01", "07-04", "12-25", "12-26")]
    for name, zone, hours in CALENDARS:
        if name not in existing:
            existing[name] = save_calendar(actor=admin, name=name, time_zone=zone, hours=hours, holidays=holidays)
            counts.calendars += 1
    return existing


def _policies(admin: User, calendars: dict[str, BusinessCalendar], counts: ProcessCounts) -> None:
    taken = set(SlaPolicy.objects.values_list("name", flat=True))
    for name, position, match, first, following, resolution, calendar, warn in POLICIES:
        if name in taken:
            continue
        fields: dict[str, Any] = dict(match)
        save_policy(actor=admin, name=name, position=position, **fields, first_response_minutes=first,
                    next_response_minutes=following, resolution_minutes=resolution, warn_minutes=warn,
                    calendar=calendars[calendar] if calendar else None)  # fmt: skip
        counts.sla_policies += 1


# the newest open cases given SLA clocks (the inbox's "SLA due soon" view and its badges come alive)
DEMO_CLOCKS = 500


def _clocks(counts: ProcessCounts) -> None:
    """SLA clocks for the newest open cases a person has answered already.

    Cases loaded in bulk skip the create action that starts clocks. Unanswered
    cases are left without: their first-answer promise would be due in the
    past, and the promise checker would send demo customers apologies.
    """
    cases = (
        Case.objects.filter(status__in=OPEN_STATUSES, first_response_at__isnull=False, sla__isnull=True)
        .select_related("requester__organization", "assignee", "team")
        .order_by("-id")[:DEMO_CLOCKS]
    )
    with transaction.atomic():
        for case in cases:
            if start_case_sla(case=case) is not None:
                counts.sla_clocks += 1


def _rules(manager: User, counts: ProcessCounts) -> None:
    taken = {name.lower() for name in Rule.objects.values_list("name", flat=True)}
    for name, kind, applies_to, condition, explanation in RULES:
        if name.lower() in taken:
            continue
        create_rule(actor=manager, name=name, kind=kind, applies_to=applies_to, condition=condition,
                    explanation=explanation)  # fmt: skip
        counts.rules += 1


def _limits(admin: User, counts: ProcessCounts) -> None:
    currency = settings.CASELOOP_CURRENCY
    for role, kind, per_case, per_period, days in LIMITS:
        set_authority_limit(actor=admin, action=kind, role=role, per_case=per_case, per_period=per_period,
                            period_days=days, currency="" if kind in PERCENT_KINDS else currency)  # fmt: skip
        counts.authority_limits += 1


def _price_book(admin: User, now: dt.datetime, counts: ProcessCounts) -> None:
    currency = settings.CASELOOP_CURRENCY
    taken = set(PriceItem.objects.values_list("sku", flat=True))
    day = dt.timedelta(days=1)
    for sku, name, kind, unit, amount, public, description in ITEMS:
        if sku in taken:
            continue
        item = save_item(actor=admin, sku=sku, name=name, kind=kind, unit=unit, description=description,
                         is_public=public)  # fmt: skip
        counts.price_items += 1
        start = now - 365 * day
        if sku in EARLIER:
            earlier, since, until = EARLIER[sku]
            publish_price(actor=admin, item=item, amount=Money.parse(earlier, currency), valid_from=now - since * day)
            start = now - until * day
            counts.prices += 1
        publish_price(actor=admin, item=item, amount=Money.parse(amount, currency), valid_from=start)
        counts.prices += 1
        if sku in SCHEDULED:
            later, in_days = SCHEDULED[sku]
            publish_price(actor=admin, item=item, amount=Money.parse(later, currency), valid_from=now + in_days * day)
            counts.prices += 1


def _recent_open_cases(limit: int, carla_contact_id: int | None) -> list[Case]:
    recent = list(
        Case.objects.filter(status__in=OPEN_STATUSES, assignee__isnull=False)
        .select_related("assignee", "team", "requester")
        .order_by("-created_at")[:limit]
    )
    if carla_contact_id is not None:
        carla = (
            Case.objects.filter(status__in=OPEN_STATUSES, requester_id=carla_contact_id)
            .select_related("assignee", "team", "requester")
            .order_by("-created_at")
            .first()
        )
        if carla is not None:  # first, wherever it was: the portal demo shows her what we promised
            recent = [carla, *(c for c in recent if c.pk != carla.pk)]
    return recent


def _commitments(staff: DemoStaff, rng: random.Random, counts: ProcessCounts, *, carla_contact_id: int | None) -> None:
    """Promises, concessions (one approved, one waiting), a guideline bent with a reason and a quote, on the
    most recent open cases; Carla's newest open case first, so the portal shows her what we promised."""
    cases = _recent_open_cases(10, carla_contact_id)
    if not cases:
        return
    manager = staff.users["maria"]
    agents = [u for u in staff.users.values() if u.role == Role.AGENT]
    now = clock.now()
    hour = dt.timedelta(hours=1)

    def rep(case: Case) -> User:
        return case.assignee if case.assignee is not None and case.assignee.role == Role.AGENT else rng.choice(agents)

    def promise(case: Case, kind: PromiseKind, what: str, due: dt.datetime, *, window: dt.timedelta | None = None,
                owner: User | None = None) -> None:  # fmt: skip
        author = owner or rep(case)
        make_promise(actor=author, case=case, kind=kind, description=what, due_at=due, owner=Owner(user=author),
                     window_start=due - window if window else None)  # fmt: skip
        counts.promises += 1

    steps: list[Callable[[Case], object]] = [
        lambda c: promise(c, PromiseKind.CALL_BACK, "call you back with the technician's arrival time", now + 3 * hour),
        lambda c: _concession(c, rep(c), "credit", "30", "For the missed visit window", counts),
        lambda c: _approved(c, rep(c), manager, counts),
        lambda c: _waiting(c, rep(c), counts),
        lambda c: promise(
            c,
            PromiseKind.VISIT,
            "a technician at your door",
            now + 26 * hour,
            window=2 * hour,
            owner=rng.choice(staff.technicians),
        ),
        lambda c: _concession(c, rep(c), "credit", "45", "Goodwill for the repeated visits", counts, reason=REASON),
        lambda c: _quote(c, rep(c), counts),
        lambda c: promise(c, PromiseKind.REPLY, "write back with the part's delivery date", now + 20 * hour),
        lambda c: _kept(c, rep(c), now, counts),
        lambda c: promise(c, PromiseKind.REFUND, "refund the duplicate payment to your card", now + 72 * hour),
    ]
    for case, step in zip(cases, steps, strict=False):
        try:
            step(case)
        except DomainError as refused:  # a rule of the demo refusing its own example is not worth a failed load
            logger.info("Demo commitment on %s skipped: %s", case.number, refused.message)
    # the customer of the portal demo is also told when we will answer her newest request
    if carla_contact_id is not None and cases[0].requester_id == carla_contact_id:
        try:
            promise(cases[0], PromiseKind.REPLY, "send you the written quote for the new springs", now + 28 * hour)
        except DomainError as refused:
            logger.info("Demo promise to the portal customer skipped: %s", refused.message)


def _concession(case: Case, actor: User, kind: str, amount: str, note: str, counts: ProcessCounts, *,
                reason: str = "", ask: bool = False) -> ConcessionResult:  # fmt: skip
    result = give_concession(actor=actor, case=case, kind=kind, note=note,
                             amount=Money.parse(amount, settings.CASELOOP_CURRENCY), override_reason=reason,
                             ask_approval=ask, approval_reason=reason or note)  # fmt: skip
    counts.concessions += 1
    if result.approval is not None:
        counts.approvals += 1
        counts.promises += 1  # the customer is promised an answer by the request's due time
    return result


def _approved(case: Case, actor: User, manager: User, counts: ProcessCounts) -> None:
    """A credit above the rep's limit, asked for in the same step and approved by the manager."""
    approval = _concession(case, actor, "credit", "180", "Two months of the care plan, for the faulty opener", counts,
                           reason=REASON, ask=True).approval  # fmt: skip
    if approval is not None:
        decide_approval(actor=manager, approval=approval, approve=True, reason="Fair: the opener failed twice.")


def _waiting(case: Case, actor: User, counts: ProcessCounts) -> None:
    """A credit above the rep's limit, waiting for the manager's answer (due in minutes)."""
    _concession(case, actor, "credit", "120", "Three missed appointments", counts, reason=REASON, ask=True)


def _quote(case: Case, actor: User, counts: ProcessCounts) -> None:
    lines: Sequence[LineInput] = (LineInput(sku="SVC-VISIT"), LineInput(sku="GD-SPRINGS"), LineInput(sku="GD-ROLLERS"))
    create_quote(actor=actor, case=case, lines=lines, discount_percent=Decimal(5), note="Springs and rollers, fitted")
    counts.quotes += 1
    counts.promises += 1  # an issued quote promises its price until it expires


def _kept(case: Case, actor: User, now: dt.datetime, counts: ProcessCounts) -> None:
    made = make_promise(actor=actor, case=case, kind=PromiseKind.CALL_BACK, description="call you back this afternoon",
                        due_at=now + dt.timedelta(hours=4))  # fmt: skip
    mark_kept(actor=actor, promise=made, note="Called; the customer will send photos.")
    counts.promises += 1
