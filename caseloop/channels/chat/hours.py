"""A widget's chat hours: written as short lines, kept as JSON, asked "open now?". Pure.

    mon-fri 08:00-18:00
    sat 09:00-13:00

is kept as {"mon": [["08:00", "18:00"]], …, "sat": [["09:00", "13:00"]]}. No
lines means always open (availability then depends only on reps being there).
A day may have several ranges; a range ends before it starts never (no
overnight ranges: write "fri 22:00-24:00" and "sat 00:00-02:00").
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_LINE = re.compile(r"^(?P<days>[a-z]{3}(?:-[a-z]{3})?(?:,[a-z]{3}(?:-[a-z]{3})?)*)\s+(?P<ranges>.+)$")
_RANGE = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")

Hours = dict[str, list[list[str]]]


class BadHours(ValueError):
    pass


def _days(spec: str) -> list[str]:
    days: list[str] = []
    for part in spec.split(","):
        first, _, last = part.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise BadHours(f"{part!r}: days are mon, tue, wed, thu, fri, sat, sun (or a range like mon-fri).")
        start, end = DAYS.index(first), DAYS.index(last or first)
        if end < start:
            raise BadHours(f"{part!r}: a range of days runs forward (mon-fri).")
        days += DAYS[start : end + 1]
    return days


def _range(text: str) -> list[str]:
    match = _RANGE.match(text)
    if not match:
        raise BadHours(f"{text!r}: a time range is HH:MM-HH:MM (08:00-18:00).")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2) or (h1, m1) >= (h2, m2):
        raise BadHours(f"{text!r}: the range must start before it ends, within one day (24:00 ends it).")
    return [f"{h1:02d}:{m1:02d}", f"{h2:02d}:{m2:02d}"]


def parse_hours(text: str) -> Hours:
    hours: Hours = {}
    for raw_line in text.lower().splitlines():
        line = raw_line.strip()
        if not line:
            continue
        match = _LINE.match(line)
        if not match:
            raise BadHours(f"{raw_line.strip()!r}: write days then times, e.g. mon-fri 08:00-18:00.")
        ranges = [_range(r.strip()) for r in match["ranges"].split(",")]
        for day in _days(match["days"]):
            hours.setdefault(day, []).extend(ranges)
    return {day: sorted(hours[day]) for day in DAYS if day in hours}


def format_hours(hours: Hours) -> str:
    return "\n".join(f"{day} " + ", ".join(f"{a}-{b}" for a, b in hours[day]) for day in DAYS if day in hours)


def check_time_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise BadHours(f"{name!r} is not a time zone (e.g. Europe/Berlin).") from exc


def is_open(hours: Hours, *, time_zone: str, at: dt.datetime) -> bool:
    """Whether `at` (aware) falls in the hours, read in `time_zone`; always open without hours."""
    if not hours:
        return True
    local = at.astimezone(check_time_zone(time_zone))
    now = f"{local.hour:02d}:{local.minute:02d}"
    return any(start <= now < end for start, end in hours.get(DAYS[local.weekday()], []))
