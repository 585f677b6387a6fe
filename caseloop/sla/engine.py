"""Business-time arithmetic: opening hours per weekday, holidays, and a time zone. No Django.

An SLA of "4 business hours" is counted only while the business is open: a
case opened on Friday at 16:00 with hours 09:00-17:00 is due on Monday at
12:00. `add_business_time` and `business_seconds_between` are exact to the
second across days, weekends, holidays and daylight-saving changes: each
opening interval is placed in local time on its date (zoneinfo), then
converted to UTC before any arithmetic, so a day that is 23 or 25 hours long
is counted as it really is. A local time the clocks skip (02:30 on a
spring-forward night) is the moment they jump, so hours wholly inside the gap
are not open that day; a time lived twice (the clocks go back) is its first
occurrence, so an office open over that hour is open both times it happens.

A calendar's week is seven lists of (start, end) minutes after local
midnight, Monday first; an end of 1440 is the next midnight. Hours are
written as {"mon": ["09:00-12:00", "13:00-17:00"], …}, "00:00-24:00" for all
day, and a day left out is closed.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"^\s*(\d{2}):(\d{2})\s*-\s*(\d{2}):(\d{2})\s*$")
# a calendar open at least once a week never needs more; the bound only stops a runaway loop
_MAX_DAYS = 3 * 366

Week = tuple[tuple[tuple[int, int], ...], ...]


class CalendarError(ValueError):
    """Hours, holidays or a time zone that do not make a calendar; `field` says which."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True, slots=True)
class Calendar:
    zone: str
    week: Week
    holidays: frozenset[dt.date] = frozenset()

    @property
    def tz(self) -> ZoneInfo:
        return _zone(self.zone)

    def intervals(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The opening intervals of a local date, as UTC datetimes (none on a holiday)."""
        if day in self.holidays:
            return []
        tz = self.tz
        out = []
        for start, end in self.week[day.weekday()]:
            opens, closes = _local(day, start, tz), _local(day, end, tz)
            if opens < closes:  # hours wholly inside a daylight-saving gap are not open that day
                out.append((opens, closes))
        return out


ALWAYS = ((0, 1440),)


def always_open(zone: str = "UTC") -> Calendar:
    """Every hour of every day: business time is wall-clock time."""
    return Calendar(zone=zone, week=(ALWAYS,) * 7)


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CalendarError(f"{name!r} is not a time zone (e.g. Europe/Paris).", "time_zone") from exc


def _local(day: dt.date, minute: int, tz: ZoneInfo) -> dt.datetime:
    """A local date and minute as a UTC moment, never going backwards as the minute grows.

    A minute that happens twice (the clocks go back) is its first occurrence.
    A minute that does not exist (the clocks go forward) is the moment the
    clock jumps: zoneinfo would read it with the old offset, placing 02:30
    after 03:00 on a spring-forward night and reversing an interval.
    """
    if minute >= 1440:
        day, minute = day + dt.timedelta(days=1), minute - 1440
    local = dt.datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=tz)
    moment = local.astimezone(dt.UTC)
    if moment.astimezone(tz).replace(tzinfo=None) == local.replace(tzinfo=None):
        return moment
    # in a gap: the old offset puts it after the jump, the new one before it
    return _jump(before=local.replace(fold=1).astimezone(dt.UTC), after=moment, tz=tz)


def _jump(*, before: dt.datetime, after: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """The first second whose offset is that of `after`, with `before` still on the old one (bisection)."""
    new_offset = after.astimezone(tz).utcoffset()
    while after - before > dt.timedelta(seconds=1):
        middle = before + (after - before) // 2
        middle -= dt.timedelta(microseconds=middle.microsecond)
        if middle.astimezone(tz).utcoffset() == new_offset:
            after = middle
        else:
            before = middle
    return after


def parse_hours(hours: Mapping[str, Sequence[str]]) -> Week:
    """{"mon": ["09:00-17:00"], …} → a Week; overlapping, reversed or out-of-day ranges are refused."""
    unknown = sorted(set(hours) - set(DAYS))
    if unknown:
        raise CalendarError(f"Days are written {', '.join(DAYS)}; not {', '.join(unknown)}.", "hours")
    week = []
    for day in DAYS:
        ranges = []
        for text in hours.get(day, ()):
            match = _RANGE.match(str(text))
            if match is None:
                raise CalendarError(f"{day}: {text!r} is not a range like 09:00-17:00.", "hours")
            h1, m1, h2, m2 = (int(g) for g in match.groups())
            start, end = h1 * 60 + m1, h2 * 60 + m2
            if m1 > 59 or m2 > 59 or start >= 1440 or end > 1440 or start >= end:
                raise CalendarError(f"{day}: {text!r} must start before it ends, within the day.", "hours")
            ranges.append((start, end))
        ranges.sort()
        for (_, end), (start, _) in itertools.pairwise(ranges):
            if start < end:
                raise CalendarError(f"{day}: opening hours overlap.", "hours")
        week.append(tuple(ranges))
    if not any(week):
        raise CalendarError("A calendar is open at least once a week.", "hours")
    return tuple(week)


def format_hours(week: Week) -> dict[str, list[str]]:
    def clock(minute: int) -> str:
        return f"{minute // 60:02d}:{minute % 60:02d}"

    return {
        day: [f"{clock(s)}-{clock(e)}" for s, e in ranges] for day, ranges in zip(DAYS, week, strict=True) if ranges
    }


def parse_holidays(values: Iterable[str]) -> frozenset[dt.date]:
    days = set()
    for value in values:
        try:
            days.add(dt.date.fromisoformat(str(value)))
        except ValueError as exc:
            raise CalendarError(f"{value!r} is not a date (YYYY-MM-DD).", "holidays") from exc
    return frozenset(days)


def calendar(*, zone: str, hours: Mapping[str, Sequence[str]], holidays: Iterable[str] = ()) -> Calendar:
    """A checked calendar from its stored form."""
    _zone(zone)
    return Calendar(zone=zone, week=parse_hours(hours), holidays=parse_holidays(holidays))


def _require_aware(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValueError("business time needs aware datetimes")
    return moment.astimezone(dt.UTC)


def add_business_time(cal: Calendar, start: dt.datetime, seconds: float) -> dt.datetime:
    """The moment `seconds` of open time after `start` (which may be outside opening hours).

    Zero seconds from a closed moment is the next opening. Negative seconds
    (a timer already overdue when it was paused) move back in wall time: the
    overdue amount stays visible after the pause.
    """
    now = _require_aware(start)
    if seconds < 0:
        return now + dt.timedelta(seconds=seconds)
    if cal.week == (ALWAYS,) * 7 and not cal.holidays:
        return now + dt.timedelta(seconds=seconds)
    remaining = dt.timedelta(seconds=seconds)
    day = now.astimezone(cal.tz).date() - dt.timedelta(days=1)  # an interval of the day before may run past midnight
    for _ in range(_MAX_DAYS):
        for opens, closes in cal.intervals(day):
            if closes <= now:
                continue
            begin = max(opens, now)
            available = closes - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        day += dt.timedelta(days=1)
    raise ValueError("the calendar has no opening hours within three years")


def business_seconds_between(cal: Calendar, start: dt.datetime, end: dt.datetime) -> float:
    """Open seconds from `start` to `end`; negative when `end` comes first."""
    a, b = _require_aware(start), _require_aware(end)
    if b < a:
        return -business_seconds_between(cal, b, a)
    if cal.week == (ALWAYS,) * 7 and not cal.holidays:
        return (b - a).total_seconds()
    total = 0.0
    day = a.astimezone(cal.tz).date() - dt.timedelta(days=1)
    last = b.astimezone(cal.tz).date()
    while day <= last:
        for opens, closes in cal.intervals(day):
            lo, hi = max(opens, a), min(closes, b)
            if hi > lo:
                total += (hi - lo).total_seconds()
        day += dt.timedelta(days=1)
    return total
