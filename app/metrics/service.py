"""Workforce measures from the latest revision of each return (``latest_lines``),
aggregated by the database.

Sums are grouped in SQL by unit and staff group; rates are computed from the sums. A
month an organisation did not return is never counted as zero: it is left out, listed
in ``missing_periods``, and rates over the window come from the months present.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, case, func, literal, select
from sqlalchemy.orm import Session

from app.auth import Principal, Scope
from app.errors import Forbidden, NotFound, ValidationFailed, field_error
from app.metrics.schemas import Level, MetricItem
from app.organisations.models import Organisation, StaffGroup
from app.periods import add_months, period_range
from app.returns.models import LatestLine, Return

SYSTEM_CODE = "HIOW"
WINDOW = 12
POINT_FIELDS = (
    "staff_in_post_wte",
    "establishment_wte",
    "vacancy_wte",
    "starters_wte",
    "bank_wte",
    "agency_wte",
)


def unit_column(level: Level) -> Any:
    if level == "system":
        return literal(SYSTEM_CODE)
    if level == "place":
        return Organisation.place
    return Organisation.code


def _latest(*columns: Any) -> Any:
    """SELECT over the latest revision's lines, with the organisation and staff group."""
    return (
        select(*columns)
        .select_from(LatestLine)
        .join(Organisation, Organisation.code == LatestLine.organisation_code)
        .join(StaffGroup, StaffGroup.code == LatestLine.staff_group)
    )


@dataclass
class Sums:
    values: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    spend_reported: int = 0
    synthetic: bool = False

    def add(self, other: Sums) -> None:
        for key, value in other.values.items():
            self.values[key] += value
        self.spend_reported += other.spend_reported
        self.synthetic = self.synthetic or other.synthetic


def _sum_columns(month: str | None = None) -> list[Any]:
    """Sums of the line fields; with ``month``, of that month's lines only (the rest of
    the rows then count only in the window sums, ``window_*``)."""

    def only(value: Any) -> Any:
        return value if month is None else case((LatestLine.period == month, value), else_=None)

    nursing = StaffGroup.counts_as_nursing.is_(True)
    columns = [
        *(func.sum(only(getattr(LatestLine, name))).label(name) for name in POINT_FIELDS),
        func.sum(only(LatestLine.leavers_wte)).label("leavers_wte"),
        func.sum(
            only(
                func.coalesce(LatestLine.bank_spend_gbp, 0)
                + func.coalesce(LatestLine.agency_spend_gbp, 0)
            )
        ).label("spend"),
        func.count(only(LatestLine.bank_spend_gbp)).label("bank_spend_reported"),
        func.count(only(LatestLine.agency_spend_gbp)).label("agency_spend_reported"),
        func.sum(
            only(
                case(
                    (
                        nursing,
                        LatestLine.staff_in_post_wte + LatestLine.bank_wte + LatestLine.agency_wte,
                    ),
                    else_=0,
                )
            )
        ).label("nursing_capacity_wte"),
        func.max(case((LatestLine.synthetic.is_(True), 1), else_=0)).label("synthetic"),
    ]
    if month is not None:
        columns += [
            func.sum(LatestLine.leavers_wte).label("window_leavers_wte"),
            func.sum(LatestLine.staff_in_post_wte).label("window_staff_in_post_wte"),
        ]
    return columns


def _sums(row: Any) -> Sums:
    sums = Sums()
    for name in (*POINT_FIELDS, "leavers_wte", "spend", "nursing_capacity_wte"):
        sums.values[name] = float(getattr(row, name) or 0)
    sums.spend_reported = int(row.bank_spend_reported) + int(row.agency_spend_reported)
    sums.synthetic = bool(row.synthetic)
    return sums


def _ratio(numerator: float, denominator: float, digits: int = 4) -> float | None:
    return round(numerator / denominator, digits) if denominator > 0 else None


@dataclass
class UnitCoverage:
    """Which months a unit's organisations returned, counted per month."""

    first_periods: list[str]  # sorted: each organisation's first return
    returned: Counter[str]  # period -> organisations with a return

    def expected(self, period: str) -> int:
        """Organisations returning by ``period`` (from their first return on)."""
        return bisect_right(self.first_periods, period)

    def covered(self, period: str) -> int:
        return self.returned[period]

    def missing(self, periods: Sequence[str]) -> list[str]:
        return [p for p in periods if self.returned[p] < self.expected(p)]

    def months_short(self, periods: Sequence[str]) -> bool:
        """Whether the window lacks any month of an organisation returning by its end."""
        present = sum(self.returned[p] for p in periods)
        return present < self.expected(periods[-1]) * len(periods)


def _coverage(
    session: Session, *, level: Level, code: str | None, first: str, last: str
) -> dict[str, UnitCoverage]:
    """Per unit: its organisations' first returns, and how many returned each month of
    ``first``..``last``, counted by the database."""
    unit = unit_column(level).label("unit")
    returning = Return.latest_revision > 0
    scope = [unit_column(level) == code] if code is not None and level != "system" else []
    firsts: dict[str, list[str]] = defaultdict(list)
    for unit_code, first_period in session.execute(
        select(unit, func.min(Return.period))
        .join(Organisation, Organisation.code == Return.organisation_code)
        .where(returning, *scope)
        .group_by(unit, Return.organisation_code)
    ):
        firsts[unit_code].append(first_period)
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for unit_code, period, count in session.execute(
        select(unit, Return.period, func.count())
        .join(Organisation, Organisation.code == Return.organisation_code)
        .where(returning, Return.period >= first, Return.period <= last, *scope)
        .group_by(unit, Return.period)
    ):
        counts[unit_code][period] = count
    return {
        unit_code: UnitCoverage(first_periods=sorted(periods), returned=counts[unit_code])
        for unit_code, periods in firsts.items()
    }


def _members(session: Session, level: Level, code: str | None) -> dict[str, list[str]]:
    """The organisations of each unit of ``level`` (only ``code`` when given)."""
    query = select(unit_column(level).label("unit"), Organisation.code)
    if code is not None:
        query = query.where(unit_column(level) == code)
    members: dict[str, list[str]] = defaultdict(list)
    for unit, organisation in session.execute(query.order_by(Organisation.code)):
        members[unit].append(organisation)
    if code is not None and code not in members:
        raise NotFound(f"There is no {level} '{code}'.")
    return members


def _item(
    *,
    level: Level,
    code: str,
    staff_group: str | None,
    period: str,
    point: Sums,
    window: Sums,
    coverage: UnitCoverage,
    window_periods: Sequence[str],
) -> MetricItem:
    v = point.values
    missing = coverage.missing(window_periods)
    worked = v["staff_in_post_wte"] + v["bank_wte"] + v["agency_wte"]
    staff_months = window.values["staff_in_post_wte"]
    return MetricItem(
        level=level,
        code=code,
        staff_group=staff_group,
        period=period,
        staff_in_post_wte=round(v["staff_in_post_wte"], 2),
        establishment_wte=round(v["establishment_wte"], 2),
        vacancy_wte=round(v["vacancy_wte"], 2),
        vacancy_rate=_ratio(v["vacancy_wte"], v["establishment_wte"]),
        # Leavers per staff-month present, times 12: with every month present this is
        # leavers over the 12 months / mean staff in post.
        turnover_rate_12m=_ratio(12 * window.values["leavers_wte"], staff_months),
        turnover_annualised=coverage.months_short(window_periods),
        starters_wte=round(v["starters_wte"], 2),
        leavers_wte=round(v["leavers_wte"], 2),
        bank_wte=round(v["bank_wte"], 2),
        agency_wte=round(v["agency_wte"], 2),
        temporary_staffing_share=_ratio(v["bank_wte"] + v["agency_wte"], worked),
        temporary_staffing_spend_gbp=round(v["spend"], 2) if point.spend_reported else None,
        nursing_capacity_wte=round(v["nursing_capacity_wte"], 2),
        missing_periods=missing,
        organisations_covered=coverage.covered(period),
        organisations_expected=coverage.expected(period),
        synthetic=point.synthetic or window.synthetic,
    )


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
    """Every unit of ``level`` in ``period`` (default: the latest with returns), by staff
    group and for all groups."""
    code = _check_access(principal, level, code)
    period = period or latest_period(session)
    if period is None:
        return []
    members = _members(session, level, code)
    first = add_months(period, -(WINDOW - 1))
    unit = unit_column(level).label("unit")
    # Every organisation is in some unit: only a single unit needs a filter.
    filters: list[ColumnElement[bool]] = (
        [unit_column(level) == code] if code is not None and level != "system" else []
    )
    if staff_group is not None:
        filters.append(LatestLine.staff_group == staff_group)
    # One pass over the window: the month's sums and the window's, side by side.
    rows = session.execute(
        _latest(unit, LatestLine.staff_group, *_sum_columns(period))
        .where(LatestLine.period >= first, LatestLine.period <= period, *filters)
        .group_by(unit, LatestLine.staff_group)
    ).all()
    coverage = _coverage(session, level=level, code=code, first=first, last=period)
    window_periods = list(period_range(first, period))
    nobody = UnitCoverage(first_periods=[], returned=Counter())

    point: dict[tuple[str, str | None], Sums] = defaultdict(Sums)
    window: dict[tuple[str, str | None], Sums] = defaultdict(Sums)
    for row in rows:
        month, whole = _sums(row), Sums()
        whole.values["leavers_wte"] = float(row.window_leavers_wte or 0)
        whole.values["staff_in_post_wte"] = float(row.window_staff_in_post_wte or 0)
        whole.synthetic = month.synthetic
        for key in ((row.unit, row.staff_group), (row.unit, None)):
            if key[1] is None and staff_group is not None:
                continue
            point[key].add(month)
            window[key].add(whole)
    keys = sorted(set(point), key=lambda k: (k[0], k[1] is not None, k[1] or ""))
    if staff_group is not None:
        keys = [k for k in keys if k[1] == staff_group]
    return [
        _item(
            level=level,
            code=unit_code,
            staff_group=group,
            period=period,
            point=point[unit_code, group],
            window=window[unit_code, group],
            coverage=coverage.get(unit_code, nobody),
            window_periods=window_periods,
        )
        for unit_code, group in keys
        if unit_code in members
    ]


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
    """One unit's measures month by month: sums grouped by month in the database, the
    12-month windows rolled up here from those monthly sums."""
    code = _check_access(principal, level, code) or code
    _members(session, level, code)  # refuses an unknown unit
    start = add_months(first, -(WINDOW - 1))
    filters: list[ColumnElement[bool]] = [LatestLine.period >= start, LatestLine.period <= last]
    if level != "system":
        filters.append(unit_column(level) == code)
    if staff_group is not None:
        filters.append(LatestLine.staff_group == staff_group)
    rows = session.execute(
        _latest(LatestLine.period, *_sum_columns()).where(*filters).group_by(LatestLine.period)
    ).all()
    monthly = {row.period: _sums(row) for row in rows}
    coverage = _coverage(session, level=level, code=code, first=start, last=last).get(
        code, UnitCoverage(first_periods=[], returned=Counter())
    )
    items = []
    for period in period_range(first, last):
        window = Sums()
        for month in period_range(add_months(period, -(WINDOW - 1)), period):
            if month in monthly:
                window.add(monthly[month])
        items.append(
            _item(
                level=level,
                code=code,
                staff_group=staff_group,
                period=period,
                point=monthly.get(period, Sums()),
                window=window,
                coverage=coverage,
                window_periods=list(period_range(add_months(period, -(WINDOW - 1)), period)),
            )
        )
    return items
