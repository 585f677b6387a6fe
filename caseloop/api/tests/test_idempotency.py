"""`Idempotency-Key`: a retry returns the first answer; a reused key with another body is refused."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from caseloop.api.idempotency import expire_keys
from caseloop.api.models import IdempotencyKey
from caseloop.cases.models import Case, Message
from caseloop.core import clock
from caseloop.testing.api import ApiClient
from caseloop.testing.factories import make_agent, make_contact

pytestmark = pytest.mark.django_db


def _body(contact_id: int, subject: str = "Broken spring") -> dict[str, Any]:
    return {"subject": subject, "requester": {"id": contact_id}, "message": {"body_text": "It snapped"}}


def test_a_retry_with_the_same_key_and_body_replays_the_first_answer(agent):
    contact = make_contact()
    api = ApiClient(agent)
    first = api.post("/cases", _body(contact.pk), headers={"Idempotency-Key": "k-1"})
    retry = api.post("/cases", _body(contact.pk), headers={"Idempotency-Key": "k-1"})
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Location"] == first["Location"] and retry["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Case.objects.count() == 1 and Message.objects.count() == 1
    stored = IdempotencyKey.objects.get()
    assert (stored.user_id, stored.key, stored.status) == (agent.pk, "k-1", 201)


def test_the_same_key_with_another_body_is_refused_and_writes_nothing(agent):
    contact = make_contact()
    api = ApiClient(agent)
    api.post("/cases", _body(contact.pk), headers={"Idempotency-Key": "k-2"})
    other = api.post("/cases", _body(contact.pk, subject="Something else"), headers={"Idempotency-Key": "k-2"})
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    assert other["Content-Type"] == "application/problem+json"
    assert list(Case.objects.values_list("subject", flat=True)) == ["Broken spring"]


def test_keys_belong_to_one_user(agent):
    contact = make_contact()
    colleague = make_agent()
    ApiClient(agent).post("/cases", _body(contact.pk), headers={"Idempotency-Key": "shared"})
    theirs = ApiClient(colleague).post("/cases", _body(contact.pk), headers={"Idempotency-Key": "shared"})
    assert theirs.status_code == 201 and "Idempotent-Replayed" not in theirs
    assert Case.objects.count() == 2


def test_a_failed_request_is_not_stored_so_a_corrected_retry_runs(agent):
    contact = make_contact()
    api = ApiClient(agent)
    failed = api.post("/cases", {**_body(contact.pk), "team": 424242}, headers={"Idempotency-Key": "k-3"})
    assert failed.status_code == 404
    assert IdempotencyKey.objects.count() == 0 and Case.objects.count() == 0
    fixed = api.post("/cases", _body(contact.pk), headers={"Idempotency-Key": "k-3"})
    assert fixed.status_code == 201 and Case.objects.count() == 1


def test_the_key_is_written_in_the_transaction_of_the_create(agent, monkeypatch):
    """If storing the answer fails, the case is rolled back with it: never one without the other."""
    contact = make_contact()
    original = IdempotencyKey.objects.create

    def failing_create(**kwargs):
        original(**kwargs)
        raise RuntimeError("disk full")

    monkeypatch.setattr(IdempotencyKey.objects, "create", failing_create)
    response = ApiClient(agent).post("/cases", _body(contact.pk), headers={"Idempotency-Key": "k-4"})
    assert (response.status_code, response.json()["code"]) == (500, "internal_error")
    assert "disk full" not in response.content.decode()
    assert Case.objects.count() == 0 and IdempotencyKey.objects.count() == 0


def test_a_key_expires_after_a_day(agent):
    contact = make_contact()
    api = ApiClient(agent)
    start = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
    with clock.frozen_at(start):
        api.post("/cases", _body(contact.pk), headers={"Idempotency-Key": "k-5"})
    with clock.frozen_at(start + dt.timedelta(hours=23)):
        assert api.post("/cases", _body(contact.pk), headers={"Idempotency-Key": "k-5"})["Idempotent-Replayed"]
        assert expire_keys() == 0
    with clock.frozen_at(start + dt.timedelta(hours=25)):
        again = api.post("/cases", _body(contact.pk), headers={"Idempotency-Key": "k-5"})
    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert Case.objects.count() == 2 and IdempotencyKey.objects.count() == 1
    with clock.frozen_at(start + dt.timedelta(hours=50)):
        assert expire_keys() == 1
    assert IdempotencyKey.objects.count() == 0


@pytest.mark.parametrize("key", ["", " ", "x" * 256, "bad\x01key"])
def test_a_malformed_key_is_a_400(agent, key):
    contact = make_contact()
    response = ApiClient(agent).post("/cases", _body(contact.pk), headers={"Idempotency-Key": key})
    assert (response.status_code, response.json()["code"]) == (400, "bad_idempotency_key")
    assert Case.objects.count() == 0


def test_other_posts_are_idempotent_too(agent):
    api = ApiClient(agent)
    first = api.post("/organizations", {"name": "Acme"}, headers={"Idempotency-Key": "org-1"})
    retry = api.post("/organizations", {"name": "Acme"}, headers={"Idempotency-Key": "org-1"})
    assert first.status_code == retry.status_code == 201 and retry.json()["id"] == first.json()["id"]


def test_reads_ignore_the_header(agent):
    api = ApiClient(agent)
    assert api.get("/me", headers={"Idempotency-Key": "k"}).status_code == 200
    assert IdempotencyKey.objects.count() == 0


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_first_tries_make_one_case():
    """Both pass the lookup; the unique (user, key) constraint lets one commit and the other replays it."""
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers at BEGIN: the race cannot happen there")
    agent = make_agent()
    contact = make_contact()
    clients = [ApiClient(agent), ApiClient(agent)]
    barrier = threading.Barrier(2)
    answers: list[Any] = [None, None]

    def attempt(n: int) -> None:
        try:
            barrier.wait()
            answers[n] = clients[n].post("/cases", _body(contact.pk), headers={"Idempotency-Key": "race"})
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(a.status_code for a in answers) == [201, 201]
    assert answers[0].json() == answers[1].json()
    assert Case.objects.count() == 1 and IdempotencyKey.objects.count() == 1


def test_a_new_tokens_secret_is_never_stored_and_a_retry_is_told_what_was_made(agent):
    api = ApiClient(agent)
    first = api.post("/tokens", {"name": "ci"}, headers={"Idempotency-Key": "tok-1"})
    assert first.status_code == 201 and first["Cache-Control"] == "no-store"
    secret = first.json()["token"]
    stored = IdempotencyKey.objects.get(key="tok-1")
    assert secret not in stored.body and stored.status == 409
    retry = api.post("/tokens", {"name": "ci"}, headers={"Idempotency-Key": "tok-1"})
    assert retry.status_code == 409 and retry["Content-Type"] == "application/problem+json"
    assert retry["Idempotent-Replayed"] == "true" and secret not in retry.content.decode()
    problem = retry.json()
    assert problem["code"] == "idempotent_answer_not_kept" and f"id {first.json()['id']}" in problem["detail"]
    assert agent.api_tokens.count() == 2  # the fixture's token and the one made once; the retry made none
