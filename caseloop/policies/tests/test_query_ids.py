"""An id in a query parameter beyond 64 bits is a validation error naming the parameter, not a database refusal."""

from __future__ import annotations

import pytest

from caseloop.testing.api import ApiClient

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("rule", ["99999999999999999999", "9223372036854775808", "0", "-1"])
def test_overrides_of_an_impossible_rule_are_a_validation_error_naming_rule(manager, rule):
    response = ApiClient(manager).get("/overrides", {"rule": rule})
    assert (response.status_code, response.json()["code"]) == (422, "validation_error")
    assert [e["field"] for e in response.json()["errors"]] == ["rule"]


def test_overrides_of_the_largest_id_are_an_empty_list(manager):
    response = ApiClient(manager).get("/overrides", {"rule": str(2**63 - 1)})
    assert (response.status_code, response.json()) == (200, [])
