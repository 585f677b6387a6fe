"""The search boxes take what the search can: an over-long query is answered in the workspace's layout."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.test import Client

from caseloop.cases.search import MAX_QUERY_LENGTH
from caseloop.testing.factories import make_agent, make_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep(client: Client) -> Client:
    client.force_login(make_agent(username="sam", display_name="Sam Search"))
    return client


def test_both_search_boxes_take_at_most_what_the_search_accepts(rep: Client) -> None:
    inbox = rep.get("/inbox/").content.decode()
    assert re.search(rf'<input id="global-search" [^>]*maxlength="{MAX_QUERY_LENGTH}"', inbox)
    page = rep.get("/search/?q=door").content.decode()
    assert re.search(rf'<input id="search-q" [^>]*maxlength="{MAX_QUERY_LENGTH}"', page)


def test_an_over_long_search_is_refused_in_the_page_with_its_start_kept_to_shorten(rep: Client) -> None:
    make_case(subject="word word word")
    query = "word " * 1000
    response = rep.get("/search/", {"q": query})
    page = response.content.decode()
    assert response.status_code == 400
    assert '<nav class="topnav"' in page and "<title>Search: " in page  # the workspace's layout
    assert (f"A search is at most {MAX_QUERY_LENGTH} characters; this one has 4,999. Shorten it and search "
            "again.") in unescape(page)  # fmt: skip
    kept = re.search(r'<input id="search-q" [^>]*value="([^"]*)"', page)
    assert kept is not None and kept.group(1) == query.strip()[:MAX_QUERY_LENGTH]
    assert "Cases and messages" not in page  # nothing was searched


def test_an_over_long_search_asked_by_htmx_gets_the_message_as_a_fragment(rep: Client) -> None:
    response = rep.get("/search/", {"q": "x" * (MAX_QUERY_LENGTH + 1)}, headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert response.content.decode().strip().startswith('<p class="alert alert-error" role="alert">A search is at')


def test_a_search_of_exactly_the_limit_is_searched(rep: Client) -> None:
    response = rep.get("/search/", {"q": "d" * MAX_QUERY_LENGTH})
    assert response.status_code == 200 and "Cases and messages" in response.content.decode()


def test_an_over_long_tag_filter_names_the_real_limit(rep: Client) -> None:
    response = rep.get("/inbox/", {"tag": "a" * 300})
    text = unescape(response.content.decode())
    assert response.status_code == 422 and "tag is at most 50 characters." in text and "one word" not in text
