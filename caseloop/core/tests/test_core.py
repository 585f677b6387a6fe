from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction

from caseloop.core import clock
from caseloop.core.cursor import CursorErrorCode, decode_cursor, encode_cursor
from caseloop.core.errors import DomainError, Invalid
from caseloop.core.events import on_commit, publish, subscribe
from caseloop.core.money import Money
from caseloop.core.sanitize import html_to_text, sanitize_html


def test_cursor_round_trip_and_tampering_is_a_400():
    cursor = encode_cursor({"id": 10234, "at": "2026-01-01"})
    assert decode_cursor(cursor) == {"at": "2026-01-01", "id": 10234}
    # a changed character in the middle (the last one may only carry padding bits, decoding the same)
    middle = len(cursor) // 2
    tampered = cursor[:middle] + ("A" if cursor[middle] != "A" else "B") + cursor[middle + 1 :]
    for bad in ("", "abc", cursor[:-3], tampered, "ü€", "%%%%"):
        with pytest.raises(DomainError) as excinfo:
            decode_cursor(bad)
        assert excinfo.value.code == CursorErrorCode.BAD_CURSOR
        assert excinfo.value.status == 400


def test_money_is_exact_and_refuses_mixing_currencies():
    assert Money.parse("0.1", "usd") + Money.parse("0.2", "USD") == Money(Decimal("0.30"), "USD")
    assert str(Money.parse(5, "EUR")) == "5.00 EUR"
    with pytest.raises(Invalid):
        Money.parse(1, "USD") + Money.parse(1, "EUR")
    for amount in ("abc", "NaN", "Infinity"):
        with pytest.raises(Invalid):
            Money.parse(amount, "USD")
    with pytest.raises(Invalid):
        Money.parse(1, "DOLLARS")
    with pytest.raises(TypeError):
        Money(1.5, "USD")  # type: ignore[arg-type]


def test_money_fits_the_money_columns_and_refuses_more_with_a_clear_error():
    # 14 digits, 2 of them decimals: what every money column stores
    assert Money.parse("999999999999.99", "USD").amount == Decimal("999999999999.99")
    assert Money.parse("-999999999999.994", "USD").amount == Decimal("-999999999999.99")
    for amount in (10**30, "1000000000000", "999999999999.995", "-1e40", "1e-999999999"):
        if amount == "1e-999999999":  # tiny is fine: it rounds to zero
            assert Money.parse(amount, "USD").amount == Decimal("0.00")
            continue
        with pytest.raises(Invalid, match=r"at most 999,999,999,999\.99"):
            Money.parse(amount, "USD")


def test_sanitiser_removes_scripts_handlers_and_javascript_urls():
    dirty = (
        '<p onclick="steal()">Hello <b>there</b></p><script>alert(1)</script>'
        '<img src="x" onerror="boom()"><a href="javascript:evil()">x</a><a href="https://ok.test">ok</a>'
        '<iframe src="https://evil.test"></iframe><style>body{}</style>'
    )
    clean = sanitize_html(dirty)
    for bad in ("onclick", "<script", "onerror", "javascript:", "<iframe", "<style"):
        assert bad not in clean
    assert "<b>there</b>" in clean
    assert 'href="https://ok.test"' in clean and "noopener" in clean


def test_html_to_text_keeps_line_structure():
    assert (
        html_to_text("<p>Hi Ann,</p><p>The part ships&nbsp;today.<br>Bob</p>")
        == "Hi Ann,\nThe part ships\xa0today.\nBob"
    )


def test_clock_can_be_frozen():
    moment = dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC)
    with clock.frozen_at(moment):
        assert clock.now() == moment
    assert clock.now() != moment
    with pytest.raises(ValueError, match="aware"), clock.frozen_at(dt.datetime(2026, 1, 1)):  # noqa: DTZ001
        pass


@pytest.mark.django_db(transaction=True)
def test_side_effects_run_only_after_commit():
    seen: list[str] = []

    @subscribe("test.happened")
    def listener(*, what: str) -> None:
        seen.append(what)

    with transaction.atomic():
        publish("test.happened", what="kept")
        on_commit(seen.append, "direct")
        assert seen == []
    assert seen == ["kept", "direct"]

    def failing_write() -> None:
        with transaction.atomic():
            publish("test.happened", what="rolled back")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        failing_write()
    assert seen == ["kept", "direct"]


@pytest.mark.django_db(transaction=True)
def test_a_side_effect_that_fails_is_logged_and_the_others_still_run(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[str] = []

    def broken(what: str) -> None:
        raise RuntimeError(f"mail server down for {what}")

    with transaction.atomic():
        on_commit(seen.append, "before")
        on_commit(broken, "the survey")
        on_commit(seen.append, "after")
    assert seen == ["before", "after"]
    assert (
        "Error calling test_a_side_effect_that_fails_is_logged_and_the_others_still_run.<locals>.broken" in caplog.text
    )
    assert "mail server down for the survey" in caplog.text
