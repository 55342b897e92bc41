"""Workforce measures from the latest revision of each return, aggregated by the database.

Sums are grouped in SQL by unit and staff group; rates are computed from the sums. A
month an organisation did not return is never counted as zero: it is left out, listed
in ``missing_periods``, and rates over the window come from the months present.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, select
from sqlalchemy.orm import Session

from app.auth import Principal, Scope
from app.errors import Forbidden, NotFound
from app.metrics.schemas import Level, MetricItem
from app.organisations.models import Organisation, StaffGroup
from app.periods import add_months, period_range
from app.returns.models import Return, ReturnLine, ReturnRevision

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
        .select_from(Return)
        .join(
            ReturnRevision,
            and_(
                ReturnRevision.return_id == Return.id,
                ReturnRevision.revision == Return.latest_revision,
            ),
        )
        .join(ReturnLine, ReturnLine.revision_id == ReturnRevision.id)
        .join(Organisation, Organisation.code == Return.organisation_code)
        .join(StaffGroup, StaffGroup.code == ReturnLine.staff_group)
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


def _sum_columns() -> list[Any]:
    nursing = StaffGroup.counts_as_nursing.is_(True)
    return [
        *(func.sum(getattr(ReturnLine, name)).label(name) for name in POINT_FIELDS),
        func.sum(ReturnLine.leavers_wte).label("leavers_wte"),
        func.sum(
            func.coalesce(ReturnLine.bank_spend_gbp, 0)
            + func.coalesce(ReturnLine.agency_spend_gbp, 0)
        ).label("spend"),
        func.count(ReturnLine.bank_spend_gbp).label("bank_spend_reported"),
        func.count(ReturnLine.agency_spend_gbp).label("agency_spend_reported"),
        func.sum(
            case(
                (
                    nursing,
                    ReturnLine.staff_in_post_wte + ReturnLine.bank_wte + ReturnLine.agency_wte,
                ),
                else_=0,
            )
        ).label("nursing_capacity_wte"),
        func.max(case((ReturnRevision.synthetic.is_(True), 1), else_=0)).label("synthetic"),
    ]


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
class Coverage:
    """Which organisations returned which months, for the missing-month accounting."""

    first_period: dict[str, str]  # organisation -> its first return
    returned: set[tuple[str, str]]  # (organisation, period)

    def expected(self, organisations: Iterable[str], period: str) -> list[str]:
        return [o for o in organisations if self.first_period.get(o, "9999-99") <= period]

    def missing(self, organisations: Sequence[str], periods: Iterable[str]) -> list[str]:
        return [
            p
            for p in periods
            if any((o, p) not in self.returned for o in self.expected(organisations, p))
        ]

    def months_short(self, organisations: Sequence[str], periods: Sequence[str]) -> bool:
        """Whether the window lacks any month of an organisation returning by its end."""
        expected = self.expected(organisations, periods[-1])
        present = sum((o, p) in self.returned for o in expected for p in periods)
        return present < len(expected) * len(periods)

    def covered(self, organisations: Iterable[str], period: str) -> int:
        return sum((o, period) in self.returned for o in organisations)


def _coverage(session: Session, *, organisations: Sequence[str], first: str, last: str) -> Coverage:
    returning = Return.latest_revision > 0
    firsts = dict(
        session.execute(
            select(Return.organisation_code, func.min(Return.period))
            .where(returning, Return.organisation_code.in_(organisations))
            .group_by(Return.organisation_code)
        ).all()
    )
    returned = {
        (organisation, period)
        for organisation, period in session.execute(
            select(Return.organisation_code, Return.period).where(
                returning,
                Return.organisation_code.in_(organisations),
                Return.period >= first,
                Return.period <= last,
            )
        )
    }
    return Coverage(first_period=firsts, returned=returned)


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
    members: Sequence[str],
    coverage: Coverage,
) -> MetricItem:
    v = point.values
    window_periods = list(period_range(add_months(period, -(WINDOW - 1)), period))
    missing = coverage.missing(members, window_periods)
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
        turnover_annualised=coverage.months_short(members, window_periods),
        starters_wte=round(v["starters_wte"], 2),
        leavers_wte=round(v["leavers_wte"], 2),
        bank_wte=round(v["bank_wte"], 2),
        agency_wte=round(v["agency_wte"], 2),
        temporary_staffing_share=_ratio(v["bank_wte"] + v["agency_wte"], worked),
        temporary_staffing_spend_gbp=round(v["spend"], 2) if point.spend_reported else None,
        nursing_capacity_wte=round(v["nursing_capacity_wte"], 2),
        missing_periods=missing,
        organisations_covered=coverage.covered(members, period),
        organisations_expected=len(coverage.expected(members, period)),
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
        filters.append(ReturnLine.staff_group == staff_group)
    point_rows = session.execute(
        _latest(unit, ReturnLine.staff_group, *_sum_columns())
        .where(Return.period == period, *filters)
        .group_by(unit, ReturnLine.staff_group)
    ).all()
    window_rows = session.execute(
        _latest(unit, ReturnLine.staff_group, *_sum_columns())
        .where(Return.period >= first, Return.period <= period, *filters)
        .group_by(unit, ReturnLine.staff_group)
    ).all()
    coverage = _coverage(
        session, organisations=[o for m in members.values() for o in m], first=first, last=period
    )

    point: dict[tuple[str, str | None], Sums] = defaultdict(Sums)
    window: dict[tuple[str, str | None], Sums] = defaultdict(Sums)
    for rows, target in ((point_rows, point), (window_rows, window)):
        for row in rows:
            sums = _sums(row)
            target[row.unit, row.staff_group] = sums
            if staff_group is None:
                target[row.unit, None].add(sums)
    keys = sorted(set(point) | set(window), key=lambda k: (k[0], k[1] is not None, k[1] or ""))
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
            members=members[unit_code],
            coverage=coverage,
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
    members = _members(session, level, code)[code]
    start = add_months(first, -(WINDOW - 1))
    filters: list[ColumnElement[bool]] = [
        Return.organisation_code.in_(members),
        Return.period >= start,
        Return.period <= last,
    ]
    if staff_group is not None:
        filters.append(ReturnLine.staff_group == staff_group)
    rows = session.execute(
        _latest(Return.period, *_sum_columns()).where(*filters).group_by(Return.period)
    ).all()
    monthly = {row.period: _sums(row) for row in rows}
    coverage = _coverage(session, organisations=members, first=start, last=last)
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
                members=members,
                coverage=coverage,
            )
        )
    return items
