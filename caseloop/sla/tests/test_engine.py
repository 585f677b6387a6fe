"""Business-time arithmetic on its own: hours, weekends, holidays, time zones and daylight saving (no database)."""

from __future__ import annotations

import datetime as dt
import itertools
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


PARIS = ZoneInfo("Europe/Paris")
SPRING_FORWARD = dt.date(2026, 3, 29)  # a Sunday: 02:00 CET becomes 03:00 CEST at 01:00 UTC
FALL_BACK = dt.date(2026, 10, 25)  # a Sunday: 03:00 CEST becomes 02:00 CET at 01:00 UTC, 02:00-03:00 happens twice


@pytest.mark.parametrize(
    ("sunday", "expected"),
    [
        # 02:30 does not exist that day: it is the moment the clock jumps (01:00 UTC), as is 03:00; nothing open
        (["02:30-03:00"], []),
        # the part before the jump counts, then the part after it
        (["01:30-02:30"], [(at(2026, 3, 29, 0, 30), at(2026, 3, 29, 1, 0))]),
        (["02:30-04:00"], [(at(2026, 3, 29, 1, 0), at(2026, 3, 29, 2, 0))]),
    ],
)
def test_opening_hours_in_the_spring_forward_gap_start_or_end_when_the_clock_jumps(sunday, expected):
    cal = calendar(zone="Europe/Paris", hours={"sun": sunday})
    assert cal.intervals(SPRING_FORWARD) == expected


@pytest.mark.parametrize("day", [SPRING_FORWARD, FALL_BACK])
@pytest.mark.parametrize(
    "sunday",
    [["02:30-03:00"], ["01:30-02:30"], ["02:30-04:00"], ["00:00-02:30", "02:30-24:00"], ["02:00-03:00", "03:00-05:00"]],
)
def test_daylight_saving_days_add_and_measure_the_same_open_time(day, sunday):
    cal = calendar(zone="Europe/Paris", hours={"sun": sunday, "mon": ["09:00-10:00"]})
    intervals = cal.intervals(day)
    # opening intervals go forwards, never overlap, and none is empty
    for opens, closes in intervals:
        assert opens < closes
    for (_, closes), (opens, _) in itertools.pairwise(intervals):
        assert closes <= opens
    saturday_noon = dt.datetime.combine(day - dt.timedelta(days=1), dt.time(12), tzinfo=PARIS)
    monday_ten = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(10), tzinfo=PARIS)
    open_on_sunday = sum((closes - opens).total_seconds() for opens, closes in intervals)
    assert business_seconds_between(cal, saturday_noon, monday_ten) == open_on_sunday + HOUR
    # every minute of the weekend, forwards then back: adding then measuring gives back the same minutes
    for minutes in range(int((open_on_sunday + HOUR) // 60) + 1):
        end = add_business_time(cal, saturday_noon, minutes * 60.0)
        assert end <= monday_ten.astimezone(UTC)  # never a week late
        assert business_seconds_between(cal, saturday_noon, end) == minutes * 60.0


def test_an_hour_that_happens_twice_is_counted_twice_when_open_and_once_per_interval():
    # on the fall-back day 02:00-03:00 is lived twice: an office open over it is open both times, but two
    # intervals that meet at 02:30 meet at its first occurrence, so nothing is counted twice or goes backwards
    whole = calendar(zone="Europe/Paris", hours={"sun": ["00:00-24:00"]})
    split = calendar(zone="Europe/Paris", hours={"sun": ["00:00-02:30", "02:30-24:00"]})
    day_start = dt.datetime.combine(FALL_BACK, dt.time(0), tzinfo=PARIS)
    day_end = dt.datetime.combine(FALL_BACK + dt.timedelta(days=1), dt.time(0), tzinfo=PARIS)
    assert business_seconds_between(whole, day_start, day_end) == 25 * HOUR
    assert business_seconds_between(split, day_start, day_end) == 25 * HOUR
    assert add_business_time(split, day_start, 25 * HOUR) == day_end.astimezone(UTC)


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
