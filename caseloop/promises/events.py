"""How the promise ledger reacts to the cases domain (after commit, via core.events).

A reply or a logged call written by a person keeps the call-back, reply and
first-response promises of its case that are due at or after it; a solved
case keeps "fixed by" promises. Automatic messages (acknowledgements, the
apology for a broken promise) keep nothing: they are not someone doing what
was promised. Other domains keep their own kinds by calling
`actions.keep_promises` in their transactions (an approval decided).
"""

from __future__ import annotations

from caseloop.cases.choices import CaseStatus, Direction
from caseloop.cases.models import Message
from caseloop.core import clock
from caseloop.core.events import subscribe
from caseloop.promises.choices import LIVE_STATES
from caseloop.promises.kinds import CASE_SOLVED, MESSAGE_SENT, kinds_kept_by
from caseloop.promises.models import Promise


@subscribe("case.message_added")
def _message_added(*, case_id: int, message_id: int, direction: str | None = None, **_: object) -> None:
    if direction is not None and direction != Direction.OUTBOUND:
        return
    # most cases owe nothing: one indexed read, and only then the message
    if not Promise.objects.filter(
        case_id=case_id, state__in=LIVE_STATES, kind__in=kinds_kept_by(MESSAGE_SENT)
    ).exists():
        return
    row = Message.objects.filter(pk=message_id).values_list("direction", "author_user_id", "created_at").first()
    if row is None or row[0] != Direction.OUTBOUND or row[1] is None:
        return
    from caseloop.identity.models import User
    from caseloop.promises.actions import keep_promises

    keep_promises(case_id=case_id, event=MESSAGE_SENT, at=row[2], actor=User.objects.filter(pk=row[1]).first())


@subscribe("case.status_changed")
def _status_changed(*, case_id: int, after: str, **_: object) -> None:
    if after != CaseStatus.SOLVED:
        return
    from caseloop.promises.actions import keep_promises

    keep_promises(case_id=case_id, event=CASE_SOLVED, at=clock.now())
