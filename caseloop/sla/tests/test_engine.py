"""Business-time arithmetic on its own: hours, weekends, holidays, time zones and daylight saving (no database)."""

from __future__ import annotations

import datetime as dt
import random
import subprocess
import sys
from zoneinfo import ZoneInfo

import pytest

from caseloop.sla.engine import (
    CalendarError,
    add_business_time,
    always_open,
    business_seconds_between,
    calendar,
    format_hours,
)

UTC = dt.UTC
OFFICE = {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
HOUR = 3600.0


def at(year, month, day, hour=0, minute=0, tz=UTC):
    return dt.datetime(year, month, day, hour, minute, tzinfo=tz)


def test_four_business_hours_from_friday_afternoon_end_on_monday_at_noon():
    cal = calendar(zone="UTC", hours=OFFICE)
    assert add_business_time(cal, at(2026, 3, 6, 16, 0), 4 * HOUR) == at(2026, 3, 9, 12, 0)
    assert business_seconds_between(cal, at(2026, 3, 6, 16, 0), at(2026, 3, 9, 12, 0)) == 4 * HOUR


def test_a_holiday_is_skipped():
    cal = calendar(zone="UTC", hours=OFFICE, holidays=["2026-03-09"])
    assert add_business_time(cal, at(2026, 3, 6, 16, 0), 4 * HOUR) == at(2026, 3, 10, 12, 0)


def test_time_starts_at_the_next_opening_when_closed():
    cal = calendar(zone="UTC", hours=OFFICE)
    assert add_business_time(cal, at(2026, 3, 7, 22, 0), 30 * 60) == at(2026, 3, 9, 9, 30)  # Saturday night
    assert add_business_time(cal, at(2026, 3, 9, 7, 0), 0) == at(2026, 3, 9, 9, 0)
    assert add_business_time(cal, at(2026, 3, 9, 17, 0), 60) == at(2026, 3, 10, 9, 1)


def test_split_hours_and_a_lunch_break():
    cal = calendar(zone="UTC", hours={"mon": ["09:00-12:00", "13:00-17:00"]})
    assert add_business_time(cal, at(2026, 3, 9, 11, 0), 2 * HOUR) == at(2026, 3, 9, 14, 0)
    assert business_seconds_between(cal, at(2026, 3, 9, 11, 0), at(2026, 3, 9, 14, 0)) == 2 * HOUR
    assert add_business_time(cal, at(2026, 3, 9, 16, 0), 2 * HOUR) == at(2026, 3, 16, 10, 0)  # next Monday


def test_hours_are_read_in_the_calendars_time_zone():
    cal = calendar(zone="America/New_York", hours=OFFICE)
    # Monday 2 March 2026, 13:00 UTC is 08:00 in New York (EST): an hour before opening
    assert add_business_time(cal, at(2026, 3, 2, 13, 0), HOUR) == at(2026, 3, 2, 15, 0)
    # Friday 22:30 UTC is 17:30 in New York, after closing; Monday 09:00 there is 13:00 UTC (daylight time by then)
    assert add_business_time(cal, at(2026, 3, 6, 22, 30), 0) == at(2026, 3, 9, 13, 0)


def test_a_day_that_loses_an_hour_to_daylight_saving_has_23_business_hours():
    paris = ZoneInfo("Europe/Paris")
    cal = calendar(zone="Europe/Paris", hours={d: ["00:00-24:00"] for d in ("sat", "sun")})
    start, end = at(2026, 3, 28, 12, 0, tz=paris), at(2026, 3, 29, 12, 0, tz=paris)
    assert business_seconds_between(cal, start, end) == 23 * HOUR
    assert add_business_time(cal, start, 23 * HOUR) == end.astimezone(UTC)


def test_a_nine_to_five_day_is_eight_hours_across_daylight_saving():
    cal = calendar(zone="Europe/Paris", hours={d: ["09:00-17:00"] for d in ("fri", "mon")})
    paris = ZoneInfo("Europe/Paris")
    assert business_seconds_between(cal, at(2026, 3, 27, 9, 0, tz=paris), at(2026, 3, 30, 17, 0, tz=paris)) == 16 * HOUR


def test_time_backwards_is_negative_and_an_overdue_pause_stays_overdue():
    cal = calendar(zone="UTC", hours=OFFICE)
    assert business_seconds_between(cal, at(2026, 3, 9, 12, 0), at(2026, 3, 9, 10, 0)) == -2 * HOUR
    assert add_business_time(cal, at(2026, 3, 9, 12, 0), -1800) == at(2026, 3, 9, 11, 30)


def test_always_open_is_wall_clock_time():
    cal = always_open()
    assert add_business_time(cal, at(2026, 3, 7, 22, 0), 5 * HOUR) == at(2026, 3, 8, 3, 0)
    assert business_seconds_between(cal, at(2026, 3, 7, 22, 0), at(2026, 3, 8, 3, 0)) == 5 * HOUR


def test_adding_then_measuring_gives_back_the_same_time():
    rng = random.Random(5)
    cal = calendar(zone="Australia/Sydney", hours={**OFFICE, "sat": ["10:00-14:00"]}, holidays=["2026-04-06"])
    for _ in range(300):
        start = at(2026, 1, 1) + dt.timedelta(minutes=rng.randrange(0, 365 * 24 * 60))
        seconds = float(rng.randrange(0, 40 * 3600))
        end = add_business_time(cal, start, seconds)
        assert business_seconds_between(cal, start, end) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("hours", "zone", "holidays", "field", "message"),
    [
        ({"mon": ["09:00-12:00", "11:00-13:00"]}, "UTC", [], "hours", "overlap"),
        ({"mon": ["17:00-09:00"]}, "UTC", [], "hours", "start before it ends"),
        ({"mon": ["9-5"]}, "UTC", [], "hours", "not a range"),
        ({"monday": ["09:00-17:00"]}, "UTC", [], "hours", "not monday"),
        ({}, "UTC", [], "hours", "open at least once a week"),
        ({"mon": ["09:00-24:30"]}, "UTC", [], "hours", "within the day"),
        (OFFICE, "Mars/Olympus", [], "time_zone", "not a time zone"),
        (OFFICE, "UTC", ["2026-02-30"], "holidays", "not a date"),
    ],
)
def test_a_bad_calendar_is_refused_with_the_field(hours, zone, holidays, field, message):
    with pytest.raises(CalendarError) as refused:
        calendar(zone=zone, hours=hours, holidays=holidays)
    assert refused.value.field == field and message in refused.value.message


def test_hours_format_back_as_written():
    cal = calendar(zone="UTC", hours={"mon": ["13:00-17:00", "09:00-12:00"], "sun": ["00:00-24:00"]})
    assert format_hours(cal.week) == {"mon": ["09:00-12:00", "13:00-17:00"], "sun": ["00:00-24:00"]}


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="aware"):
        add_business_time(always_open(), dt.datetime(2026, 3, 9, 12, 0), 60)  # noqa: DTZ001  (the point: no zone)


def test_the_engine_imports_no_django():
    code = "import sys, caseloop.sla.engine; print(any(m.startswith('django') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)  # noqa: S603
    assert out.stdout.strip() == "False"
