"""The price book and quotes: one published price, a discount only within authority (or approved), price promises."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from caseloop.core import clock
from caseloop.core.errors import DomainError
from caseloop.core.money import Money
from caseloop.identity.choices import Role
from caseloop.policies.actions import create_rule, decide_approval, set_authority_limit, withdraw_approval
from caseloop.policies.choices import ApprovalState, ConcessionState
from caseloop.policies.errors import PolicyErrorCode
from caseloop.policies.models import ApprovalRequest, Concession
from caseloop.pricing.actions import (
    LineInput,
    accept_quote,
    create_quote,
    decline_quote,
    publish_price,
    save_item,
    withdraw_quote,
)
from caseloop.pricing.choices import QuoteState
from caseloop.pricing.errors import PricingErrorCode
from caseloop.pricing.models import Price, Quote
from caseloop.pricing.selectors import price_list, published_price
from caseloop.promises.choices import PromiseKind, PromiseState
from caseloop.promises.models import Promise
from caseloop.promises.tests.support import T0, committed, minutes
from caseloop.testing.factories import make_agent, make_case
from caseloop.timeline.models import TimelineEvent

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


def usd(amount: str) -> Money:
    return Money.parse(amount, "USD")


@pytest.fixture
def book(admin_user):
    """A spring replacement at 120 USD and a service visit at 89 USD (public), a part at 15 USD (not public)."""
    with clock.frozen_at(T0 - 10 * DAY):
        spring = save_item(actor=admin_user, sku="SPRING-1", name="Spring replacement", unit="each")
        visit = save_item(actor=admin_user, sku="VISIT", name="Service visit", unit="visit")
        part = save_item(actor=admin_user, sku="ROLLER", name="Roller", kind="product", is_public=False)
        publish_price(actor=admin_user, item=spring, amount=usd("120"))
        publish_price(actor=admin_user, item=visit, amount=usd("89"))
        publish_price(actor=admin_user, item=part, amount=usd("15"))
    set_authority_limit(actor=admin_user, action="discount", role=Role.AGENT, per_case="10")
    set_authority_limit(actor=admin_user, action="discount", role=Role.MANAGER, per_case="30")
    return {"spring": spring, "visit": visit, "part": part}


def quote(agent, case, *lines, at=T0, **kw):
    with committed(at):
        return create_quote(
            actor=agent, case=case, lines=list(lines) or [LineInput("SPRING-1", 2), LineInput("VISIT")], **kw
        ).quote


def test_a_new_price_ends_the_one_in_effect_and_each_moment_has_one_price(book, admin_user):
    spring = book["spring"]
    publish_price(actor=admin_user, item=spring, amount=usd("130"), valid_from=T0 + 5 * DAY)
    now, later = (
        published_price(spring, currency="USD", at=T0),
        published_price(spring, currency="USD", at=T0 + 5 * DAY),
    )
    assert (now and now.amount, later and later.amount) == (Decimal("120.00"), Decimal("130.00"))
    assert published_price(spring, currency="EUR", at=T0) is None
    assert list(Price.objects.filter(item=spring).order_by("valid_from").values_list("valid_to", flat=True)) == [
        T0 + 5 * DAY,
        None,
    ]


def test_publishing_out_of_order_or_below_zero_is_refused(book, admin_user, agent):
    spring = book["spring"]
    publish_price(actor=admin_user, item=spring, amount=usd("130"), valid_from=T0 + 5 * DAY)
    with pytest.raises(DomainError) as conflict:
        publish_price(actor=admin_user, item=spring, amount=usd("125"), valid_from=T0 + 2 * DAY)
    assert conflict.value.code == PricingErrorCode.PRICE_CONFLICT
    with pytest.raises(DomainError) as negative:
        publish_price(actor=admin_user, item=spring, amount=usd("-1"), valid_from=T0 + 9 * DAY)
    assert negative.value.code == PricingErrorCode.BAD_PRICE
    with pytest.raises(DomainError) as denied:
        publish_price(actor=agent, item=spring, amount=usd("1"), valid_from=T0 + 9 * DAY)
    assert denied.value.code == "permission_denied"
    assert Price.objects.filter(item=spring).count() == 2


def test_the_public_price_list_shows_public_items_at_their_price_now(book):
    lines = price_list(currency="USD", public_only=True, at=T0)
    assert [(line.item.sku, line.price.amount) for line in lines] == [
        ("VISIT", Decimal("89.00")),
        ("SPRING-1", Decimal("120.00")),
    ]
    assert len(price_list(currency="USD", public_only=False, at=T0)) == 3
    assert price_list(currency="USD", public_only=True, at=T0 - 20 * DAY) == []


def test_a_quote_is_priced_from_the_book_and_promises_its_price(book, agent):
    case = make_case()
    made = quote(agent, case)
    assert (made.state, made.subtotal, made.total, made.valid_until) == (
        QuoteState.ISSUED,
        Decimal("329.00"),
        Decimal("329.00"),
        T0 + 30 * DAY,
    )
    assert [
        (line.description, line.quantity, line.unit_price, line.line_total) for line in made.lines.order_by("id")
    ] == [
        ("Spring replacement", 2, Decimal("120.00"), Decimal("240.00")),
        ("Service visit", 1, Decimal("89.00"), Decimal("89.00")),
    ]
    promise = Promise.objects.get(source=f"quote:{made.pk}")
    assert (promise.kind, promise.due_at, promise.owner_user_id) == (
        PromiseKind.QUOTE_VALIDITY,
        T0 + 30 * DAY,
        agent.pk,
    )


@pytest.mark.parametrize(
    ("line", "code"),
    [
        (LineInput("SPRING-1", 1, Decimal("99.00")), PricingErrorCode.PRICE_MISMATCH),
        (LineInput("SPRING-1", 1, Decimal("150")), PricingErrorCode.PRICE_MISMATCH),
        (LineInput("NOPE", 1), PricingErrorCode.BAD_QUOTE),
        (LineInput("SPRING-1", 0), PricingErrorCode.BAD_QUOTE),
        # stated with a third decimal it is not the published price (it was rounded and accepted)
        (LineInput("SPRING-1", 1, Decimal("120.004")), PricingErrorCode.PRICE_MISMATCH),
        # too many digits to round (it was a 500)
        (LineInput("SPRING-1", 1, Decimal("1e40")), PricingErrorCode.PRICE_MISMATCH),
    ],
)
def test_a_quote_at_another_price_is_refused_and_nothing_is_written(book, agent, line, code):
    with pytest.raises(DomainError) as refused:
        quote(agent, make_case(), line)
    assert refused.value.code == code
    assert not Quote.objects.exists() and not Promise.objects.exists()


def test_the_published_price_stated_is_accepted(book, agent):
    assert quote(agent, make_case(), LineInput("SPRING-1", 1, Decimal("120"))).total == Decimal("120.00")


def test_an_item_with_no_price_in_the_currency_cannot_be_quoted(book, agent):
    with pytest.raises(DomainError) as refused:
        quote(agent, make_case(), LineInput("SPRING-1"), currency="EUR")
    assert refused.value.code == PricingErrorCode.NO_PUBLISHED_PRICE


def test_a_discount_within_authority_is_given_at_once(book, agent):
    made = quote(agent, make_case(), discount_percent=Decimal("10"))
    assert (made.state, made.total) == (QuoteState.ISSUED, Decimal("296.10"))
    assert Concession.objects.get(pk=made.concession_id).state == ConcessionState.GRANTED


def test_a_discount_beyond_authority_is_refused_or_waits_for_approval(book, agent):
    case = make_case()
    with pytest.raises(DomainError) as refused:
        quote(agent, case, discount_percent=Decimal("20"))
    assert refused.value.code == PolicyErrorCode.ABOVE_AUTHORITY
    assert not Quote.objects.exists() and not Concession.objects.exists()
    manager = make_agent(role=Role.MANAGER)
    made = quote(agent, case, discount_percent=Decimal("20"), ask_approval=True, note="Loyal customer")
    assert (made.state, made.valid_until) == (QuoteState.AWAITING_APPROVAL, None)
    approval = ApprovalRequest.objects.get(concession_id=made.concession_id)
    assert approval.approver_id == manager.pk
    with committed(T0 + minutes(5)):
        decide_approval(actor=manager, approval=approval, approve=True, reason="Ten years a customer.")
    made.refresh_from_db()
    assert (made.state, made.issued_at, made.total) == (QuoteState.ISSUED, T0 + minutes(5), Decimal("263.20"))
    assert Promise.objects.get(source=f"quote:{made.pk}").due_at == T0 + minutes(5) + 30 * DAY


def test_a_declined_discount_leaves_the_quote_refused(book, agent):
    manager = make_agent(role=Role.MANAGER)
    made = quote(agent, make_case(), discount_percent=Decimal("25"), ask_approval=True)
    approval = ApprovalRequest.objects.get(concession_id=made.concession_id)
    with committed(T0 + minutes(5)):
        decide_approval(actor=manager, approval=approval, approve=False, reason="Offer the service plan instead.")
    made.refresh_from_db()
    assert made.state == QuoteState.REFUSED and not Promise.objects.filter(source=f"quote:{made.pk}").exists()


def test_a_decision_whose_quote_cannot_follow_is_not_taken(book, agent, monkeypatch):
    # given a quote waiting for the approval of its discount
    manager = make_agent(role=Role.MANAGER)
    made = quote(agent, make_case(), discount_percent=Decimal("20"), ask_approval=True)
    approval = ApprovalRequest.objects.get(concession_id=made.concession_id)
    events_before = TimelineEvent.objects.count()

    def broken(*args, **kwargs):
        raise RuntimeError("the quote cannot be issued")

    monkeypatch.setattr("caseloop.pricing.actions._issue", broken)
    # when the approver approves but issuing the quote fails
    with pytest.raises(RuntimeError), committed(T0 + minutes(5)):
        decide_approval(actor=manager, approval=approval, approve=True, reason="Ten years a customer.")
    # then nothing is half done: the request still waits (it was decided while the quote waited for good)
    approval.refresh_from_db()
    made.refresh_from_db()
    assert (approval.state, approval.decided_at) == (ApprovalState.PENDING, None)
    assert Concession.objects.get(pk=made.concession_id).state == ConcessionState.PENDING
    assert (made.state, made.issued_at) == (QuoteState.AWAITING_APPROVAL, None)
    assert TimelineEvent.objects.count() == events_before
    assert Promise.objects.get(source=f"approval:{approval.pk}").state == PromiseState.OPEN
    # and once the quote can follow, the same decision goes through
    monkeypatch.undo()
    with committed(T0 + minutes(6)):
        decide_approval(actor=manager, approval=approval, approve=True, reason="Ten years a customer.")
    made.refresh_from_db()
    assert (made.state, made.issued_at) == (QuoteState.ISSUED, T0 + minutes(6))


def test_a_withdrawal_whose_quote_cannot_follow_is_not_taken(book, agent, monkeypatch):
    make_agent(role=Role.MANAGER)
    made = quote(agent, make_case(), discount_percent=Decimal("25"), ask_approval=True)
    approval = ApprovalRequest.objects.get(concession_id=made.concession_id)

    def broken(*args, **kwargs):
        raise RuntimeError("the quote cannot be withdrawn")

    monkeypatch.setattr("caseloop.pricing.actions.record_event", broken)
    with pytest.raises(RuntimeError), committed(T0 + minutes(5)):
        withdraw_approval(actor=agent, approval=approval, reason="The customer chose the service plan instead.")
    approval.refresh_from_db()
    made.refresh_from_db()
    assert (approval.state, made.state) == (ApprovalState.PENDING, QuoteState.AWAITING_APPROVAL)


def test_a_withdrawn_discount_request_withdraws_the_quote_waiting_on_it(book, agent):
    # given a quote waiting for the approval of its discount
    make_agent(role=Role.MANAGER)
    made = quote(agent, make_case(), discount_percent=Decimal("25"), ask_approval=True)
    approval = ApprovalRequest.objects.get(concession_id=made.concession_id)
    # when the rep takes the request back
    with committed(T0 + minutes(5)):
        withdraw_approval(actor=agent, approval=approval, reason="The customer chose the service plan instead.")
    # then the quote no longer waits for an answer that cannot come (it stayed awaiting_approval for good)
    made.refresh_from_db()
    assert (made.state, made.settled_at) == (QuoteState.WITHDRAWN, T0 + minutes(5))
    assert not Promise.objects.filter(source=f"quote:{made.pk}").exists()
    assert TimelineEvent.objects.filter(kind="quote.withdrawn", subject_id=made.case_id).exists()


def test_a_quote_declined_while_its_discount_waits_withdraws_the_approval_request(book, agent):
    # given a quote waiting for the approval of its discount, and the answer promised to the customer
    manager = make_agent(role=Role.MANAGER)
    made = quote(agent, make_case(), discount_percent=Decimal("25"), ask_approval=True)
    approval = ApprovalRequest.objects.get(concession_id=made.concession_id)
    # when the customer declines the quote before the answer
    with committed(T0 + minutes(5)):
        decline_quote(actor=agent, quote=made, reason="Too expensive")
    # then the request is withdrawn: the promised answer released (it was broken at the due time, with an
    # apology), and the manager can no longer approve a discount on a declined quote (it was granted)
    approval.refresh_from_db()
    assert approval.state == ApprovalState.WITHDRAWN
    assert Promise.objects.get(source=f"approval:{approval.pk}").state == PromiseState.RELEASED
    with pytest.raises(DomainError) as closed, committed(T0 + minutes(6)):
        decide_approval(actor=manager, approval=approval, approve=True, reason="Fine by me, go ahead.")
    assert closed.value.code == PolicyErrorCode.APPROVAL_CLOSED
    assert Concession.objects.get(pk=made.concession_id).state == ConcessionState.WITHDRAWN
    made.refresh_from_db()
    assert made.state == QuoteState.DECLINED


def test_accepting_keeps_the_price_promise_withdrawing_breaks_it_declining_releases_it(book, agent):
    accepted, withdrawn, declined = (quote(agent, make_case()) for _ in range(3))
    with clock.frozen_at(T0 + 2 * DAY):
        accept_quote(actor=agent, quote=accepted)
        withdraw_quote(actor=agent, quote=withdrawn, reason="The spring model is discontinued.")
        decline_quote(actor=agent, quote=declined, reason="Too expensive")
        with pytest.raises(DomainError) as again:
            accept_quote(actor=agent, quote=withdrawn)
    assert again.value.code == PricingErrorCode.QUOTE_NOT_OPEN
    states = {q.pk: Promise.objects.get(source=f"quote:{q.pk}").state for q in (accepted, withdrawn, declined)}
    assert states == {
        accepted.pk: PromiseState.KEPT,
        withdrawn.pk: PromiseState.BROKEN,
        declined.pk: PromiseState.RELEASED,
    }
    assert Promise.objects.get(source=f"quote:{withdrawn.pk}").apology_pending is False  # a price: no apology template


def test_an_expired_quote_cannot_be_accepted(book, agent):
    made = quote(agent, make_case(), valid_days=7)
    with clock.frozen_at(T0 + 8 * DAY), pytest.raises(DomainError) as refused:
        accept_quote(actor=agent, quote=made)
    assert refused.value.code == PricingErrorCode.QUOTE_EXPIRED
    assert Quote.objects.get(pk=made.pk).state == QuoteState.ISSUED


def test_rules_on_quotes_are_put_to_every_quote(book, agent):
    create_rule(
        actor=make_agent(role=Role.MANAGER),
        name="Large quotes",
        kind="guideline",
        applies_to=["quote"],
        condition="action.amount > 300",
        explanation="Large quotes go through the sales desk where possible.",
    )
    with pytest.raises(DomainError) as refused:
        quote(agent, make_case())
    assert refused.value.code == PolicyErrorCode.REASON_REQUIRED and not Quote.objects.exists()
    made = quote(agent, make_case(), override_reason="The customer needs it today and the desk is closed.")
    assert made.state == QuoteState.ISSUED


@pytest.mark.parametrize("percent", ["9.999", "99.995"])
def test_a_discount_with_more_than_two_decimals_is_refused_not_rounded(book, agent, percent):
    # 99.995 rounded half-even was 100% off (a free quote); 9.999 rounded into the agent's 10% authority
    with pytest.raises(DomainError) as refused:
        quote(agent, make_case(), discount_percent=Decimal(percent))
    assert (refused.value.code, refused.value.field) == (PricingErrorCode.BAD_QUOTE, "discount_percent")
    assert not Quote.objects.exists() and not Concession.objects.exists()


def test_a_quote_too_large_for_its_columns_is_refused_and_nothing_is_written(book, admin_user, agent):
    # given an item at the largest price a column holds
    publish_price(actor=admin_user, item=book["part"], amount=usd("999999999999.99"), valid_from=T0 - DAY)
    case = make_case()
    # when a quote multiplies it past that, on one line or across lines
    for lines in ([LineInput("ROLLER", 2)], [LineInput("ROLLER"), LineInput("VISIT")]):
        with pytest.raises(DomainError) as refused:
            quote(agent, case, *lines)
        # then it is refused (it was stored, and every later read of the case's quotes was a 500 on SQLite)
        assert refused.value.code == PricingErrorCode.BAD_QUOTE
    assert not Quote.objects.exists() and not Promise.objects.exists()
    assert quote(agent, case, LineInput("ROLLER")).total == Decimal("999999999999.99")


def test_a_price_typed_with_three_decimals_is_refused_not_rounded(book, admin_user):
    from caseloop.testing.api import ApiClient

    with clock.frozen_at(T0):
        sent = ApiClient(admin_user).post("/price-book/items/VISIT/prices", {"amount": "95.999", "currency": "USD"})
    assert (sent.status_code, sent.json()["code"]) == (422, "invalid")
    assert sent.json()["errors"][0]["field"] == "amount" and "more than 2 decimals" in sent.json()["detail"]
    assert [p.amount for p in Price.objects.filter(item=book["visit"])] == [Decimal("89.00")]


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_decision_and_a_decline_at_once_wait_for_each_other_without_a_deadlock(book, agent):
    """The approver approves the discount while the customer declines the quote waiting on it.

    The decision holds the request's lock and, inside its transaction, issues the quote; the decline takes the
    request's lock before the quote's, so it waits for the decision instead of holding the quote while the
    decision waits for it (PostgreSQL would abort one of them as a deadlock). The decision is held open until
    the decline has locked the quote or two seconds pass.
    """
    import threading
    from unittest import mock

    from django.db import connection, connections

    from caseloop.pricing.actions import on_discount_decided as real_on_discount_decided
    from caseloop.promises.selectors import promise_made_by as real_promise_made_by

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers at BEGIN: the two cannot interleave there")
    manager = make_agent(role=Role.MANAGER)
    made = quote(agent, make_case(), discount_percent=Decimal("20"), ask_approval=True)
    approval = ApprovalRequest.objects.get(concession_id=made.concession_id)
    decision_holds, quote_locked = threading.Event(), threading.Event()

    def deciding(**kw):
        decision_holds.set()
        quote_locked.wait(timeout=2)
        return real_on_discount_decided(**kw)

    def declining(source):
        quote_locked.set()  # the decline reads the quote's promise with the quote locked
        return real_promise_made_by(source)

    outcomes: dict[str, str] = {}

    def run(name):
        try:
            if name == "decide":
                decide_approval(actor=manager, approval=approval, approve=True, reason="Ten years a customer.")
            else:
                decision_holds.wait(timeout=10)
                decline_quote(actor=agent, quote=made, reason="Too expensive")
            outcomes[name] = "done"
        except Exception as failed:  # a deadlock is an OperationalError: reported, not raised in the thread
            outcomes[name] = type(failed).__name__
        finally:
            connections.close_all()

    with (
        mock.patch("caseloop.pricing.actions.on_discount_decided", deciding),
        mock.patch("caseloop.pricing.actions.promise_made_by", declining),
    ):
        threads = [threading.Thread(target=run, args=(name,)) for name in ("decide", "decline")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert outcomes == {"decide": "done", "decline": "done"}
    made.refresh_from_db()
    approval.refresh_from_db()
    assert (approval.state, made.state) == (ApprovalState.APPROVED, QuoteState.DECLINED)
