"""An id in a query parameter beyond 64 bits is a validation error naming the parameter, not a database refusal."""

from __future__ import annotations

import pytest

from caseloop.testing.api import ApiClient

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("team", ["99999999999999999999", "9223372036854775808", "0", "-1"])
def test_users_filtered_by_an_impossible_team_is_a_validation_error_naming_team(manager, team):
    response = ApiClient(manager).get("/users", {"team": team})
    assert (response.status_code, response.json()["code"]) == (422, "validation_error")
    assert [e["field"] for e in response.json()["errors"]] == ["team"]


def test_users_filtered_by_the_largest_id_is_an_empty_list(manager):
    response = ApiClient(manager).get("/users", {"team": str(2**63 - 1)})
    assert (response.status_code, response.json()["items"]) == (200, [])
