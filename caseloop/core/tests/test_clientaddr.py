"""The client's address behind trusted proxies (core.clientaddr): X-Forwarded-For is believed only as far as
proxies the deployment names, and nothing a client writes in it is ever taken for an address it is not."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.test import RequestFactory, override_settings

from caseloop.core.clientaddr import MAX_HOPS, client_address, trusted_proxies

PROXIES = "10.0.0.0/8, 192.0.2.10, fd00::/8"
CASELOOP = Path(__file__).resolve().parents[2]


def request(peer: str | None, forwarded: str | None = None) -> HttpRequest:
    made = RequestFactory().get("/", headers={"X-Forwarded-For": forwarded} if forwarded is not None else {})
    if peer is None:
        del made.META["REMOTE_ADDR"]
    else:
        made.META["REMOTE_ADDR"] = peer
    return made


# --- the setting ---------------------------------------------------------------------------------------
def test_the_setting_takes_addresses_and_networks_of_both_families() -> None:
    assert [str(n) for n in trusted_proxies(" 10.0.0.0/8,192.0.2.10 , fd00::/8,,2001:db8::1 ")] == [
        "10.0.0.0/8", "192.0.2.10/32", "fd00::/8", "2001:db8::1/128"]  # fmt: skip
    assert trusted_proxies("") == trusted_proxies(" , ") == ()
    assert [str(n) for n in trusted_proxies(["10.1.0.0/16"])] == ["10.1.0.0/16"]


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ("10.0.0.0/8, proxy.internal", "'proxy.internal'"),
        ("10.0.0.300", "'10.0.0.300'"),
        ("10.0.0.1/8", "'10.0.0.1/8'"),  # host bits set: 10.0.0.0/8 or 10.0.0.1, not a guess between them
        ("10.0.0.1:8080", "'10.0.0.1:8080'"),
        ("[fd00::1]", "'[fd00::1]'"),
        ("0.0.0.0/0", "trusts every address"),
        ("::/0", "trusts every address"),
    ],
)
def test_a_bad_setting_is_a_configuration_error_naming_the_entry(value: str, named: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=re.escape(named)) as refused:
        trusted_proxies(value)
    assert str(refused.value).startswith("CASELOOP_TRUSTED_PROXIES: ")


# --- who the client is ---------------------------------------------------------------------------------
def test_with_no_trusted_proxies_the_header_is_ignored() -> None:
    assert client_address(request("203.0.113.7", "198.51.100.1")) == "203.0.113.7"


@override_settings(CASELOOP_TRUSTED_PROXIES=PROXIES)
def test_a_peer_that_is_not_a_trusted_proxy_is_the_client_whatever_it_sends() -> None:
    assert client_address(request("203.0.113.7", "198.51.100.1")) == "203.0.113.7"
    assert client_address(request("203.0.113.7", "10.0.0.9")) == "203.0.113.7"


@override_settings(CASELOOP_TRUSTED_PROXIES=PROXIES)
@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("10.0.0.1", "203.0.113.7", "203.0.113.7"),
        ("192.0.2.10", "203.0.113.7", "203.0.113.7"),
        # the client wrote the leftmost entries itself: the walk stops at the first untrusted one from the right
        ("10.0.0.1", "1.1.1.1, 203.0.113.7, 10.0.0.2", "203.0.113.7"),
        ("10.0.0.1", "10.0.0.3,10.0.0.2", "10.0.0.3"),  # all proxies: the leftmost
        ("10.0.0.1", None, "10.0.0.1"),  # a proxy's own request (a health check)
        ("fd00::1", "2001:DB8:0::7", "2001:db8::7"),  # written as the database stores it
        ("fd00::1", "203.0.113.7, fd00::2", "203.0.113.7"),
        ("::ffff:10.0.0.1", "::ffff:203.0.113.7", "203.0.113.7"),  # a dual-stack socket's IPv4-mapped addresses
        ("10.0.0.1", "192.0.2.11", "192.0.2.11"),  # one address trusted is that address only
    ],
)
def test_behind_trusted_proxies_the_first_untrusted_address_from_the_right_is_the_client(
    peer: str, forwarded: str | None, client: str
) -> None:
    assert client_address(request(peer, forwarded)) == client


@override_settings(CASELOOP_TRUSTED_PROXIES=PROXIES)
@pytest.mark.parametrize(
    "bad",
    ["garbage", "203.0.113.9:", "[2001:db8::9", "2001:db8::9]:443", "203.0.113.9:123456", "[203.0.113.9]x",
     "", " ", "unknown", "_hidden", "host.example:443",
     "203.0.113.9 203.0.113.8", "1.2.3.4.5", "01.2.3.4", "fe80::1%eth0", "2001:db8::9/64",
     "\uff11.\uff12.\uff13.\uff14", "9" * 5000, "203.0.113.9\x00", "0x7f.1"],
)  # fmt: skip
def test_a_malformed_entry_is_never_an_address_and_the_walk_stops_at_the_last_good_one(bad: str) -> None:
    # the client's own entry left of the bad one is never reached
    assert client_address(request("10.0.0.1", f"198.51.100.66, {bad}")) == "10.0.0.1"
    assert client_address(request("10.0.0.1", f"198.51.100.66, {bad}, 10.0.0.2")) == "10.0.0.2"
    assert client_address(request("10.0.0.1", bad)) == "10.0.0.1"


@override_settings(CASELOOP_TRUSTED_PROXIES=PROXIES)
@pytest.mark.parametrize(
    ("entry", "client"),
    [("203.0.113.9:4711", "203.0.113.9"), ("[2001:db8::9]:443", "2001:db8::9"), ("[2001:db8::9]", "2001:db8::9"),
     ("10.0.0.7:80", None)],
)  # fmt: skip
def test_a_port_a_balancer_appends_is_dropped_and_the_address_kept(entry: str, client: str | None) -> None:
    # a trusted proxy's own address with a port is still that proxy: the walk goes on to its left
    assert client_address(request("10.0.0.1", f"198.51.100.66, {entry}")) == (client or "198.51.100.66")


@override_settings(CASELOOP_TRUSTED_PROXIES=PROXIES)
def test_an_oversized_header_is_read_from_its_right_end_only() -> None:
    flood = "198.51.100.66, " * 200_000 + "203.0.113.7"
    started = time.perf_counter()
    assert client_address(request("10.0.0.1", flood)) == "203.0.113.7"
    assert time.perf_counter() - started < 0.5
    # a longer chain of proxies than is walked: the last one walked, never an address further left
    chain = ", ".join(["198.51.100.66", *(f"10.0.1.{i}" for i in range(MAX_HOPS + 5, 0, -1))])
    assert client_address(request("10.0.0.1", chain)) == f"10.0.1.{MAX_HOPS}"


@override_settings(CASELOOP_TRUSTED_PROXIES=PROXIES)
@pytest.mark.parametrize("peer", [None, "", "-", "unix:/run/caseloop.sock"])
def test_a_connection_without_an_ip_address_has_no_client_address(peer: str | None) -> None:
    assert client_address(request(peer, "203.0.113.7")) is None


def test_only_core_reads_the_peer_address() -> None:
    # a direct read of REMOTE_ADDR counts every client behind a proxy as the proxy: read client_address()
    readers = sorted(
        str(path.relative_to(CASELOOP))
        for path in CASELOOP.rglob("*.py")
        if "REMOTE_ADDR" in path.read_text() and "tests" not in path.parts
    )
    assert readers == ["core/clientaddr.py"]
