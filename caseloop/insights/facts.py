"""Computing the fact row of solved cases from the other domains' tables, a batch at a time.

Each batch costs a fixed handful of queries whatever its size (cases, tags,
merged contacts, survey answers, the customers' later cases, their orders,
and the process facts), so a full rebuild of a million cases is a few hundred
round trips. docs/insights.md defines every field:

- customer: the surviving contact of the requester (merged contacts count as one);
- topic (for repeat contacts): the asset, the tags and the case type of a case;
  a later case is on the same topic when it names the same asset, shares a tag
  or has the same type; a case with no topic at all matches any later case;
- repeat_at: when the first later case on the same topic was opened, if within
  7 days of the solve;
- prior_order / next_order_at: whether the customer (the contact, or the
  organization the case was for) had bought before the solve, and when they
  next bought after it; cancelled and refunded orders do not count.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from caseloop.cases.models import Case, Tag
from caseloop.customers.choices import OrderStatus
from caseloop.customers.models import Contact, Order
from caseloop.feedback.models import SurveyAnswer
from caseloop.insights.counting import REPEAT_DAYS, Fact
from caseloop.insights.models import CaseFact
from caseloop.insights.process import process_facts

NOT_BOUGHT = (OrderStatus.CANCELLED, OrderStatus.REFUNDED)
_CASE_FIELDS = ("id", "requester_id", "organization_id", "team_id", "assignee_id", "partner_id", "asset_id",
                "channel", "custom_fields", "created_at", "solved_at")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Topic:
    asset_id: int | None
    tags: frozenset[str]
    case_type: str | None

    @property
    def empty(self) -> bool:
        return self.asset_id is None and not self.tags and not self.case_type

    def matches(self, other: Topic) -> bool:
        """Same asset, a shared tag, or the same type; a case with no topic matches anything."""
        if self.empty:
            return True
        return (
            (self.asset_id is not None and self.asset_id == other.asset_id)
            or bool(self.tags & other.tags)
            or (self.case_type is not None and self.case_type == other.case_type)
        )


def case_type_of(custom_fields: Any) -> str | None:
    """The case's value of the custom field named by CASELOOP_INSIGHTS_CASE_TYPE_FIELD, as text."""
    name = settings.CASELOOP_INSIGHTS_CASE_TYPE_FIELD
    if not name or not isinstance(custom_fields, dict):
        return None
    value = custom_fields.get(name)
    return str(value)[:64] if value not in (None, "") else None


def case_types(custom_fields: Any, tags: Iterable[str]) -> tuple[str, ...]:
    """A case's types: its case-type field when set, else its tags (each a type of its own)."""
    typed = case_type_of(custom_fields)
    if typed is not None:
        return (typed,)
    return tuple(sorted({t[:64] for t in tags}))


class TagNames:
    """Tag names by id, loaded once per refresh (there are few tags, many cases)."""

    def __init__(self) -> None:
        self._names: dict[int, str] = dict(Tag.objects.values_list("id", "name"))

    def of_cases(self, case_ids: Sequence[int]) -> dict[int, list[str]]:
        through = Case.tags.through
        names: dict[int, list[str]] = defaultdict(list)
        for case_id, tag_id in through.objects.filter(case_id__in=list(case_ids)).values_list("case_id", "tag_id"):
            name = self._names.get(tag_id)
            if name is None:  # a tag created since this refresh began
                self._names = dict(Tag.objects.values_list("id", "name"))
                name = self._names.get(tag_id, "")
            if name:
                names[case_id].append(name)
        return names


def survivors_of(contact_ids: Iterable[int]) -> dict[int, int]:
    """Each contact's surviving contact (itself unless merged); merge chains are followed."""
    ids = set(contact_ids)
    merged: dict[int, int] = {}
    checked: set[int] = set()
    frontier = set(ids)
    while frontier:
        checked |= frontier
        found = dict(Contact.objects.filter(pk__in=list(frontier), merged_into__isnull=False)
                     .values_list("id", "merged_into_id"))  # fmt: skip
        merged.update(found)
        frontier = set(found.values()) - checked
    survivors = {}
    for contact_id in ids:
        current, seen = contact_id, set()
        while current in merged and current not in seen:
            seen.add(current)
            current = merged[current]
        survivors[contact_id] = current
    return survivors


def merged_into(survivor_ids: Iterable[int]) -> dict[int, int]:
    """Contacts merged (directly) into these survivors, mapped to them: their cases and orders are the survivor's."""
    return dict(Contact.objects.filter(merged_into_id__in=list(survivor_ids)).values_list("id", "merged_into_id"))


def compute_facts(case_ids: Sequence[int], *, tags: TagNames, now: dt.datetime) -> tuple[list[CaseFact], set[int]]:
    """The fact rows of these cases; and the ids that have no fact (not solved, or gone)."""
    rows = list(Case.objects.filter(pk__in=list(case_ids), solved_at__isnull=False).values(*_CASE_FIELDS))
    solved_ids = [r["id"] for r in rows]
    missing = set(case_ids) - set(solved_ids)
    if not rows:
        return [], missing
    tag_names = tags.of_cases(solved_ids)
    survivor = survivors_of(r["requester_id"] for r in rows)
    customers = set(survivor.values())
    also = merged_into(customers)  # merged-away contacts whose later cases and orders count for the survivor
    customer_of = {**survivor, **also}
    answers = _answers(solved_ids)
    repeats = _repeats(rows, customer_of=customer_of, tag_names=tag_names, tags=tags)
    orders = _orders(rows, customer_of=customer_of)
    process = process_facts(solved_ids)
    facts = []
    for r in rows:
        solved_at: dt.datetime = r["solved_at"]
        customer = customer_of.get(r["requester_id"], r["requester_id"])
        answer = answers.get(r["id"], {})
        prior, following = orders.get(r["id"], (False, None))
        sla_met, due, kept = process.get(r["id"], (None, 0, 0))
        types = case_types(r["custom_fields"], tag_names.get(r["id"], ()))
        facts.append(CaseFact(
            case_id=r["id"], solved_at=solved_at, solved_on=timezone.localtime(solved_at).date(),
            customer_id=customer, organization_id=r["organization_id"], team_id=r["team_id"],
            assignee_id=r["assignee_id"], partner_id=r["partner_id"], asset_id=r["asset_id"], channel=r["channel"],
            case_types="|" + "|".join(types) + "|" if types else "|",
            sla_met=sla_met, promises_due=due, promises_kept=kept,
            expectations=answer.get("expectations"), ces=answer.get("ces"), csat=answer.get("csat"),
            nps=answer.get("nps"), repeat_at=repeats.get(r["id"]), prior_order=prior, next_order_at=following,
            refreshed_at=now,
        ))  # fmt: skip
    return facts, missing


def _answers(case_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    rows = (
        SurveyAnswer.objects.filter(survey__case_id__in=list(case_ids))
        .values("survey__case_id", "expectations", "ces", "csat", "nps")
        .order_by("survey_id")
    )
    # the latest survey of a case wins
    return {row["survey__case_id"]: {k: v for k, v in row.items() if k != "survey__case_id"} for row in rows}


def _repeats(rows: list[dict[str, Any]], *, customer_of: dict[int, int], tag_names: dict[int, list[str]],
             tags: TagNames) -> dict[int, dt.datetime]:  # fmt: skip
    """For each solved case, when the first later case on the same topic came in, if within 7 days."""
    window = dt.timedelta(days=REPEAT_DAYS)
    earliest = min(r["solved_at"] for r in rows)
    latest = max(r["solved_at"] for r in rows) + window
    later = list(
        Case.objects.filter(requester_id__in=list(customer_of), created_at__gt=earliest, created_at__lte=latest)
        .values("id", "requester_id", "asset_id", "custom_fields", "created_at").order_by("created_at", "id")
    )  # fmt: skip
    if not later:
        return {}
    later_tags = tags.of_cases([c["id"] for c in later])
    by_customer: dict[int, list[tuple[dt.datetime, int, Topic]]] = defaultdict(list)
    for c in later:
        topic = Topic(c["asset_id"], frozenset(later_tags.get(c["id"], ())), case_type_of(c["custom_fields"]))
        by_customer[customer_of.get(c["requester_id"], c["requester_id"])].append((c["created_at"], c["id"], topic))
    found = {}
    for r in rows:
        topic = Topic(r["asset_id"], frozenset(tag_names.get(r["id"], ())), case_type_of(r["custom_fields"]))
        for opened, case_id, other in by_customer.get(customer_of.get(r["requester_id"], r["requester_id"]), ()):
            if opened <= r["solved_at"] or case_id == r["id"]:
                continue
            if opened > r["solved_at"] + window:
                break
            if topic.matches(other):
                found[r["id"]] = opened
                break
    return found


def _orders(rows: list[dict[str, Any]], *, customer_of: dict[int, int]) -> dict[int, tuple[bool, dt.datetime | None]]:
    """For each solved case: had the customer bought before, and when did they next buy (contact or organization)."""
    contact_ids = list(customer_of)
    org_ids = list({r["organization_id"] for r in rows if r["organization_id"] is not None})
    match = Q(contact_id__in=contact_ids) | Q(organization_id__in=org_ids) if org_ids else Q(contact_id__in=contact_ids)
    orders = Order.objects.filter(match).exclude(status__in=list(NOT_BOUGHT)).values_list(
        "contact_id", "organization_id", "ordered_at")  # fmt: skip
    by_contact: dict[int, list[dt.datetime]] = defaultdict(list)
    by_org: dict[int, list[dt.datetime]] = defaultdict(list)
    for contact_id, org_id, ordered_at in orders:
        if contact_id is not None:
            by_contact[customer_of.get(contact_id, contact_id)].append(ordered_at)
        if org_id is not None:
            by_org[org_id].append(ordered_at)
    for times in (*by_contact.values(), *by_org.values()):
        times.sort()
    result = {}
    for r in rows:
        own = by_contact.get(customer_of.get(r["requester_id"], r["requester_id"]), [])
        times = sorted(own + (by_org.get(r["organization_id"], []) if r["organization_id"] is not None else []))
        if not times:
            continue
        cut = bisect.bisect_right(times, r["solved_at"])
        result[r["id"]] = (cut > 0, times[cut] if cut < len(times) else None)
    return result


# the CaseFact columns counting reads, in the order `fact_of` takes them
FACT_FIELDS = ("solved_on", "solved_at", "team_id", "channel", "case_types", "assignee_id", "partner_id", "sla_met",
               "promises_due", "promises_kept", "expectations", "ces", "csat", "nps", "repeat_at", "prior_order",
               "next_order_at")  # fmt: skip


def fact_of(values: Sequence[Any]) -> tuple[dt.date, Fact]:
    """The day and the counting view of a stored fact, from its FACT_FIELDS values (no model instance: fast)."""
    (solved_on, solved_at, team_id, channel, types, assignee_id, partner_id, sla_met, due, kept, expectations, ces,
     csat, nps, repeat_at, prior_order, next_order_at) = values  # fmt: skip
    return solved_on, Fact(
        solved_at=solved_at, team_id=team_id, channel=channel, case_types=tuple(t for t in types.split("|") if t),
        assignee_id=assignee_id, partner_id=partner_id, sla_met=sla_met, promises_due=due, promises_kept=kept,
        expectations=expectations, ces=ces, csat=csat, nps=nps, repeat_at=repeat_at, prior_order=prior_order,
        next_order_at=next_order_at,
    )  # fmt: skip
