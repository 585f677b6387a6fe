"""Cached definitions follow every change of their tables, from any writer, and never come back stale."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from caseloop.cases.models import CustomFieldDefinition
from caseloop.core import stamps
from caseloop.core.fastdb import all_rows

pytestmark = pytest.mark.django_db(transaction=False)
TABLE = "cases_customfielddefinition"
loads: list[int] = []


def _labels() -> tuple[str, ...]:
    loads.append(1)
    return tuple(d.label for d in all_rows(CustomFieldDefinition))


def labels() -> tuple[str, ...]:
    return stamps.cached((TABLE,), _labels)


def _define(key: str, label: str) -> CustomFieldDefinition:
    return CustomFieldDefinition.objects.create(key=key, label=label, field_type="text")


def test_every_watched_table_has_its_triggers_after_migrate():
    assert {"sla_slapolicy", "sla_businesscalendar", TABLE, "identity_apitoken", "identity_user"} <= stamps.watched()
    assert stamps.missing_triggers(connection) == []


def test_the_value_is_built_once_and_rebuilt_after_insert_update_and_delete():
    definition = _define("colour", "Colour")
    loads.clear()
    assert labels() == ("Colour",)
    assert labels() == ("Colour",)
    assert len(loads) == 1  # the second read was the cached value
    definition.label = "Colour of the door"
    definition.save()
    assert labels() == ("Colour of the door",)
    CustomFieldDefinition.objects.filter(pk=definition.pk).update(label="Shade")  # no save(), no signal
    assert labels() == ("Shade",)
    with connection.cursor() as cursor:  # not even through the ORM
        cursor.execute(f"DELETE FROM {TABLE}")  # noqa: S608
    assert labels() == ()
    assert len(loads) == 4


def test_a_rolled_back_edit_is_forgotten_and_its_stamp_never_reused():
    _define("colour", "Colour")
    assert labels() == ("Colour",)
    seen_inside: list[tuple[str, ...]] = []

    def edit_then_fail() -> None:
        with transaction.atomic():
            _define("size", "Size")
            seen_inside.append(labels())  # the editing transaction sees its own edit
            raise RuntimeError("refused")

    with pytest.raises(RuntimeError):
        edit_then_fail()
    assert seen_inside == [("Colour", "Size")]
    assert labels() == ("Colour",)
    _define("weight", "Weight")  # a new edit, after the rolled-back one: never mistaken for it
    assert labels() == ("Colour", "Weight")


def _drop_triggers() -> None:
    """What a table rebuild (or an upgrade before its migrate) leaves: the table's stamp triggers gone."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for name in ("i", "u", "d"):
                cursor.execute(f"DROP TRIGGER core_stamp_{TABLE}_{name}")
        else:
            cursor.execute(f"DROP TRIGGER core_table_stamp ON {TABLE}")


def test_triggers_dropped_by_a_table_rebuild_are_put_back_with_fresh_stamps():
    before = stamps.current_stamps((TABLE,))
    _drop_triggers()
    assert stamps.missing_triggers(connection) == [TABLE]
    stamps.ensure_stamps(connection)
    assert stamps.missing_triggers(connection) == []
    assert stamps.current_stamps((TABLE,)) != before  # rows changed while unwatched are read afresh


def test_a_table_not_stamped_yet_is_read_afresh_every_time_never_kept():
    # given a table newly watched by an upgrade whose `migrate` has not run: no triggers, no stamp row
    _define("colour", "Colour")
    _drop_triggers()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {stamps.STAMP_TABLE} WHERE table_name = %s", [TABLE])  # noqa: S608
    assert labels() == ("Colour",)
    # when another process edits it (nothing changes a stamp)
    CustomFieldDefinition.objects.filter(key="colour").update(label="Shade")
    # then this process reads the edit: with no stamp to check, nothing was kept
    assert labels() == ("Shade",)
    stamps.ensure_stamps(connection)  # `migrate` at last: the triggers, and caching again


def test_an_unwatched_table_is_refused():
    with pytest.raises(AssertionError, match="has no stamp"):
        stamps.cached(("cases_case",), _labels)
