"""What each kind of promise is kept by, and what the customer is told when one is broken.

A promise is kept by the first *keeping event* on its case between its window
start (if any) and its due time: the kinds of timeline event listed here. A
kind that is `kept_when_due` is a promise to hold something until a time (a
quoted price): reaching the due time unbroken keeps it. Events are named like
timeline event kinds; `message.sent` is an outbound message or logged call
written by a person (automatic messages keep nothing).
"""

from __future__ import annotations

from dataclasses import dataclass

from caseloop.promises.choices import PromiseKind

MESSAGE_SENT = "message.sent"
CASE_SOLVED = "case.solved"
APPROVAL_DECIDED = "approval.decided"
QUOTE_ACCEPTED = "quote.accepted"
VISIT_ARRIVED = "visit.arrived"
DELIVERY_DELIVERED = "delivery.delivered"
REFUND_PAID = "refund.paid"


@dataclass(frozen=True, slots=True)
class KindSpec:
    kept_by: frozenset[str]
    kept_when_due: bool = False
    # the honest message to the customer when it is broken; {name} {promise} {due} {owner} are filled in
    apology: str = ""


_GENERIC_APOLOGY = (
    "Hello {name},\n\nWe told you we would {promise} by {due}, and we have not. We are sorry. "
    "{owner} now has this at the top of their list and will be in touch as soon as possible; "
    "you do not need to chase us.\n"
)

SPECS: dict[str, KindSpec] = {
    PromiseKind.CALL_BACK: KindSpec(
        kept_by=frozenset({MESSAGE_SENT}),
        apology=(
            "Hello {name},\n\nWe promised to call you back by {due}, and we did not. We are sorry. "
            "{owner} will contact you as soon as possible; you do not need to call us again.\n"
        ),
    ),
    PromiseKind.REPLY: KindSpec(kept_by=frozenset({MESSAGE_SENT}), apology=_GENERIC_APOLOGY),
    PromiseKind.FIRST_RESPONSE: KindSpec(
        kept_by=frozenset({MESSAGE_SENT}),
        apology=(
            "Hello {name},\n\nWe aimed to answer you by {due} and have not yet. We are sorry for the wait. "
            "Your request is with {owner}, and a person will write to you as soon as possible.\n"
        ),
    ),
    PromiseKind.APPROVAL_ANSWER: KindSpec(
        kept_by=frozenset({APPROVAL_DECIDED}),
        apology=(
            "Hello {name},\n\nWe told you we would have an answer on {promise} by {due}, and we do not yet. "
            "We are sorry. {owner} is chasing it and will tell you the answer as soon as it is given.\n"
        ),
    ),
    PromiseKind.QUOTE_VALIDITY: KindSpec(kept_by=frozenset({QUOTE_ACCEPTED}), kept_when_due=True),
    PromiseKind.RESOLUTION: KindSpec(kept_by=frozenset({CASE_SOLVED}), apology=_GENERIC_APOLOGY),
    PromiseKind.VISIT: KindSpec(kept_by=frozenset({VISIT_ARRIVED}), apology=_GENERIC_APOLOGY),
    PromiseKind.DELIVERY: KindSpec(kept_by=frozenset({DELIVERY_DELIVERED}), apology=_GENERIC_APOLOGY),
    PromiseKind.REFUND: KindSpec(kept_by=frozenset({REFUND_PAID}), apology=_GENERIC_APOLOGY),
    # kept by hand ("mark kept") only
    PromiseKind.OTHER: KindSpec(kept_by=frozenset(), apology=_GENERIC_APOLOGY),
}


def kinds_kept_by(event: str) -> list[str]:
    return sorted(kind for kind, spec in SPECS.items() if event in spec.kept_by)


def kinds_kept_when_due() -> list[str]:
    return sorted(kind for kind, spec in SPECS.items() if spec.kept_when_due)


def kinds_broken_when_due() -> list[str]:
    return sorted(kind for kind, spec in SPECS.items() if not spec.kept_when_due)


def kinds_with_apology() -> list[str]:
    return sorted(kind for kind, spec in SPECS.items() if spec.apology)


# What the customer sees of each kind in the portal, in words addressed to them. "other" is free text a rep may
# have written for the team rather than the customer, so it stays inside (the portal never shows it).
CUSTOMER_WORDING: dict[str, str] = {
    PromiseKind.CALL_BACK: "We call you back",
    PromiseKind.REPLY: "We write back to you",
    PromiseKind.FIRST_RESPONSE: "A first answer from a person",
    PromiseKind.APPROVAL_ANSWER: "An answer on your request",
    PromiseKind.QUOTE_VALIDITY: "Your quoted price holds",
    PromiseKind.RESOLUTION: "Your request is resolved",
    PromiseKind.VISIT: "A technician arrives",
    PromiseKind.DELIVERY: "Your delivery arrives",
    PromiseKind.REFUND: "Your refund is paid",
}

# Automatic promises the customer was never told of, by the start of their source: a personal thank-you for
# praise is a surprise, not an announced commitment. They are kept and measured like any other, but not shown.
UNTOLD_SOURCES = ("feedback.thank_you:",)
