"""Ids as one parameter select exactly the rows of those ids, on both databases."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from caseloop.cases.models import Case
from caseloop.core.idlists import id_list
from caseloop.testing.factories import make_case

pytestmark = pytest.mark.django_db


def test_the_rows_of_the_listed_ids_and_no_others() -> None:
    cases = [make_case(subject=f"Case {n}") for n in range(5)]
    wanted = [cases[0].pk, cases[3].pk, cases[3].pk, 10**12]  # a repeat and an id nobody has
    with CaptureQueriesContext(connection) as captured:
        found = sorted(Case.objects.filter(pk__in=id_list(wanted)).values_list("id", flat=True))
    assert found == sorted({cases[0].pk, cases[3].pk})
    sql = captured.captured_queries[0]["sql"]
    assert ("json_each" in sql) if connection.vendor == "sqlite" else ("unnest" in sql)  # one value, not one per id
    assert list(Case.objects.filter(pk__in=id_list([]))) == []
    assert Case.objects.exclude(pk__in=id_list([cases[1].pk])).count() == 4


def test_many_ids_in_one_parameter() -> None:
    case = make_case()
    ids = [*range(10**9, 10**9 + 50_000), case.pk]
    assert list(Case.objects.filter(pk__in=id_list(ids)).values_list("id", flat=True)) == [case.pk]


def test_only_integers_pass() -> None:
    with pytest.raises(ValueError, match="invalid literal"):
        id_list(["1) OR (1=1"])  # type: ignore[list-item]
