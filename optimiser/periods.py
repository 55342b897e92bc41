"""Month arithmetic on ``YYYY-MM`` strings (the optimiser depends on nothing outside it)."""

from __future__ import annotations


def add_months(period: str, months: int) -> str:
    year, month = (int(part) for part in period.split("-"))
    index = year * 12 + month - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"
