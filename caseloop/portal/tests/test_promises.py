"""The portal shows a customer the promises made to them on a case, in their words: what, by when, and whether
it was kept; never an internal one, never another customer's, never to a partner."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from caseloop.core import clock
from caseloop.customers.actions import update_organization
from caseloop.portal.tests.world import World, build_world
from caseloop.promises.actions import break_promise, make_promise, mark_kept, release_promise
from caseloop.promises.choices import PromiseKind
from caseloop.promises.selectors import promises_told_to
from caseloop.testing.web import signed_in

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)


@pytest.fixture
def world() -> World:
    return build_world()


def promise(world: World, case, kind: PromiseKind, description: str, *, hours: int = 2, source: str | None = None):
    return make_promise(actor=world.agent, case=case, kind=kind, description=description,
                        due_at=clock.now() + hours * HOUR, source=source)  # fmt: skip


def test_a_customer_sees_what_was_promised_by_when_and_whether_it_was_kept(world):
    promise(world, world.ann_case, PromiseKind.CALL_BACK, "call you back about the opener", hours=3)
    kept = promise(world, world.ann_case, PromiseKind.REPLY, "send you the spring sizes")
    mark_kept(actor=world.agent, promise=kept)
    missed = promise(world, world.ann_case, PromiseKind.VISIT, "send a technician", hours=5)
    break_promise(actor=None, promise=missed, reason="past due")
    dropped = promise(world, world.ann_case, PromiseKind.APPROVAL_ANSWER, "an answer on your credit of 40.00 USD")
    release_promise(actor=world.agent, promise=dropped, reason="the customer no longer wants it")
    response = signed_in(world.ann).get(f"/portal/cases/{world.ann_case.pk}/")
    html = response.content.decode()
    assert response.status_code == 200 and "What we promised you" in html
    assert "We call you back" in html and "call you back about the opener" in html
    assert "Kept on" in html and "send you the spring sizes" in html
    assert "Missed: we are sorry" in html and "A technician arrives" in html
    assert "No longer needed" in html
    # no owner, no internal state or reason in what the customer reads
    shown = re.sub(r"<[^>]+>", " ", html.split('id="promises-title"')[1].split("</section>")[0])
    for internal in ("Dana Reyes", "past due", "no longer wants it", "at_risk", "released", "broken"):
        assert internal not in shown, internal
    told = promises_told_to(world.ann, world.ann_case)
    assert [t.standing for t in told] == ["open", "released", "broken", "kept"]  # open first, then newest


def test_internal_promises_are_never_shown(world):
    promise(world, world.ann_case, PromiseKind.OTHER, "ask finance whether the invoice was paid")
    promise(world, world.ann_case, PromiseKind.REPLY, "Thank you personally for your kind words",
            source="feedback.thank_you:1")  # fmt: skip
    html = signed_in(world.ann).get(f"/portal/cases/{world.ann_case.pk}/").content.decode()
    assert "ask finance" not in html and "Thank you personally" not in html and "What we promised you" not in html
    assert promises_told_to(world.ann, world.ann_case) == []


def test_another_customers_promises_never_show(world):
    promise(world, world.oscar_case, PromiseKind.CALL_BACK, "call Oscar about the boiler")
    promise(world, world.ann_case, PromiseKind.CALL_BACK, "call Ann about the opener")
    # Cleo, Ann's colleague, now sees Ann's case, but the promises on it were made to Ann
    update_organization(actor=world.agent, organization=world.org, changes={"shares_cases": True})
    ann = signed_in(world.ann).get(f"/portal/cases/{world.ann_case.pk}/").content.decode()
    assert "call Ann about the opener" in ann and "call Oscar" not in ann
    assert signed_in(world.ann).get(f"/portal/cases/{world.oscar_case.pk}/").status_code == 404
    oscar = signed_in(world.oscar).get(f"/portal/cases/{world.oscar_case.pk}/").content.decode()
    assert "call Oscar about the boiler" in oscar and "call Ann" not in oscar
    cleo = signed_in(world.cleo).get(f"/portal/cases/{world.ann_case.pk}/")
    assert cleo.status_code == 200 and "call Ann about the opener" not in cleo.content.decode()


def test_a_partner_sees_no_promises_to_the_customer(world):
    promise(world, world.partner_case, PromiseKind.VISIT, "install the boiler on Tuesday")
    response = signed_in(world.partner).get(f"/portal/cases/{world.partner_case.pk}/")
    assert response.status_code == 200 and "install the boiler on Tuesday" not in response.content.decode()
    assert promises_told_to(world.partner, world.partner_case) == []
