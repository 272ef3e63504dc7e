"""Reporting periods: what "since" and "until" mean, and how a period is cut into buckets.

Dates are whole days in UTC, both ends included: "until 2026-03-31" counts everything
completed on the 31st. The chart's buckets follow the period's length: weeks (starting
Monday, ISO 8601) up to 13 weeks, months up to three years, years beyond.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from lms_core.errors import InvalidInput, Problem

PRESETS = {
    "30d": "Last 30 days",
    "90d": "Last 3 months",
    "12m": "Last 12 months",
    "all": "All time",
}
DEFAULT_PRESET = "12m"


@dataclass(frozen=True)
class Period:
    since: dt.date | None  # None: from the beginning
    until: dt.date
    preset: str | None = None  # the preset it came from, if any

    @property
    def start(self) -> dt.datetime | None:
        if self.since is None:
            return None
        return dt.datetime.combine(self.since, dt.time(), tzinfo=dt.UTC)

    @property
    def end(self) -> dt.datetime:
        """The first instant after the period (``until`` is included)."""
        return dt.datetime.combine(self.until + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)

    @property
    def label(self) -> str:
        if self.preset:
            return PRESETS[self.preset]
        if self.since is None:
            return f"Until {format_day(self.until)}"
        return f"{format_day(self.since)} to {format_day(self.until)}"

    def query(self) -> dict[str, str]:
        """URL parameters that select this period again (for links and exports)."""
        if self.preset:
            return {"period": self.preset}
        return {
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat(),
        }


def format_day(day: dt.date) -> str:
    return f"{day.day} {day:%b %Y}"


def preset(name: str, today: dt.date) -> Period:
    if name == "30d":
        return Period(today - dt.timedelta(days=29), today, name)
    if name == "90d":
        return Period(today - dt.timedelta(days=89), today, name)
    if name == "12m":
        return Period(add_months(today.replace(day=1), -11), today, name)
    if name == "all":
        return Period(None, today, name)
    raise KeyError(name)


def parse(args: Mapping[str, str], today: dt.date) -> Period:
    """The period a request asks for: ``period=<preset>`` or ``since``/``until`` dates."""
    name = (args.get("period") or "").strip()
    since_text = (args.get("since") or "").strip()
    until_text = (args.get("until") or "").strip()
    if name in PRESETS and not (since_text or until_text):
        return preset(name, today)
    if not (since_text or until_text):
        if name:
            raise InvalidInput(
                f"There is no period {name!r}.",
                [Problem(f"use one of {', '.join(PRESETS)}", "period")],
            )
        return preset(DEFAULT_PRESET, today)
    problems = []
    since = _date(since_text, "since", problems)
    until = _date(until_text, "until", problems) if until_text else today
    if problems:
        raise InvalidInput("The dates of the period are not valid.", problems)
    if since is not None and until is not None and until < since:
        raise InvalidInput(
            "The period ends before it starts.",
            [Problem(f"{since} is after {until}", "until", "Swap the two dates.")],
        )
    assert until is not None
    return Period(since, until)


def _date(text: str, field: str, problems: list[Problem]) -> dt.date | None:
    if not text:
        return None
    try:
        value = dt.date.fromisoformat(text)
    except ValueError:
        problems.append(Problem(f"{text!r} is not a date", field, "Write it as YYYY-MM-DD."))
        return None
    if not dt.date(2000, 1, 1) <= value <= dt.date(2100, 12, 31):
        problems.append(Problem(f"{text} is out of range", field, "Use a date after 2000."))
        return None
    return value


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (or earlier), or that month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


# -- buckets ---------------------------------------------------------------------------


GRANULARITIES = ("week", "month", "year")


def granularity(since: dt.date, until: dt.date) -> str:
    days = (until - since).days + 1
    if days <= 92:
        return "week"
    if days <= 1096:
        return "month"
    return "year"


def bucket_start(day: dt.date, unit: str) -> dt.date:
    if unit == "week":
        return day - dt.timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def next_bucket(start: dt.date, unit: str) -> dt.date:
    if unit == "week":
        return start + dt.timedelta(days=7)
    if unit == "month":
        return add_months(start, 1)
    return start.replace(year=start.year + 1)


def buckets(since: dt.date, until: dt.date, unit: str) -> list[dt.date]:
    """The start of every bucket that overlaps [since, until]."""
    found = []
    current = bucket_start(since, unit)
    while current <= until:
        found.append(current)
        current = next_bucket(current, unit)
    return found


def bucket_label(start: dt.date, unit: str) -> str:
    if unit == "week":
        return f"Week of {start.day} {start:%b %Y}"
    if unit == "month":
        return f"{start:%b %Y}"
    return f"{start.year}"
