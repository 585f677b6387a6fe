"""How the SLA clocks follow the cases domain: inside the case's own transaction.

A case and its clocks are written together (the clocks worked out before the
transaction starts, written inside it) (one transaction, one commit per
create), so a case is never seen without the clocks its policy gives it.
"""

from __future__ import annotations

from caseloop.cases.choices import Direction
from caseloop.cases.models import Case, Message
from caseloop.core.events import Listener, subscribe_in_transaction, subscribe_prepared


@subscribe_prepared("case.opened")
def _case_opening(*, case: Case, **_: object) -> Listener | None:
    # the policy and due times are worked out before the case's transaction; its writer runs inside
    from caseloop.sla.actions import prepare_case_sla

    return prepare_case_sla(case=case)


@subscribe_in_transaction("case.message_added")
def _message_added(*, case: Case, message: Message, **_: object) -> None:
    if message.direction == Direction.NOTE:
        return
    from caseloop.sla.actions import on_message

    on_message(case=case, message=message)


@subscribe_in_transaction("case.status_changed")
def _status_changed(*, case: Case, before: str, after: str, **_: object) -> None:
    from caseloop.sla.actions import on_status

    on_status(case=case, before=before, after=after)
