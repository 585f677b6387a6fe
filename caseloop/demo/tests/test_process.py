"""The demo's process set-up: business hours, SLA policies, rules, limits, the price book, and commitments on
recent open cases, all made through the actions, once (an --append load keeps what is there)."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.conf import settings

from caseloop.cases.choices import OPEN_STATUSES
from caseloop.demo import loader
from caseloop.identity.choices import Role
from caseloop.policies.choices import ApprovalState, RuleKind
from caseloop.policies.models import ApprovalRequest, AuthorityLimit, Override, Rule
from caseloop.pricing.models import Price, PriceItem, Quote
from caseloop.pricing.selectors import price_list
from caseloop.promises.models import Promise
from caseloop.sla.models import BusinessCalendar, SlaPolicy
from caseloop.timeline.models import AuditEntry

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def _load(cases: int, **kw):
    return loader.load_demo(cases=cases, progress=False, parallel=False, now=NOW, **kw)


def test_the_demo_sets_up_the_process_through_the_actions(monkeypatch):
    from caseloop.demo.process import write_process as real

    spent = []

    def timed(**kw):
        started = time.perf_counter()
        result = real(**kw)
        spent.append(time.perf_counter() - started)
        return result

    monkeypatch.setattr("caseloop.demo.loader.write_process", timed)
    report = _load(300)

    assert spent[0] < 2.0  # a few dozen actions: `caseloop demo` stays fast
    assert {c.name for c in BusinessCalendar.objects.all()} == {"Support hours", "Field service hours"}
    assert BusinessCalendar.objects.get(name="Support hours").hours["sat"] == ["09:00-13:00"]
    policies = list(SlaPolicy.objects.order_by("position"))
    assert {p for policy in policies for p in policy.priorities} == {"low", "normal", "high", "urgent"}
    assert all(p.first_response_minutes and p.resolution_minutes for p in policies)
    kinds = set(Rule.objects.values_list("kind", flat=True))
    assert kinds == {RuleKind.INTEGRITY, RuleKind.GUIDELINE} and Rule.objects.count() >= 6
    limits = {(limit.role, limit.action) for limit in AuthorityLimit.objects.all()}
    assert {(Role.AGENT, "credit"), (Role.MANAGER, "credit"), (Role.AGENT, "discount")} <= limits
    # about fifteen products and services, each with a price now; some with history, one increase scheduled
    assert PriceItem.objects.count() >= 15
    assert len(price_list(currency=settings.CASELOOP_CURRENCY, public_only=False, at=NOW)) == PriceItem.objects.count()
    assert Price.objects.filter(valid_to__isnull=False).exists() and Price.objects.filter(valid_from__gt=NOW).exists()
    # commitments on recent open cases: promises, an approval waiting and one decided, a bent guideline, a quote
    promises = Promise.objects.select_related("case")
    assert promises.count() >= 6 and all(p.case.status in OPEN_STATUSES for p in promises)
    assert {ApprovalState.PENDING, ApprovalState.APPROVED} <= set(
        ApprovalRequest.objects.values_list("state", flat=True)
    )
    assert Override.objects.exists() and Quote.objects.filter(state="issued").exists()
    # through the actions: each write is in the audit log
    assert AuditEntry.objects.filter(action__in=["calendar.save", "sla_policy.save", "price.publish"]).count() >= 28
    assert report.counts["sla_policies"] == len(policies) and report.counts["price_items"] >= 15
    # the newest answered open cases run SLA clocks (the inbox's SLA view and badges), and promise nothing late
    from caseloop.sla.models import CaseSla

    clocks = CaseSla.objects.select_related("case")
    assert report.counts["sla_clocks"] == clocks.count() > 0
    assert all(c.case.status in OPEN_STATUSES and c.case.first_response_at is not None for c in clocks)
    assert not Promise.objects.filter(source__startswith="sla-first-response:").exists()


def test_an_appended_load_keeps_the_set_up_there():
    _load(40)
    counts = (BusinessCalendar.objects.count(), SlaPolicy.objects.count(), Rule.objects.count(),
              PriceItem.objects.count(), Price.objects.count(), AuthorityLimit.objects.count())  # fmt: skip
    report = _load(20, append=True, seed=2)
    assert (BusinessCalendar.objects.count(), SlaPolicy.objects.count(), Rule.objects.count(),
            PriceItem.objects.count(), Price.objects.count(), AuthorityLimit.objects.count()) == counts  # fmt: skip
    assert report.counts["calendars"] == report.counts["price_items"] == report.counts["rules"] == 0


def test_the_portal_customers_newest_open_request_shows_what_we_promised_her():
    import random

    from caseloop.customers.models import Contact
    from caseloop.demo.people import ensure_demo_staff
    from caseloop.demo.process import write_process
    from caseloop.demo.vocabulary import CUSTOMER_USERNAME
    from caseloop.promises.selectors import promises_told_to
    from caseloop.testing.factories import make_case

    _load(40)
    carla = Contact.objects.get(user__username=CUSTOMER_USERNAME)
    request = make_case(requester=carla, subject="The new springs squeak")
    write_process(staff=ensure_demo_staff(), rng=random.Random(1), now=NOW, carla_contact_id=carla.pk)
    assert carla.user is not None
    told = promises_told_to(carla.user, request)
    assert [t.what for t in told] == ["We call you back", "We write back to you"]
