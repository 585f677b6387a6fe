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
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, models
from django.utils import timezone

from caseloop.cases.models import Case, CustomFieldDefinition, Tag
from caseloop.customers.choices import OrderStatus
from caseloop.customers.models import Contact, Order
from caseloop.feedback.models import Survey, SurveyAnswer
from caseloop.insights.counting import REPEAT_DAYS, Fact
from caseloop.insights.process import process_facts

NOT_BOUGHT = (OrderStatus.CANCELLED.value, OrderStatus.REFUNDED.value)
_CASE_COLUMNS = ("id", "requester_id", "organization_id", "team_id", "assignee_id", "partner_id", "asset_id",
                 "channel", "solved_at")  # fmt: skip


# --- reading many rows cheaply --------------------------------------------------------------------------------
# A rebuild reads a million cases in batches of a few thousand ids. The ORM
# spends longer preparing each id of an IN list, and converting each value of
# each row, than the database spends answering; these statements are plain
# SELECTs built from the models' own table and column names, with every value
# a parameter, and datetimes made aware here (SQLite returns them as text).
def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    return connection.ops.quote_name(str(getattr(field, "column", name)))


def _select(model: type[models.Model], columns: Sequence[str], where: str, params: Sequence[Any],
            order: str = "") -> list[tuple[Any, ...]]:  # fmt: skip
    names = ", ".join(_column(model, c) for c in columns)
    table = connection.ops.quote_name(model._meta.db_table)
    sql = f"SELECT {names} FROM {table} WHERE {where}" + (f" ORDER BY {order}" if order else "")  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        rows: list[tuple[Any, ...]] = cursor.fetchall()
    return rows


def _marks(values: Sequence[Any]) -> str:
    return ", ".join(["%s"] * len(values))


def _aware(value: Any) -> dt.datetime | None:
    """A stored datetime as an aware one (UTC when the database kept it naive, as SQLite does)."""
    if value is None:
        return None
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(moment, dt.datetime)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _db_time(value: dt.datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def _custom_fields(raw: Any) -> Any:
    return json.loads(raw) if isinstance(raw, str) else raw


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


def case_type_of(custom_fields: Any, name: str | None) -> str | None:
    """The case's value of the case-type custom field `name` (CASELOOP_INSIGHTS_CASE_TYPE_FIELD), as text."""
    if not name or not isinstance(custom_fields, dict):
        return None
    value = custom_fields.get(name)
    return str(value)[:64] if value not in (None, "") else None


def case_types(custom_fields: Any, tags: Iterable[str], name: str | None) -> tuple[str, ...]:
    """A case's types: its case-type field when set, else its tags (each a type of its own)."""
    typed = case_type_of(custom_fields, name)
    if typed is not None:
        return (typed,)
    return tuple(sorted({t[:64] for t in tags}))


class TagNames:
    """Tag names by id, loaded once per refresh (there are few tags, many cases)."""

    def __init__(self) -> None:
        self._names: dict[int, str] = dict(Tag.objects.values_list("id", "name"))

    def of_cases(self, case_ids: Sequence[int]) -> dict[int, list[str]]:
        if not case_ids:
            return {}
        through = Case.tags.through
        table, quote = through._meta.db_table, connection.ops.quote_name
        marks = ", ".join(["%s"] * len(case_ids))
        # a plain statement: the ORM spends longer preparing two thousand ids than the database reading them
        sql = f"SELECT case_id, tag_id FROM {quote(table)} WHERE case_id IN ({marks})"  # noqa: S608  (names from _meta)
        with connection.cursor() as cursor:
            cursor.execute(sql, list(case_ids))
            pairs = cursor.fetchall()
        names: dict[int, list[str]] = defaultdict(list)
        for case_id, tag_id in pairs:
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


# the CaseFact columns in the order `Computed.row` gives them (for rows.insert_rows)
FACT_COLUMNS = (
    "case_id", "solved_at", "solved_on", "customer_id", "organization_id", "team_id", "assignee_id", "partner_id",
    "asset_id", "channel", "case_types", "sla_met", "promises_due", "promises_kept", "expectations", "ces", "csat",
    "nps", "repeat_at", "prior_order", "next_order_at", "refreshed_at",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Computed:
    """One case's fact as computed: what counting reads, and the few columns only the table keeps."""

    case_id: int
    day: dt.date
    fact: Fact
    customer_id: int
    organization_id: int | None
    asset_id: int | None

    def row(self, now: dt.datetime) -> tuple[Any, ...]:
        f = self.fact
        types = "|" + "|".join(f.case_types) + "|" if f.case_types else "|"
        return (self.case_id, f.solved_at, self.day, self.customer_id, self.organization_id, f.team_id,
                f.assignee_id, f.partner_id, self.asset_id, f.channel, types, f.sla_met, f.promises_due,
                f.promises_kept, f.expectations, f.ces, f.csat, f.nps, f.repeat_at, f.prior_order, f.next_order_at,
                now)  # fmt: skip


def case_type_field() -> str | None:
    """The case-type custom field's key when cases can carry it (custom fields are refused unless defined)."""
    name = settings.CASELOOP_INSIGHTS_CASE_TYPE_FIELD
    return name if name and CustomFieldDefinition.objects.filter(key=name).exists() else None


def compute_facts(case_ids: Sequence[int], *, tags: TagNames,
                  type_field: str | None) -> tuple[list[Computed], set[int]]:  # fmt: skip
    """The facts of these cases; and the ids that have none (not solved, or gone).

    `type_field`: the case-type custom field (case_type_field()); None: types
    are the tags, and custom fields are not even read.
    """
    columns = _CASE_COLUMNS + (("custom_fields",) if type_field else ())
    found = _select(Case, columns, f"{_column(Case, 'id')} IN ({_marks(case_ids)}) AND "
                    f"{_column(Case, 'solved_at')} IS NOT NULL", case_ids) if case_ids else []  # fmt: skip
    rows = []
    for values in found:
        row = dict(zip(columns, values, strict=True))
        row["solved_at"] = _aware(row["solved_at"])
        if type_field:
            row["custom_fields"] = _custom_fields(row["custom_fields"])
        rows.append(row)
    solved_ids = [r["id"] for r in rows]
    missing = set(case_ids) - set(solved_ids)
    if not rows:
        return [], missing
    tag_names = tags.of_cases(solved_ids)
    survivor = survivors_of(r["requester_id"] for r in rows)
    also = merged_into(set(survivor.values()))  # merged-away contacts whose cases and orders are the survivor's
    customer_of = {**survivor, **also}
    answers = _answers(solved_ids)
    repeats = _repeats(rows, customer_of=customer_of, tag_names=tag_names, tags=tags, type_field=type_field)
    orders = _orders(rows, customer_of=customer_of)
    process = process_facts(solved_ids)
    zone = timezone.get_current_timezone()
    computed = []
    for r in rows:
        solved_at: dt.datetime = r["solved_at"]
        answer = answers.get(r["id"], (None, None, None, None))
        prior, following = orders.get(r["id"], (False, None))
        sla_met, due, kept = process.get(r["id"], (None, 0, 0))
        fact = Fact(
            solved_at=solved_at, team_id=r["team_id"], channel=r["channel"],
            case_types=case_types(r.get("custom_fields"), tag_names.get(r["id"], ()), type_field),
            assignee_id=r["assignee_id"], partner_id=r["partner_id"], sla_met=sla_met, promises_due=due,
            promises_kept=kept, expectations=answer[0], ces=answer[1], csat=answer[2], nps=answer[3],
            repeat_at=repeats.get(r["id"]), prior_order=prior, next_order_at=following,
        )  # fmt: skip
        computed.append(Computed(case_id=r["id"], day=solved_at.astimezone(zone).date(), fact=fact,
                                 customer_id=customer_of.get(r["requester_id"], r["requester_id"]),
                                 organization_id=r["organization_id"], asset_id=r["asset_id"]))  # fmt: skip
    return computed, missing


def _answers(case_ids: Sequence[int]) -> dict[int, tuple[Any, Any, Any, Any]]:
    """(expectations, ces, csat, nps) per case; the latest survey of a case wins."""
    surveys = _select(Survey, ("id", "case_id"), f"{_column(Survey, 'case')} IN ({_marks(case_ids)})", case_ids)
    if not surveys:
        return {}
    case_of = dict(surveys)
    answers = _select(SurveyAnswer, ("survey_id", "expectations", "ces", "csat", "nps"),
                      f"{_column(SurveyAnswer, 'survey')} IN ({_marks(list(case_of))})", list(case_of),
                      order=_column(SurveyAnswer, "survey"))  # fmt: skip
    return {case_of[survey_id]: (expectations, ces, csat, nps) for survey_id, expectations, ces, csat, nps in answers}


def _repeats(rows: list[dict[str, Any]], *, customer_of: dict[int, int], tag_names: dict[int, list[str]],
             tags: TagNames, type_field: str | None) -> dict[int, dt.datetime]:  # fmt: skip
    """For each solved case, when the first later case on the same topic came in, if within 7 days."""
    window = dt.timedelta(days=REPEAT_DAYS)
    earliest = min(r["solved_at"] for r in rows)
    latest = max(r["solved_at"] for r in rows) + window
    columns = ("id", "requester_id", "asset_id", "created_at") + (("custom_fields",) if type_field else ())
    people = list(customer_of)
    created = _column(Case, "created_at")
    later = _select(Case, columns, f"{_column(Case, 'requester')} IN ({_marks(people)}) AND {created} > %s AND "
                    f"{created} <= %s", [*people, _db_time(earliest), _db_time(latest)],
                    order=f"{created}, {_column(Case, 'id')}")  # fmt: skip
    if not later:
        return {}
    later_tags = tags.of_cases([c[0] for c in later])
    by_customer: dict[int, list[tuple[dt.datetime, int, Topic]]] = defaultdict(list)
    for case_id, requester_id, asset_id, opened, *more in later:
        kind = case_type_of(_custom_fields(more[0]), type_field) if more else None
        topic = Topic(asset_id, frozenset(later_tags.get(case_id, ())), kind)
        by_customer[customer_of.get(requester_id, requester_id)].append((_aware(opened), case_id, topic))  # type: ignore[arg-type]
    found = {}
    for r in rows:
        topic = Topic(r["asset_id"], frozenset(tag_names.get(r["id"], ())),
                      case_type_of(r.get("custom_fields"), type_field))  # fmt: skip
        for opened_at, case_id, other in by_customer.get(customer_of.get(r["requester_id"], r["requester_id"]), ()):
            if opened_at <= r["solved_at"] or case_id == r["id"]:
                continue
            if opened_at > r["solved_at"] + window:
                break
            if topic.matches(other):
                found[r["id"]] = opened_at
                break
    return found


def _orders(rows: list[dict[str, Any]], *, customer_of: dict[int, int]) -> dict[int, tuple[bool, dt.datetime | None]]:
    """For each solved case: had the customer bought before, and when did they next buy (contact or organization)."""
    contact_ids = list(customer_of)
    org_ids = list({r["organization_id"] for r in rows if r["organization_id"] is not None})
    columns = ("id", "contact_id", "organization_id", "ordered_at")
    status = f"{_column(Order, 'status')} NOT IN ({_marks(NOT_BOUGHT)})"
    # two indexed lookups, not one OR (which SQLite answers by scanning every order)
    orders = _select(Order, columns, f"{_column(Order, 'contact')} IN ({_marks(contact_ids)}) AND {status}",
                     [*contact_ids, *NOT_BOUGHT])  # fmt: skip
    if org_ids:
        seen = {o[0] for o in orders}
        orders += [o for o in _select(Order, columns, f"{_column(Order, 'organization')} IN ({_marks(org_ids)}) AND "
                                      f"{status}", [*org_ids, *NOT_BOUGHT]) if o[0] not in seen]  # fmt: skip
    by_contact: dict[int, list[dt.datetime]] = defaultdict(list)
    by_org: dict[int, list[dt.datetime]] = defaultdict(list)
    for _, contact_id, org_id, raw in orders:
        ordered_at = _aware(raw)
        assert ordered_at is not None
        if contact_id is not None:
            by_contact[customer_of.get(contact_id, contact_id)].append(ordered_at)
        if org_id is not None:
            by_org[org_id].append(ordered_at)
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
