"""Prepared reactions: worked out before the publishing action's transaction, written inside it."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
from django.db import connection, transaction

from caseloop.core import events

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_preparer_runs_before_the_transaction_and_its_writer_inside(monkeypatch: Any) -> None:
    monkeypatch.setattr(events, "_preparers", defaultdict(list))
    seen: list[tuple[str, bool, Any]] = []

    @events.subscribe_prepared("thing.opened")
    def _prepare(*, thing: str, **_: Any) -> events.Listener | None:
        seen.append(("prepare", connection.in_atomic_block, thing))
        if thing == "nothing to write":
            return None

        def write(*, thing_id: int, **_: Any) -> None:
            seen.append(("write", connection.in_atomic_block, thing_id))

        return write

    prepared = events.prepare("thing.opened", thing="door")
    assert seen == [("prepare", False, "door")]
    with pytest.raises(RuntimeError, match="none is open"):
        prepared.publish(thing_id=7)  # a writer only ever runs inside the action's transaction
    with transaction.atomic():
        prepared.publish(thing_id=7)
    assert seen[-1] == ("write", True, 7)
    assert events.prepare("thing.opened", thing="nothing to write").writers == ()
    assert events.prepare("unheard.of").writers == ()
