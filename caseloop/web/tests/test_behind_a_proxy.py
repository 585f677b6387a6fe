"""Sign-in throttling behind a reverse proxy: each client its own per-address budget (ADR 0076, fix 8)."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from caseloop.identity.models import LoginFailure
from caseloop.web.tests.scenario import PASSWORD, Scenario

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.5"


def sign_in(client: Client, password: str, *, peer: str, forwarded: str) -> int:
    response = client.post("/login/", {"identifier": "dana", "password": password}, REMOTE_ADDR=peer,
                           headers={"X-Forwarded-For": forwarded})  # fmt: skip
    return response.status_code


@override_settings(CASELOOP_TRUSTED_PROXIES="10.0.0.0/8", CASELOOP_LOGIN_MAX_FAILURES=100,
                   CASELOOP_LOGIN_MAX_FAILURES_PER_IP=2)  # fmt: skip
def test_one_clients_failures_behind_the_proxy_lock_out_that_client_only(s: Scenario) -> None:
    # given one client that guessed twice through the proxy
    guesser = Client()
    assert [sign_in(guesser, "guess", peer=PROXY, forwarded="203.0.113.7") for _ in range(2)] == [400, 400]
    # then that client is locked out, even with the right password
    assert sign_in(guesser, PASSWORD, peer=PROXY, forwarded="203.0.113.7") == 429
    assert list(LoginFailure.objects.values_list("ip_address", flat=True)) == ["203.0.113.7", "203.0.113.7"]
    # and another client behind the same proxy signs in
    colleague = Client()
    assert sign_in(colleague, PASSWORD, peer=PROXY, forwarded="198.51.100.20") == 302
    assert "_auth_user_id" in colleague.session


@override_settings(CASELOOP_TRUSTED_PROXIES="10.0.0.0/8", CASELOOP_LOGIN_MAX_FAILURES=100,
                   CASELOOP_LOGIN_MAX_FAILURES_PER_IP=2)  # fmt: skip
def test_a_client_reaching_the_server_directly_cannot_name_another_address(s: Scenario) -> None:
    # given a client that is not a proxy sending a new X-Forwarded-For with every guess
    guesser = Client()
    assert sign_in(guesser, "guess", peer="198.51.100.66", forwarded="203.0.113.1") == 400
    assert sign_in(guesser, "guess", peer="198.51.100.66", forwarded="203.0.113.2") == 400
    # then its failures count against its own address, which is locked
    assert sign_in(guesser, PASSWORD, peer="198.51.100.66", forwarded="203.0.113.3") == 429
    assert set(LoginFailure.objects.values_list("ip_address", flat=True)) == {"198.51.100.66"}
