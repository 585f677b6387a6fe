"""`GET /search`: a query with no words, or too long, is `400 bad_query`, whatever its shape."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from caseloop.testing.api import ApiClient
from caseloop.testing.factories import make_case

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "q",
    [
        "",  # no words at all
        "   ",
        "!!!",
        "a" * 201,  # one past the documented 200 characters
        "spring " * 30,  # 210 characters of real words
        "x" * 100_000,  # absurdly long: refused before any tokenising or SQL
    ],
)
def test_a_search_with_no_words_or_over_200_characters_is_bad_query(agent, q):
    response = ApiClient(agent).get("/search", {"q": q})
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "bad_query"
    assert body["errors"] == [{"field": "q", "code": "bad_query", "message": body["detail"]}]


def test_an_absurdly_long_query_asks_the_database_nothing(agent):
    api = ApiClient(agent)
    api.get("/cases?limit=1")  # the token's once-a-minute last-used write is not the search's
    with CaptureQueriesContext(connection) as queries:
        response = api.get("/search", {"q": "spring* " * 50_000})
    assert (response.status_code, response.json()["code"]) == (400, "bad_query")
    assert not [q["sql"] for q in queries.captured_queries if "cases_" in q["sql"]]


def test_a_search_of_exactly_200_characters_runs(agent):
    case = make_case(subject="Torsion spring")
    q = "spring " + "x" * 193
    assert len(q) == 200
    response = ApiClient(agent).get("/search", {"q": "spring"})
    assert response.status_code == 200 and [h["case_id"] for h in response.json()["items"]][:1] == [case.pk]
    assert ApiClient(agent).get("/search", {"q": q}).status_code == 200


def test_a_search_without_q_is_still_a_missing_field(agent):
    response = ApiClient(agent).get("/search")
    assert (response.status_code, response.json()["code"]) == (422, "validation_error")
    assert response.json()["errors"][0]["field"] == "q"
