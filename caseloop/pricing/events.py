"""How quotes follow the policies domain: a quote waiting on its discount's approval is issued or refused, or
withdrawn when the request is taken back. Inside the deciding (or withdrawing) transaction: if the quote cannot
follow, the decision is not taken either, rather than leaving the quote awaiting an answer already given."""

from __future__ import annotations

from caseloop.core.events import subscribe_in_transaction


@subscribe_in_transaction("approval.decided")
def _approval_decided(*, concession_id: int, approved: bool, **_: object) -> None:
    from caseloop.pricing.actions import on_discount_decided

    on_discount_decided(concession_id=concession_id, approved=approved)


@subscribe_in_transaction("approval.withdrawn")
def _approval_withdrawn(*, concession_id: int, **_: object) -> None:
    from caseloop.pricing.actions import on_discount_withdrawn

    on_discount_withdrawn(concession_id=concession_id)
