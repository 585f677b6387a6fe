"""The benchmark's in-process commands, on demo data: what they pick exists, and what they count is right."""

from __future__ import annotations

import re

import pytest
from django.db import connection

from bench import inproc
from caseloop.cases.models import Case, Message
from caseloop.customers.models import ContactIdentity
from caseloop.demo.loader import load_demo


@pytest.mark.django_db
def test_picks_name_real_cases_a_busy_team_known_addresses_and_words_of_the_index() -> None:
    load_demo(cases=30, progress=False, parallel=False)
    picked = inproc.picks()

    assert picked["cases"]
    for item in picked["cases"]:
        case = Case.objects.get(pk=item["case"])
        assert case.requester_id == item["contact"]
        assert Message.objects.filter(case=case).count() >= 4 == min(4, item["messages"])
    assert Case.objects.open().filter(team_id=picked["team"]).count() == picked["open_cases"] > 0
    assert picked["emails"] and set(picked["emails"]) <= set(ContactIdentity.objects.values_list("value", flat=True))

    def holding(word: str) -> int:  # messages with the word as people write it
        return sum(1 for body in Message.objects.values_list("body_text", flat=True)
                   if re.search(rf"\b{re.escape(word)}\b", body, re.IGNORECASE))  # fmt: skip

    assert 2 <= picked["rare_docs"] <= 5
    assert holding(picked["rare_word"]) >= 1  # a word of the text, not only a stem of the index
    assert picked["common_docs"] > picked["rare_docs"]
    assert holding(picked["common_word"]) >= 1
    assert picked["common_word"] not in inproc.STOPWORDS


@pytest.mark.django_db(transaction=True)
def test_the_transaction_check_sees_one_commit_and_the_writes_of_one_create() -> None:
    load_demo(cases=5, progress=False, parallel=False)
    token = inproc.token()["token"]
    checked = inproc.txcheck(token)

    assert checked["status"] == 201
    assert checked["commits"] == 1
    assert checked["begins"] == (1 if connection.vendor == "sqlite" else 0)  # psycopg begins without a statement
    # the new customer, the case, its first message, their timeline and audit rows, the SLA clock
    assert checked["writes"] >= 7
    assert checked["queries"] >= checked["writes"]
    assert Case.objects.filter(subject="Benchmark: transaction check").count() == 1
