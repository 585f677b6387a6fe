"""Every write of the price book and quotes.

A quote is priced from the price book, never typed in: a line's unit price is
the published price in effect now, and a quote that states another price is
refused (`price_mismatch`, the built-in integrity rule). The only way to a
lower total is a discount, which is a concession of the policies domain:
within the author's authority it is granted at once and the quote is issued;
above it the quote waits for the approval and is issued (or refused) when it
is decided. The rules with `quote` in their actions are put to every quote.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from django.conf import settings
from django.db import IntegrityError, transaction

from caseloop.cases.choices import CaseStatus
from caseloop.cases.models import Case
from caseloop.core import clock
from caseloop.core.errors import Invalid
from caseloop.core.money import MAX_AMOUNT, Money
from caseloop.identity.choices import Role
from caseloop.identity.models import User
from caseloop.identity.selectors import require_role, require_staff
from caseloop.policies.actions import (
    enforce_rules,
    give_concession,
    lock_concession_request,
    withdraw_concession_request,
)
from caseloop.policies.choices import ActionKind, ConcessionKind, ConcessionState
from caseloop.policies.engine import ActionFacts
from caseloop.policies.models import Concession, Override
from caseloop.pricing.choices import OPEN_QUOTE_STATES, ItemKind, QuoteState
from caseloop.pricing.errors import PricingError, PricingErrorCode
from caseloop.pricing.models import Price, PriceItem, Quote, QuoteLine
from caseloop.pricing.selectors import published_price
from caseloop.promises.actions import Owner, break_promise, keep_promises, make_promise, release_promise
from caseloop.promises.choices import PromiseKind
from caseloop.promises.kinds import QUOTE_ACCEPTED
from caseloop.promises.selectors import promise_made_by
from caseloop.timeline.actions import record_audit, record_event
from caseloop.timeline.choices import SubjectKind as S

CENT = Decimal("0.01")
MAX_LINES = 100
MAX_QUANTITY = 10_000


# --- the price book -------------------------------------------------------------------------------------------
def save_item(
    *,
    actor: User,
    sku: str,
    name: str,
    kind: str = ItemKind.SERVICE,
    unit: str = "each",
    description: str = "",
    is_public: bool = True,
    is_active: bool = True,
    item: PriceItem | None = None,
) -> PriceItem:
    """Add a product or service to the price book, or change one (administrators)."""
    require_role(actor, Role.ADMIN)
    sku, name, unit = sku.strip(), " ".join(name.split()), unit.strip() or "each"
    if not sku or len(sku) > 64 or any(c.isspace() for c in sku):
        raise PricingError(PricingErrorCode.BAD_ITEM, "A SKU is 1 to 64 characters without spaces.", field="sku")
    if not name or len(name) > 200:
        raise PricingError(PricingErrorCode.BAD_ITEM, "An item needs a name of at most 200 characters.", field="name")
    if kind not in ItemKind.values:
        raise PricingError(PricingErrorCode.BAD_ITEM, f"kind is one of {', '.join(ItemKind.values)}.", field="kind")
    taken = PriceItem.objects.filter(sku__iexact=sku)
    if item is not None:
        taken = taken.exclude(pk=item.pk)
    if taken.exists():
        raise PricingError(PricingErrorCode.SKU_TAKEN, f"SKU {sku} is taken.", status=409, field="sku")
    values = {
        "sku": sku,
        "name": name,
        "kind": kind,
        "unit": unit[:30],
        "description": description.strip(),
        "is_public": is_public,
        "is_active": is_active,
        "updated_at": clock.now(),
    }
    try:
        with transaction.atomic():
            if item is None:
                item = PriceItem.objects.create(**values)
            else:
                for key, value in values.items():
                    setattr(item, key, value)
                item.save()
            record_audit(
                action="price_item.save", object_type="price_item", object_id=item.pk, actor=actor, after=values
            )
    except IntegrityError as exc:
        raise PricingError(PricingErrorCode.SKU_TAKEN, f"SKU {sku} is taken.", status=409) from exc
    return item


def parse_price(amount: str | Decimal, currency: str) -> Money:
    """A price as the administrator typed (or sent) it: one with more than two decimals is refused (`invalid`,
    as an order's total is), never rounded into another price than the one given."""
    return Money.parse(str(amount).strip(), currency.strip().upper(), exact=True)


def publish_price(
    *,
    actor: User,
    item: PriceItem,
    amount: Money,
    valid_from: dt.datetime | None = None,
    valid_to: dt.datetime | None = None,
) -> Price:
    """Publish a price from `valid_from` (now); the price in effect then ends there.

    A price scheduled to start later than this one is a conflict: change the
    schedule in order. Negative prices are refused; zero is a free item.
    """
    require_role(actor, Role.ADMIN)
    if amount.amount < 0:
        raise PricingError(PricingErrorCode.BAD_PRICE, "A price cannot be negative.", field="amount")
    now = clock.now()
    start = valid_from or now
    for name, moment in (("valid_from", start), ("valid_to", valid_to)):
        if moment is not None and moment.tzinfo is None:
            raise PricingError(PricingErrorCode.BAD_PRICE, f"{name} needs a time zone.", field=name)
    if valid_to is not None and valid_to <= start:
        raise PricingError(PricingErrorCode.BAD_PRICE, "A price ends after it starts.", field="valid_to")
    with transaction.atomic():
        PriceItem.objects.select_for_update().get(pk=item.pk)  # one publisher of this item's prices at a time
        prices = Price.objects.filter(item=item, currency=amount.currency)
        if prices.filter(valid_from__gte=start).exists():
            raise PricingError(
                PricingErrorCode.PRICE_CONFLICT,
                "A price starting at or after this one is already published; publish prices in order.",
                status=409,
                field="valid_from",
            )
        if valid_to is not None and prices.filter(valid_from__lt=valid_to, valid_from__gt=start).exists():
            raise PricingError(PricingErrorCode.PRICE_CONFLICT, "It would overlap a later price.", status=409)
        current = (
            prices.filter(valid_from__lt=start).filter(valid_to__isnull=True).first()
            or prices.filter(valid_from__lt=start, valid_to__gt=start).first()
        )
        if current is not None:
            current.valid_to = start
            current.save(update_fields=["valid_to"])
        price = Price.objects.create(
            item=item,
            amount=amount.amount,
            currency=amount.currency,
            valid_from=start,
            valid_to=valid_to,
            published_at=now,
            published_by=actor,
        )
        record_audit(
            action="price.publish",
            object_type="price_item",
            object_id=item.pk,
            actor=actor,
            before={"amount": current.amount if current else None},
            after={"amount": amount.amount, "currency": amount.currency, "valid_from": start, "valid_to": valid_to},
        )
    return price


# --- quotes ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class LineInput:
    """A line as asked: an item by SKU, how many, and (optionally) the unit price the author believes is right."""

    sku: str
    quantity: int = 1
    unit_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class QuoteResult:
    quote: Quote
    overrides: list[Override]


def _priced_lines(lines: Sequence[LineInput], currency: str, now: dt.datetime) -> list[QuoteLine]:
    if not lines or len(lines) > MAX_LINES:
        raise PricingError(PricingErrorCode.BAD_QUOTE, f"A quote has 1 to {MAX_LINES} lines.", field="lines")
    items = {i.sku: i for i in PriceItem.objects.filter(sku__in=[line.sku for line in lines], is_active=True)}
    priced = []
    for n, line in enumerate(lines):
        item = items.get(line.sku)
        if item is None:
            raise PricingError(
                PricingErrorCode.BAD_QUOTE, f"Line {n + 1}: no active item {line.sku!r}.", field=f"lines.{n}.sku"
            )
        if not 1 <= line.quantity <= MAX_QUANTITY:
            raise PricingError(
                PricingErrorCode.BAD_QUOTE,
                f"Line {n + 1}: quantity is 1 to {MAX_QUANTITY}.",
                field=f"lines.{n}.quantity",
            )
        price = published_price(item, currency=currency, at=now)
        if price is None:
            raise PricingError(
                PricingErrorCode.NO_PUBLISHED_PRICE,
                f"{item.name} has no published price in {currency} now.",
                field=f"lines.{n}.sku",
            )
        # compared as stated, never rounded first: 120.004 is not the published 120.00 (and 1e40 is no price)
        if line.unit_price is not None and line.unit_price != price.amount:
            raise PricingError(
                PricingErrorCode.PRICE_MISMATCH,
                f"The published price of {item.name} is {price.amount} {currency}, not "
                f"{line.unit_price}: the same price is quoted everywhere. "
                f"To charge less, give a discount (within your authority, or approved).",
                status=403,
                field=f"lines.{n}.unit_price",
            )
        if price.amount * line.quantity > MAX_AMOUNT:
            raise PricingError(
                PricingErrorCode.BAD_QUOTE,
                f"Line {n + 1}: {line.quantity} x {price.amount} {currency} is more than a quote can hold "
                f"({MAX_AMOUNT:,}).",
                field=f"lines.{n}.quantity",
            )
        priced.append(
            QuoteLine(
                item=item,
                price=price,
                description=item.name[:200],
                quantity=line.quantity,
                unit_price=price.amount,
                line_total=price.amount * line.quantity,
            )
        )
    return priced


def create_quote(
    *,
    actor: User,
    case: Case,
    lines: Sequence[LineInput],
    currency: str | None = None,
    discount_percent: Decimal = Decimal(0),
    valid_days: int = 30,
    note: str = "",
    override_reason: str = "",
    ask_approval: bool = False,
) -> QuoteResult:
    """Quote the case's customer from the price book; a refusal writes nothing.

    With a discount beyond the author's authority the quote is refused
    (`above_authority`) unless `ask_approval`: then it waits for the
    approval, and the customer is promised an answer by its due time.
    """
    require_staff(actor)
    code = Money.parse(0, currency or settings.CASELOOP_CURRENCY).currency
    if not 1 <= valid_days <= 365:
        raise PricingError(PricingErrorCode.BAD_QUOTE, "A quote is valid for 1 to 365 days.", field="valid_days")
    if not discount_percent.is_finite() or not Decimal(0) <= discount_percent < Decimal(100):
        raise PricingError(
            PricingErrorCode.BAD_QUOTE, "A discount is 0 to less than 100 percent.", field="discount_percent"
        )
    if discount_percent.quantize(CENT) != discount_percent:
        # refused rather than rounded: 99.995% would round to 100% off, and 10.004% into a 10% authority
        raise PricingError(
            PricingErrorCode.BAD_QUOTE,
            f"A discount has at most two decimals, not {discount_percent}%.",
            field="discount_percent",
        )
    now = clock.now()
    priced = _priced_lines(lines, code, now)
    subtotal = sum((line.line_total for line in priced), Decimal(0))
    if subtotal > MAX_AMOUNT:
        raise PricingError(
            PricingErrorCode.BAD_QUOTE,
            f"The lines add up to {subtotal} {code}, more than a quote can hold ({MAX_AMOUNT:,}).",
            field="lines",
        )
    discount = discount_percent.quantize(CENT)
    total = (subtotal * (Decimal(100) - discount) / Decimal(100)).quantize(CENT, rounding=ROUND_HALF_EVEN)
    with transaction.atomic():
        locked = (
            Case.objects.select_for_update(of=("self",))
            .select_related("requester__organization", "asset")
            .get(pk=case.pk)
        )
        if locked.status == CaseStatus.CLOSED:
            raise PricingError(PricingErrorCode.BAD_QUOTE, f"{locked.number} is closed.", status=409)
        facts = ActionFacts(kind=ActionKind.QUOTE, amount=total, currency=code, percent=discount, lines=len(priced))
        overrides = enforce_rules(actor=actor, case=locked, action=facts, override_reason=override_reason)
        concession: Concession | None = None
        state = QuoteState.ISSUED
        if discount > 0:
            given = give_concession(
                actor=actor,
                case=locked,
                kind=ConcessionKind.DISCOUNT,
                percent=discount,
                note=f"{discount.normalize():f}% off a quote of {subtotal} {code}",
                override_reason=override_reason,
                ask_approval=ask_approval,
                approval_reason=note,
            )
            concession = given.concession
            overrides += given.overrides
            if concession.state == ConcessionState.PENDING:
                state = QuoteState.AWAITING_APPROVAL
        quote = Quote.objects.create(
            case=locked,
            contact_id=locked.requester_id,
            created_by=actor,
            state=state,
            currency=code,
            subtotal=subtotal,
            discount_percent=discount,
            total=total,
            valid_days=valid_days,
            concession=concession,
            note=" ".join(note.split())[:500],
            created_at=now,
        )
        for line in priced:
            line.quote = quote
        QuoteLine.objects.bulk_create(priced)
        record_event(
            kind="quote.created",
            subjects=[(S.CASE, locked.pk), (S.CONTACT, locked.requester_id)],
            actor=actor,
            case_id=locked.pk,
            summary=f"Quote of {total} {code} ({len(priced)} line(s)"
            + (f", {discount.normalize():f}% off" if discount else "")
            + ")"
            + (": waiting for the discount's approval" if state != QuoteState.ISSUED else ""),
            data={"quote": quote.pk, "total": total, "currency": code},
        )
        if state == QuoteState.ISSUED:
            _issue(quote, actor=actor, now=now)
    return QuoteResult(quote=quote, overrides=overrides)


def _issue(quote: Quote, *, actor: User | None, now: dt.datetime) -> None:
    quote.state, quote.issued_at = QuoteState.ISSUED, now
    quote.valid_until = now + dt.timedelta(days=quote.valid_days)
    quote.save(update_fields=["state", "issued_at", "valid_until"])
    make_promise(
        actor=None,
        case=quote.case,
        kind=PromiseKind.QUOTE_VALIDITY,
        description=f"the quoted price of {quote.total} {quote.currency}",
        due_at=quote.valid_until,
        owner=Owner(user=quote.created_by),
        source=f"quote:{quote.pk}",
    )
    record_event(
        kind="quote.issued",
        subjects=[(S.CASE, quote.case_id), (S.CONTACT, quote.contact_id)],
        actor=actor,
        case_id=quote.case_id,
        summary=f"Quote {quote.pk} issued: {quote.total} {quote.currency}, valid until {quote.valid_until:%Y-%m-%d}",
        data={"quote": quote.pk},
    )


def on_discount_decided(*, concession_id: int, approved: bool) -> Quote | None:
    """The approval a quote waited on was decided: issue the quote, or mark it refused (in the deciding transaction)."""
    now = clock.now()
    with transaction.atomic():
        quote = (
            Quote.objects.select_for_update(of=("self",))
            .select_related("case", "created_by")
            .filter(concession_id=concession_id)
            .first()
        )
        if quote is None or quote.state != QuoteState.AWAITING_APPROVAL:
            return quote
        if approved:
            _issue(quote, actor=None, now=now)
        else:
            quote.state, quote.settled_at = QuoteState.REFUSED, now
            quote.save(update_fields=["state", "settled_at"])
            record_event(
                kind="quote.refused",
                subjects=[(S.CASE, quote.case_id)],
                case_id=quote.case_id,
                summary=f"Quote {quote.pk} not issued: its discount was not approved",
                data={"quote": quote.pk},
            )
    return quote


def on_discount_withdrawn(*, concession_id: int) -> Quote | None:
    """The approval a quote waited on was taken back: the quote is withdrawn (it was never issued, so no price
    was promised); it waited for an answer that can no longer come. Runs in the withdrawing transaction."""
    now = clock.now()
    with transaction.atomic():
        quote = Quote.objects.select_for_update(of=("self",)).filter(concession_id=concession_id).first()
        if quote is None or quote.state != QuoteState.AWAITING_APPROVAL:
            return quote
        quote.state, quote.settled_at = QuoteState.WITHDRAWN, now
        quote.save(update_fields=["state", "settled_at"])
        record_event(
            kind="quote.withdrawn",
            subjects=[(S.CASE, quote.case_id), (S.CONTACT, quote.contact_id)],
            case_id=quote.case_id,
            summary=f"Quote {quote.pk} not issued: the request to approve its discount was withdrawn",
            data={"quote": quote.pk},
        )
    return quote


def _settle(*, actor: User, quote: Quote, state: QuoteState, reason: str = "") -> Quote:
    require_staff(actor)
    now = clock.now()
    with transaction.atomic():
        if quote.concession_id is not None and state != QuoteState.ACCEPTED:
            lock_concession_request(concession_id=quote.concession_id)  # before the quote, as decide_approval does
        quote = Quote.objects.select_for_update(of=("self",)).select_related("case").get(pk=quote.pk)
        if quote.state not in OPEN_QUOTE_STATES:
            raise PricingError(
                PricingErrorCode.QUOTE_NOT_OPEN, f"This quote is {quote.get_state_display().lower()}.", status=409
            )
        if state == QuoteState.ACCEPTED:
            if quote.state != QuoteState.ISSUED:
                raise PricingError(PricingErrorCode.QUOTE_NOT_OPEN, "Only an issued quote can be accepted.", status=409)
            if quote.valid_until is not None and now > quote.valid_until:
                raise PricingError(
                    PricingErrorCode.QUOTE_EXPIRED, "This quote has expired; make a new one.", status=409
                )
        quote.state, quote.settled_at = state, now
        quote.save(update_fields=["state", "settled_at"])
        source = f"quote:{quote.pk}"
        if state == QuoteState.ACCEPTED:
            keep_promises(case_id=quote.case_id, event=QUOTE_ACCEPTED, at=now, actor=actor, source=source)
        elif (promise := promise_made_by(source)) is not None and promise.is_live:
            if state == QuoteState.WITHDRAWN:
                # we take back a price we promised to hold: that is a broken promise, and the customer is told
                break_promise(actor=actor, promise=promise, reason=reason or "quote withdrawn")
            else:
                release_promise(actor=actor, promise=promise, reason=reason or "the customer declined the quote")
        if quote.concession_id is not None and state != QuoteState.ACCEPTED:
            # the discount's approval is moot: withdrawn with its request, so that nobody approves a discount on a
            # quote that is gone and the answer promised to the customer is released, not broken
            withdraw_concession_request(
                actor=actor, concession_id=quote.concession_id, reason=f"quote {quote.pk} {state}: {reason or '-'}"
            )
        verb = {
            QuoteState.ACCEPTED: "accepted",
            QuoteState.DECLINED: "declined by the customer",
            QuoteState.WITHDRAWN: "withdrawn",
        }[state]
        record_event(
            kind=f"quote.{state}",
            subjects=[(S.CASE, quote.case_id), (S.CONTACT, quote.contact_id)],
            actor=actor,
            case_id=quote.case_id,
            summary=f"Quote {quote.pk} {verb}" + (f": {reason}" if reason else ""),
            data={"quote": quote.pk},
        )
    return quote


def accept_quote(*, actor: User, quote: Quote) -> Quote:
    """The customer accepted (recorded by staff): the price promise is kept."""
    return _settle(actor=actor, quote=quote, state=QuoteState.ACCEPTED)


def decline_quote(*, actor: User, quote: Quote, reason: str = "") -> Quote:
    """The customer said no: the price promise is released (nobody needs it kept)."""
    return _settle(actor=actor, quote=quote, state=QuoteState.DECLINED, reason=reason)


def withdraw_quote(*, actor: User, quote: Quote, reason: str) -> Quote:
    """We take an offer back before it expires: if it was issued, its price promise is broken."""
    if not reason.strip():
        raise Invalid("Say why the quote is withdrawn.", field="reason")
    return _settle(actor=actor, quote=quote, state=QuoteState.WITHDRAWN, reason=" ".join(reason.split()))
