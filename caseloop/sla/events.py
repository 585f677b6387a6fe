"""How the SLA clocks follow the cases domain (after commit, via core.events)."""

from __future__ import annotations

from caseloop.core.events import subscribe


@subscribe("case.opened")
def _case_opened(*, case_id: int, **_: object) -> None:
    from caseloop.sla.actions import start_case_sla

    start_case_sla(case_id=case_id)


@subscribe("case.message_added")
def _message_added(*, case_id: int, message_id: int, direction: str | None = None, **_: object) -> None:
    if direction == "note":
        return
    from caseloop.sla.actions import on_message

    on_message(case_id=case_id, message_id=message_id)


@subscribe("case.status_changed")
def _status_changed(*, case_id: int, before: str, after: str, **_: object) -> None:
    from caseloop.sla.actions import on_status

    on_status(case_id=case_id, before=before, after=after)
