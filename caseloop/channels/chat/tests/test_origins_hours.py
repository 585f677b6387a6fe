"""Allowed origins and chat hours: pure functions, no database."""

from __future__ import annotations

import datetime as dt

import pytest

from caseloop.channels.chat.hours import BadHours, format_hours, is_open, parse_hours
from caseloop.channels.chat.origins import NotAnOrigin, is_allowed, normalise_origin, origin_of_url


@pytest.mark.parametrize(
    ("raw", "origin"),
    [
        ("https://Shop.Example", "https://shop.example"),
        ("https://shop.example:443/", "https://shop.example"),
        ("http://shop.example:80", "http://shop.example"),
        ("http://127.0.0.1:8001", "http://127.0.0.1:8001"),
        ("https://*.Shop.example", "https://*.shop.example"),
        ("http://[::1]:8080", "http://[::1]:8080"),
    ],
)
def test_origins_are_normalised(raw, origin):
    assert normalise_origin(raw) == origin


@pytest.mark.parametrize(
    "raw",
    [
        "shop.example",
        "ftp://shop.example",
        "https://shop.example/page",
        "https://shop.example?x=1",
        "https://user@shop.example",
        "https://shop.example:port",
        "https://",
        "null",
        "https://sh op.example",
    ],
)
def test_what_is_not_an_origin_is_refused(raw):
    with pytest.raises(NotAnOrigin):
        normalise_origin(raw)


def test_matching_exact_origins_and_subdomain_wildcards():
    allowed = ["https://shop.example", "https://*.brand.example", "http://127.0.0.1:8001"]
    assert is_allowed("https://shop.example", allowed)
    assert is_allowed("https://SHOP.example:443", allowed)
    assert is_allowed("https://eu.brand.example", allowed) and is_allowed("https://a.b.brand.example", allowed)
    assert is_allowed("http://127.0.0.1:8001", allowed)
    for origin in [
        "http://shop.example",
        "https://shop.example:8443",
        "https://evil-shop.example",
        "https://shop.example.evil.example",
        "https://brand.example",
        "https://evilbrand.example",
        "http://eu.brand.example",
        "http://127.0.0.1:8002",
        "null",
        "",
        "https://*.brand.example",
    ]:
        assert not is_allowed(origin, allowed), origin


def test_origin_of_a_referer():
    assert origin_of_url("https://Shop.example/products/1?x=2#top") == "https://shop.example"
    assert origin_of_url("http://user:pw@127.0.0.1:8001/page") == "http://127.0.0.1:8001"
    assert origin_of_url("about:blank") is None and origin_of_url("") is None


def test_hours_are_parsed_from_short_lines_and_written_back():
    hours = parse_hours("Mon-Fri 08:00-12:00, 13:00-18:00\nsat 09:00-13:00\n\nfri 20:00-24:00")
    assert hours["mon"] == [["08:00", "12:00"], ["13:00", "18:00"]]
    assert hours["fri"] == [["08:00", "12:00"], ["13:00", "18:00"], ["20:00", "24:00"]]
    assert hours["sat"] == [["09:00", "13:00"]] and "sun" not in hours
    assert parse_hours(format_hours(hours)) == hours
    assert parse_hours("  \n") == {}


@pytest.mark.parametrize(
    "text",
    [
        "monday 08:00-18:00",
        "mon 8-18",
        "fri-mon 08:00-18:00",
        "mon 18:00-08:00",
        "mon 08:00-24:30",
        "mon 25:00-26:00",
        "08:00-18:00",
    ],
)
def test_bad_hours_are_refused(text):
    with pytest.raises(BadHours):
        parse_hours(text)


def test_open_now_in_the_widgets_time_zone():
    hours = parse_hours("mon-fri 09:00-17:00")
    monday_8_utc = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)  # 09:00 in Berlin (CET)
    assert is_open(hours, time_zone="Europe/Berlin", at=monday_8_utc)
    assert not is_open(hours, time_zone="UTC", at=monday_8_utc)
    assert not is_open(hours, time_zone="Europe/Berlin", at=dt.datetime(2026, 3, 2, 16, 0, tzinfo=dt.UTC))  # 17:00
    assert not is_open(hours, time_zone="UTC", at=dt.datetime(2026, 3, 7, 12, 0, tzinfo=dt.UTC))  # a Saturday
    assert is_open({}, time_zone="UTC", at=monday_8_utc)
    with pytest.raises(BadHours):
        is_open(hours, time_zone="Mars/Olympus", at=monday_8_utc)
