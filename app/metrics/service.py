"""Workforce measures from the latest revision of each return, read from the running
totals kept on submission (``unit_totals``, see ``app.metrics.totals``).

A metric is one row: an organisation's or a place's sums in the month and over the
12-month window ending there; the system's are its places' summed by the database. A
month an organisation did not return is never counted as zero: it is left out, listed in
``missing_periods``, and rates over the window come from the months present; a unit with
no return at all in a month has null figures and says why.

Complete months: an organisation is *expected* in a month when it returned for that
month or any of the 11 before it (the 12-month window ending there); a month is
*complete* when every expected organisation returned for it. By default the measures are
of the latest complete month of the system, so that one early return never stands for
the whole; a later month with some returns is reported as partial, covered of expected.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import ColumnElement, Select, case, func, literal, select
from sqlalchemy.orm import Session

from app.auth import Principal, Scope
from app.errors import Forbidden, NotFound, ValidationFailed, field_error
from app.metrics.models import UnitTotal
from app.metrics.schemas import Level, MetricItem
from app.metrics.schemas import MonthCoverage as MonthCoverageRead
from app.metrics.totals import ALL_GROUPS, POINT_FIELDS, WINDOW
from app.organisations.models import Organisation, StaffGroup
from app.periods import EARLIEST_PERIOD, add_months, period_range
from app.returns.models import Return

SYSTEM_CODE = "HIOW"


def unit_column(level: Level) -> Any:
    if level == "system":
        return literal(SYSTEM_CODE)
    if level == "place":
        return Organisation.place
    return Organisation.code


ROUNDED = (*POINT_FIELDS, "nursing_capacity_wte", "over_establishment_wte")


def _measures(level: Level, *filters: ColumnElement[bool]) -> Select[Any]:
    """Rows of ``code``, ``staff_group``, ``period`` and the measures, computed and rounded
    by the database (in double precision, so that nothing is converted on the way):
    from the stored totals of places and organisations, the places' summed for the
    system."""
    system = level == "system"

    def total(name: str) -> Any:
        column = getattr(UnitTotal, name)
        return func.sum(column) if system else column

    def rounded(value: Any, digits: int) -> Any:
        scale = 10**digits
        return func.round(value * scale) / scale

    def rate(numerator: Any, denominator: Any) -> Any:
        # Totals are sums of two-decimal figures: below half a hundredth is nothing.
        return case((denominator >= 0.005, rounded(numerator / denominator, 4)))

    staff, bank, agency = total("staff_in_post_wte"), total("bank_wte"), total("agency_wte")
    query = select(
        (literal(SYSTEM_CODE) if system else UnitTotal.code).label("code"),
        UnitTotal.staff_group,
        UnitTotal.period,
        *(rounded(total(name), 2).label(name) for name in ROUNDED),
        rate(total("vacancy_wte"), total("establishment_wte")).label("vacancy_rate"),
        # Leavers per staff-month present, times 12: with every month present this is
        # leavers over the 12 months / mean staff in post.
        rate(12 * total("window_leavers_wte"), total("window_staff_in_post_wte")).label(
            "turnover_rate_12m"
        ),
        rate(bank + agency, staff + bank + agency).label("temporary_staffing_share"),
        case((total("spend_reported") > 0, rounded(total("spend_gbp"), 2))).label(
            "temporary_staffing_spend_gbp"
        ),
        (total("window_synthetic") > 0).label("synthetic"),
    ).where(UnitTotal.level == ("place" if system else level), *filters)
    if system:
        return query.group_by(UnitTotal.staff_group, UnitTotal.period)
    return query


MEASURES = (
    *ROUNDED,
    "vacancy_rate",
    "turnover_rate_12m",
    "temporary_staffing_share",
    "temporary_staffing_spend_gbp",
    "synthetic",
)
# The month's own figures: null, not zero, for a unit with no return in the month.
MONTH_FIGURES = (
    *ROUNDED,
    "vacancy_rate",
    "temporary_staffing_share",
    "temporary_staffing_spend_gbp",
)
ITEMS = TypeAdapter(list[MetricItem])
NOTHING = (*[None] * len(ROUNDED), *[None] * 4, False)  # nothing in the window
Counts = Mapping[tuple[str, str], tuple[int, int]]  # (unit, period) -> (covered, expected)


def coverage_note(level: Level, code: str, period: str, covered: int, expected: int) -> str | None:
    """Why a unit's figures for a month are missing or stand for part of it; None when
    every expected organisation returned."""
    if covered == 0:
        if level == "organisation":
            return f"{code} sent no return for {period}"
        return f"no organisation of {code} returned for {period}"
    if covered < expected:
        return f"partial: {covered} of {expected} organisations returned for {period}"
    return None


def _items(
    level: Level,
    rows: Iterable[Sequence[Any]],
    coverage: Mapping[str, UnitCoverage],
    counts: Counts,
) -> list[MetricItem]:
    """Items from rows of ``_measures`` (in its column order), each unit's coverage of
    the window and its organisations covered and expected in the month; validated in one
    call, as an organisation-level page has 10,000."""
    items = []
    for code, staff_group, period, *values in rows:
        month = coverage[code].month(period)
        covered, expected = counts.get((code, period), (0, 0))
        item = dict(zip(MEASURES, values, strict=True))
        if covered == 0:
            item.update(dict.fromkeys(MONTH_FIGURES))
        item["level"] = level
        item["code"] = code
        item["staff_group"] = None if staff_group == ALL_GROUPS else staff_group
        item["period"] = period
        item["turnover_annualised"] = month.annualised
        item["missing_periods"] = month.missing
        item["organisations_covered"] = covered
        item["organisations_expected"] = expected
        item["complete"] = 0 < covered >= expected
        item["coverage_note"] = coverage_note(level, code, period, covered, expected)
        items.append(item)
    return ITEMS.validate_python(items)


def organisation_counts(
    session: Session, level: Level, code: str | None, first: str, last: str
) -> dict[tuple[str, str], tuple[int, int]]:
    """Each unit's organisations that returned and that were expected, month by month
    from ``first`` to ``last``. An organisation is expected in a month when it returned
    for that month or one of the 11 before it: its own totals have a row for the month
    with a non-zero window count. Read from the organisations' all-groups rows alone
    (an index holds them), joined to the organisations only to find their places."""
    unit: Any = UnitTotal.code
    if level == "system":
        unit = literal(SYSTEM_CODE)
    elif level == "place":
        unit = Organisation.place
    query = select(
        unit.label("unit"),
        UnitTotal.period,
        func.sum(UnitTotal.returned),
        func.sum(case((UnitTotal.window_returned > 0, 1), else_=0)),
    ).where(
        UnitTotal.level == "organisation",
        UnitTotal.staff_group == ALL_GROUPS,
        UnitTotal.period.between(first, last),
    )
    if level == "place":
        query = query.join(Organisation, Organisation.code == UnitTotal.code)
    query = query.group_by(UnitTotal.period, *([] if level == "system" else [unit]))
    if code is not None and level != "system":
        query = query.where(unit == code)
    return {
        (unit_code, period): (int(covered), int(expected))
        for unit_code, period, covered, expected in session.connection().execute(query)
    }


@dataclass(frozen=True)
class MonthCompleteness:
    """The system's organisations that returned for a month, of those expected."""

    period: str
    covered: int
    expected: int

    @property
    def complete(self) -> bool:
        return 0 < self.covered >= self.expected


# How far back from the latest month with returns the latest complete month is looked
# for, query by query, before looking at every month: usually the latest month or the
# one before is complete, and reading two months is cheap at any scale.
LOOK_BACK = (1, 24)


def system_months(session: Session, first: str, last: str) -> list[MonthCompleteness]:
    """The system's completeness in each month with returns from ``first`` to ``last``."""
    counts = organisation_counts(session, "system", None, first, last)
    return [
        MonthCompleteness(period, covered, expected)
        for (_unit, period), (covered, expected) in sorted(counts.items())
        if covered > 0
    ]


@dataclass(frozen=True)
class DataStatus:
    """Which month the measures speak for by default, and what is known after it."""

    latest_complete_period: str | None  # every expected organisation returned
    latest_partial: MonthCompleteness | None  # a later month with some returns, if any


def data_status(session: Session) -> DataStatus:
    latest = latest_period(session)
    if latest is None:
        return DataStatus(None, None)
    for first in (*(add_months(latest, -months) for months in LOOK_BACK), EARLIEST_PERIOD):
        months = system_months(session, first, latest)
        complete = [month for month in months if month.complete]
        if complete:
            break
    latest_complete = complete[-1].period if complete else None
    partial = months[-1] if months and not months[-1].complete else None
    return DataStatus(latest_complete, partial)


def latest_complete_period(session: Session) -> str | None:
    """The latest month in which every expected organisation returned."""
    return data_status(session).latest_complete_period


def page_fields(
    session: Session, *, period: str | None, status: DataStatus | None = None
) -> dict[str, Any]:
    """What a page of measures says of its month and of the months after it."""
    status = status or data_status(session)
    partial = status.latest_partial
    fields: dict[str, Any] = {
        "latest_complete_period": status.latest_complete_period,
        "latest_partial_period": partial.period if partial else None,
        "latest_partial": MonthCoverageRead(
            period=partial.period,
            organisations_covered=partial.covered,
            organisations_expected=partial.expected,
        )
        if partial
        else None,
    }
    if period is not None:
        month = month_completeness(session, period)
        fields.update(
            period=period,
            complete=month.complete,
            organisations_covered=month.covered,
            organisations_expected=month.expected,
        )
    return fields


def month_completeness(session: Session, period: str) -> MonthCompleteness:
    covered, expected = organisation_counts(session, "system", None, period, period).get(
        (SYSTEM_CODE, period), (0, 0)
    )
    return MonthCompleteness(period, covered, expected)


@cache
def window_periods(period: str) -> tuple[str, ...]:
    """The 12 months of the window ending at ``period``."""
    return tuple(period_range(add_months(period, -(WINDOW - 1)), period))


@dataclass(frozen=True)
class MonthCoverage:
    """A unit's returns in one month and the 12-month window ending there."""

    missing: list[str]
    covered: int
    expected: int
    annualised: bool  # the window lacks a month of an organisation returning by its end


@dataclass
class UnitCoverage:
    """Which months a unit's organisations returned, counted per month: every month, or
    only the month asked for with its window's total (enough when nothing is missing)."""

    first_periods: list[str] = field(default_factory=list)  # each organisation's first return
    returned: dict[str, int] = field(default_factory=dict)  # period -> organisations
    window_returned: dict[str, int] = field(default_factory=dict)  # period -> org-months
    _months: dict[str, MonthCoverage] = field(default_factory=dict)

    def expected(self, period: str) -> int:
        """Organisations returning by ``period`` (from their first return on)."""
        return bisect_right(self.first_periods, period)

    def _window(self, period: str) -> tuple[tuple[str, ...], int, int]:
        window = window_periods(period)
        expected = sum(self.expected(p) for p in window)
        present = self.window_returned.get(period)
        if present is None:
            present = sum(self.returned.get(p, 0) for p in window)
        return window, present, expected

    def short(self, period: str) -> bool:
        """Whether an organisation expected in the window ending at ``period`` missed a
        month of it (no organisation returns before its first return, so the window's
        org-months fall short of those expected exactly when one is missing)."""
        _, present, expected = self._window(period)
        return present < expected

    def month(self, period: str) -> MonthCoverage:
        if period not in self._months:
            window, present, expected = self._window(period)
            self._months[period] = MonthCoverage(
                missing=[p for p in window if self.returned.get(p, 0) < self.expected(p)]
                if present < expected
                else [],
                covered=self.returned.get(period, 0),
                expected=self.expected(period),
                annualised=present < self.expected(period) * WINDOW,
            )
        return self._months[period]


def _units(session: Session, level: Level, code: str | None) -> dict[str, UnitCoverage]:
    """Every unit of ``level`` (only ``code`` when given) with its organisations' first
    returns."""
    query = select(
        unit_column(level).label("unit"), Organisation.code, Organisation.first_return_period
    )
    if code is not None:
        query = query.where(unit_column(level) == code)
    units: dict[str, UnitCoverage] = defaultdict(UnitCoverage)
    for unit, _organisation, first in session.connection().execute(query):
        coverage = units[unit]  # a unit whose organisations never returned is still one
        if first is not None:
            coverage.first_periods.append(first)
    if code is not None and code not in units:
        raise NotFound(f"There is no {level} '{code}'.")
    for coverage in units.values():
        coverage.first_periods.sort()
    return dict(units)


def _count_returns(
    session: Session,
    units: dict[str, UnitCoverage],
    level: Level,
    *filters: ColumnElement[bool],
) -> None:
    """Fill in the units' returns (and the window's) in the months ``filters`` select."""
    window = [UnitTotal.staff_group == ALL_GROUPS, *filters]
    if level == "system":
        counts = select(
            literal(SYSTEM_CODE),
            UnitTotal.period,
            func.sum(UnitTotal.returned),
            func.sum(UnitTotal.window_returned),
        )
        counts = counts.where(UnitTotal.level == "place", *window).group_by(UnitTotal.period)
    else:
        counts = select(
            UnitTotal.code, UnitTotal.period, UnitTotal.returned, UnitTotal.window_returned
        )
        counts = counts.where(UnitTotal.level == level, *window)
    for unit, period, returned, window_returned in session.connection().execute(counts):
        if unit in units:
            units[unit].returned[period] = int(returned)
            units[unit].window_returned[period] = int(window_returned)


def _check_access(principal: Principal, level: Level, code: str | None) -> str | None:
    """A bound token without ``read`` sees only its own organisation."""
    if principal.has(Scope.READ):
        return code
    if principal.organisation is None:
        raise Forbidden("This token lacks the 'read' scope.")
    if level != "organisation" or (code is not None and code != principal.organisation):
        raise Forbidden(
            f"This token may read the metrics of organisation {principal.organisation} only."
        )
    return principal.organisation


def check_staff_group(session: Session, staff_group: str | None) -> None:
    if staff_group is not None and session.get(StaffGroup, staff_group) is None:
        raise ValidationFailed(
            f"Unknown staff group '{staff_group}'.",
            errors=[field_error(("staff_group",), f"unknown staff group '{staff_group}'")],
        )


def latest_period(session: Session) -> str | None:
    return session.scalar(select(func.max(Return.period)).where(Return.latest_revision > 0))


def metrics(
    session: Session,
    *,
    principal: Principal,
    level: Level,
    period: str | None,
    staff_group: str | None,
    code: str | None = None,
) -> list[MetricItem]:
    """Every unit of ``level`` in ``period`` (default: the latest complete month), by staff
    group and for all groups; a unit without returns in the month has an item for all
    groups with null figures and a note saying so."""
    code = _check_access(principal, level, code)
    period = period or latest_complete_period(session)
    if period is None:
        return []
    units = _units(session, level, code)
    filters = [UnitTotal.period == period]
    if code is not None and level != "system":
        filters.append(UnitTotal.code == code)
    _count_returns(session, units, level, *filters)
    # Months of the window only for the units that missed one.
    short = [unit for unit, coverage in units.items() if coverage.short(period)]
    if short:
        window = UnitTotal.period.between(add_months(period, -(WINDOW - 1)), period)
        scope = [] if level == "system" else [UnitTotal.code.in_(short)]
        _count_returns(session, units, level, window, *scope)
    if staff_group is not None:
        filters.append(UnitTotal.staff_group == staff_group)
    query = _measures(level, *filters).order_by(
        "code", case((UnitTotal.staff_group == ALL_GROUPS, 0), else_=1), UnitTotal.staff_group
    )
    rows: list[Sequence[Any]] = [
        row for row in session.connection().execute(query).all() if row[0] in units
    ]
    if staff_group is None:
        # A unit with nothing in the month's window has no row: say so, in its place.
        present = {row[0] for row in rows}
        rows += [(unit, ALL_GROUPS, period, *NOTHING) for unit in units if unit not in present]
        rows.sort(key=lambda row: row[0])  # stable: each unit's rows keep their order
    counts = organisation_counts(session, level, code, period, period)
    return _items(level, rows, units, counts)


def series(
    session: Session,
    *,
    principal: Principal,
    level: Level,
    code: str,
    staff_group: str | None,
    first: str,
    last: str,
) -> list[MetricItem]:
    """One unit's measures month by month (a month without returns has null figures)."""
    code = _check_access(principal, level, code) or code
    units = _units(session, level, code)  # refuses an unknown unit
    filters = [
        UnitTotal.staff_group == (staff_group or ALL_GROUPS),
        UnitTotal.period.between(first, last),
    ]
    if level != "system":
        filters.append(UnitTotal.code == code)
    rows = {row.period: row for row in session.connection().execute(_measures(level, *filters))}
    scope = [] if level == "system" else [UnitTotal.code == code]
    window = UnitTotal.period.between(add_months(first, -(WINDOW - 1)), last)
    _count_returns(session, units, level, window, *scope)
    group = staff_group or ALL_GROUPS
    counts = organisation_counts(session, level, code, first, last)
    return _items(
        level,
        (
            rows.get(period) or (code, group, period, *NOTHING)
            for period in period_range(first, last)
        ),
        units,
        counts,
    )
