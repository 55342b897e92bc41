"""Calendar months written ``YYYY-MM``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime

PERIOD_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
_PERIOD = re.compile(PERIOD_PATTERN)
EARLIEST_PERIOD = "2000-01"
# The same months from EARLIEST_PERIOD on, as a pattern the OpenAPI document can state.
PERIOD_FROM_EARLIEST_PATTERN = r"^[2-9]\d{3}-(0[1-9]|1[0-2])$"


def is_period(text: str) -> bool:
    return bool(_PERIOD.match(text))


def current_period(today: date | None = None) -> str:
    today = today or datetime.now(UTC).date()
    return f"{today.year:04d}-{today.month:02d}"


def month_index(period: str) -> int:
    """Months since year 0, so that differences of indices count months."""
    year, month = period.split("-")
    return int(year) * 12 + int(month) - 1


def from_index(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def add_months(period: str, months: int) -> str:
    return from_index(month_index(period) + months)


def period_range(first: str, last: str) -> Iterator[str]:
    """Every month from ``first`` to ``last``, both included."""
    for index in range(month_index(first), month_index(last) + 1):
        yield from_index(index)


def first_day_after(period: str) -> date:
    """The first day of the month after ``period``: when ``period`` has ended."""
    year, month = add_months(period, 1).split("-")
    return date(int(year), int(month), 1)


def period_problem(text: str, *, today: date | None = None) -> str | None:
    """Why ``text`` is not a period a return may be submitted for, or None if it is: a
    return describes a whole month, so the month must have ended."""
    if not is_period(text):
        return f"'{text}' is not a month written YYYY-MM"
    if text < EARLIEST_PERIOD:
        return f"{text} is before {EARLIEST_PERIOD}"
    now = current_period(today)
    if text >= now:
        latest = add_months(now, -1)
        return (
            f"{text} has not ended yet: its return can be sent from "
            f"{first_day_after(text).isoformat()}; the latest month that can be sent now "
            f"is {latest}"
        )
    return None
