"""From stored returns, pools, targets and a scenario to the data a plan is solved with.

The starting state of each organisation and staff group is its latest return at or before
the plan's start (the base month); turnover and starters come from the 12 months ending
at the base month, and so does the system's history that the rolling turnover trajectory
reaches back into. A month an organisation did not return is carried forward from its
previous return, and the plan says so.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.bank.models import BankPool
from app.errors import FieldError, ValidationFailed, field_error
from app.organisations.models import Organisation, StaffGroup
from app.periods import add_months, month_index, period_range
from app.plans.schemas import PlanRequest
from app.returns.models import Return, ReturnLine, ReturnRevision
from app.targets.models import Target
from optimiser.problem import MAX_TARGET_MONTH

WINDOW_MONTHS = 12


@dataclass
class UnitData:
    """One organisation's staff group at the base month, with its last 12 months."""

    organisation: str
    staff_group: str
    establishment_wte: float
    staff_in_post_wte: float
    bank_wte: float
    agency_wte: float
    turnover_rate: float  # annual: leavers over the window / mean staff in post
    starters_per_month: float  # mean over the window, before the pipeline factor
    agency_spend_gbp: float | None  # in the base month, where reported


@dataclass
class GatheredInputs:
    base_period: str
    organisations: list[dict[str, str]]
    staff_groups: list[dict[str, Any]]
    units: list[UnitData]
    pools: list[dict[str, Any]]
    notes: list[dict[str, Any]] = field(default_factory=list)
    synthetic: bool = False
    # The system's leavers and staff in post of each month s = -11..0 (0 the base month).
    history: list[dict[str, float | int]] = field(default_factory=list)


def _scenario_error(path: tuple[str | int, ...], message: str) -> FieldError:
    return field_error(("scenario", *path), message)


def _latest_lines(
    session: Session, *, organisations: list[str], first: str, last: str
) -> dict[tuple[str, str], dict[str, ReturnLine]]:
    """(organisation, period) -> staff group -> line of the latest revision."""
    rows = session.execute(
        select(Return.organisation_code, Return.period, ReturnLine)
        .join(ReturnRevision, ReturnRevision.return_id == Return.id)
        .join(ReturnLine, ReturnLine.revision_id == ReturnRevision.id)
        .where(
            ReturnRevision.revision == Return.latest_revision,
            Return.organisation_code.in_(organisations),
            Return.period >= first,
            Return.period <= last,
        )
    ).all()
    lines: dict[tuple[str, str], dict[str, ReturnLine]] = defaultdict(dict)
    for organisation, period, line in rows:
        lines[organisation, period][line.staff_group] = line
    return lines


def gather(session: Session, *, request: PlanRequest) -> GatheredInputs:
    """Everything the plan needs from the database, checked against the scenario: the
    organisations, staff groups and pools the scenario names, the base month, each
    organisation's last 12 months with missing ones carried forward, the units, the
    pools' capacity by month and the system's history before the horizon."""
    problems: list[FieldError] = []
    places, chosen = _organisations(session, request=request, problems=problems)
    groups = _staff_groups(session, request=request, problems=problems)
    pools = _pools(session, request=request, problems=problems)
    _check_target_period(request, problems)
    base_period = _base_period(session, request=request, chosen=chosen, problems=problems)
    if problems:
        raise ValidationFailed(f"{len(problems)} problem(s) in the plan request.", errors=problems)
    assert base_period is not None

    window = list(period_range(add_months(base_period, -(WINDOW_MONTHS - 1)), base_period))
    notes: list[dict[str, Any]] = []
    if base_period != request.start:
        notes.append(
            {
                "kind": "base_period",
                "message": f"No returns for {request.start}; the starting state is taken "
                f"from {base_period}.",
            }
        )
    synthetic = _synthetic(session, chosen=chosen, window=window)
    if synthetic:
        notes.append(
            {
                "kind": "synthetic",
                "message": "Built from synthetic demo returns, not from real organisations' data.",
            }
        )
    filled = _carry_forward(session, chosen=chosen, window=window, notes=notes)
    units = _units(chosen=chosen, window=window, filled=filled)
    return GatheredInputs(
        base_period=base_period,
        organisations=[{"code": o, "place": places[o]} for o in chosen],
        staff_groups=[
            {"code": g, "counts_as_nursing": groups[g]}
            for g in sorted({u.staff_group for u in units})
        ],
        units=units,
        pools=_pool_capacity(pools, request=request),
        notes=notes,
        synthetic=synthetic,
        history=_history(units=units, window=window, filled=filled),
    )


def _organisations(
    session: Session, *, request: PlanRequest, problems: list[FieldError]
) -> tuple[dict[str, str], list[str]]:
    """Every organisation's place, and the plan's organisations: the scenario's, each
    known and with a return at or before the start, or all with such a return."""
    scenario = request.scenario
    known = {
        o.code: o.place for o in session.scalars(select(Organisation).order_by(Organisation.code))
    }
    with_returns = set(
        session.scalars(
            select(Return.organisation_code)
            .where(Return.period <= request.start, Return.latest_revision > 0)
            .distinct()
        )
    )
    if scenario.organisations is None:
        return known, sorted(with_returns)
    for index, code in enumerate(scenario.organisations):
        if code not in known:
            problems.append(
                _scenario_error(("organisations", index), f"unknown organisation '{code}'")
            )
        elif code not in with_returns:
            problems.append(
                _scenario_error(
                    ("organisations", index),
                    f"'{code}' has no return at or before {request.start}",
                )
            )
    return known, sorted(set(scenario.organisations))


def _staff_groups(
    session: Session, *, request: PlanRequest, problems: list[FieldError]
) -> dict[str, bool]:
    """Whether each staff group counts as nursing; the scenario's by-group keys checked."""
    groups = {
        g.code: g.counts_as_nursing
        for g in session.scalars(select(StaffGroup).order_by(StaffGroup.code))
    }
    for key in (
        "establishment_growth",
        "agency_cost_per_wte_month",
        "unfilled_penalty_per_wte_month",
        "turnover_sensitivity",
    ):
        for group in getattr(request.scenario, key) or {}:
            if group not in groups:
                problems.append(_scenario_error((key, group), f"unknown staff group '{group}'"))
    return groups


def _pools(
    session: Session, *, request: PlanRequest, problems: list[FieldError]
) -> dict[str, BankPool]:
    """The stored pools by code; the scenario's pool keys checked."""
    scenario = request.scenario
    pools = {p.code: p for p in session.scalars(select(BankPool).order_by(BankPool.code))}
    for index, code in enumerate(scenario.pools or []):
        if code not in pools:
            problems.append(_scenario_error(("pools", index), f"unknown bank pool '{code}'"))
    for code in scenario.pool_capacity_wte or {}:
        if code not in pools:
            problems.append(
                _scenario_error(("pool_capacity_wte", code), f"unknown bank pool '{code}'")
            )
    if scenario.pools is not None:
        return {code: pools[code] for code in sorted(set(scenario.pools)) if code in pools}
    return pools


def _check_target_period(request: PlanRequest, problems: list[FieldError]) -> None:
    """The target month may lie beyond the horizon (a trajectory then ends part-way),
    but not before its start nor further than the optimiser takes."""
    target = request.scenario.target_period
    if target is None:
        return
    month = horizon_index(request.start, target)
    if not 1 <= month <= MAX_TARGET_MONTH:
        last = add_months(request.start, MAX_TARGET_MONTH - 1)
        problems.append(
            _scenario_error(("target_period",), f"{target} must be from {request.start} to {last}")
        )


def _base_period(
    session: Session, *, request: PlanRequest, chosen: list[str], problems: list[FieldError]
) -> str | None:
    """The latest month at or before the start with a return of a chosen organisation."""
    base_period = session.scalar(
        select(func.max(Return.period)).where(
            Return.period <= request.start,
            Return.latest_revision > 0,
            Return.organisation_code.in_(chosen),
        )
    )
    if base_period is None:
        first_ever = session.scalar(select(func.min(Return.period)))
        why = f"no returns at or before {request.start}" + (
            f"; the first return is for {first_ever}" if first_ever else "; there are none"
        )
        problems.append(field_error(("start",), why))
    return base_period


def _synthetic(session: Session, *, chosen: list[str], window: list[str]) -> bool:
    """Whether any return the plan reads is synthetic."""
    return bool(
        session.scalar(
            select(func.count())
            .select_from(Return)
            .join(ReturnRevision, ReturnRevision.return_id == Return.id)
            .where(
                ReturnRevision.revision == Return.latest_revision,
                ReturnRevision.synthetic.is_(True),
                Return.organisation_code.in_(chosen),
                Return.period >= window[0],
                Return.period <= window[-1],
            )
        )
    )


Lines = dict[tuple[str, str], dict[str, ReturnLine]]


def _carry_forward(
    session: Session, *, chosen: list[str], window: list[str], notes: list[dict[str, Any]]
) -> Lines:
    """Each organisation's lines for each month of the window, a month it did not return
    carried forward from its previous return (however old), with a note for each."""
    lines = _latest_lines(session, organisations=chosen, first=window[0], last=window[-1])
    filled: Lines = {}
    for organisation in chosen:
        previous: tuple[str, dict[str, ReturnLine]] | None = None
        for period in window:
            found = lines.get((organisation, period))
            if found is not None:
                previous = (period, found)
                filled[organisation, period] = found
                continue
            if previous is None:
                previous = _last_before(session, organisation=organisation, period=period)
            if previous is not None:
                filled[organisation, period] = previous[1]
                notes.append(
                    {
                        "kind": "missing_return",
                        "organisation": organisation,
                        "period": period,
                        "filled_from": previous[0],
                        "message": f"{organisation} has no return for {period}; "
                        f"carried forward from {previous[0]}.",
                    }
                )
    return filled


def _units(*, chosen: list[str], window: list[str], filled: Lines) -> list[UnitData]:
    """Each organisation's staff groups at the base month (the window's last), with
    turnover and starters over the months of the window it has figures for."""
    units: list[UnitData] = []
    base_period = window[-1]
    for organisation in chosen:
        base = filled.get((organisation, base_period))
        if base is None:
            continue
        months_present = [filled[organisation, p] for p in window if (organisation, p) in filled]
        for group, line in sorted(base.items()):
            if line.establishment_wte == 0 and line.staff_in_post_wte == 0:
                continue
            history = [m[group] for m in months_present if group in m]
            mean_staff = sum(float(h.staff_in_post_wte) for h in history) / len(history)
            leavers = sum(float(h.leavers_wte) for h in history)
            starters = sum(float(h.starters_wte) for h in history)
            units.append(
                UnitData(
                    organisation=organisation,
                    staff_group=group,
                    establishment_wte=float(line.establishment_wte),
                    staff_in_post_wte=float(line.staff_in_post_wte),
                    bank_wte=float(line.bank_wte),
                    agency_wte=float(line.agency_wte),
                    turnover_rate=(leavers * 12 / len(history) / mean_staff) if mean_staff else 0.0,
                    starters_per_month=starters / len(history),
                    agency_spend_gbp=float(line.agency_spend_gbp)
                    if line.agency_spend_gbp is not None
                    else None,
                )
            )
    return units


def _history(
    *, units: list[UnitData], window: list[str], filled: Lines
) -> list[dict[str, float | int]]:
    """The system's leavers and staff in post in each month of the window, over the
    plan's units only (its organisations and staff groups), with missing returns carried
    forward as for the units. Month 0 is the base month, -11 the first of the window; a
    month for which no unit has figures (before any return) is left out."""
    history: list[dict[str, float | int]] = []
    for index, period in enumerate(window):
        present = [
            filled[u.organisation, period][u.staff_group]
            for u in units
            if u.staff_group in filled.get((u.organisation, period), {})
        ]
        if not present:
            continue
        history.append(
            {
                "month": index - (len(window) - 1),
                "leavers_wte": round(sum(float(line.leavers_wte) for line in present), 4),
                "staff_in_post_wte": round(
                    sum(float(line.staff_in_post_wte) for line in present), 4
                ),
            }
        )
    return history


def _pool_capacity(pools: dict[str, BankPool], *, request: PlanRequest) -> list[dict[str, Any]]:
    """Each pool's capacity for every month of the horizon: the scenario's override, an
    admin's explicit capacity for the month, or the stored capacity grown monthly."""
    overrides = request.scenario.pool_capacity_wte or {}
    last = add_months(request.start, request.months - 1)
    rows = []
    for code, pool in sorted(pools.items()):
        explicit = {c.period: c.wte for c in pool.capacities}
        growth = float(pool.monthly_growth_rate or Decimal(0))
        capacity = []
        for t, period in enumerate(period_range(request.start, last)):
            if code in overrides:
                capacity.append(float(overrides[code]))
            elif period in explicit:
                capacity.append(float(explicit[period]))
            else:
                capacity.append(round(float(pool.capacity_wte) * (1 + growth) ** t, 4))
        rows.append(
            {
                "code": code,
                "home_place": pool.home_place,
                "covers": [c.staff_group for c in pool.covers],
                "cost_per_wte_month": float(pool.cost_per_wte_month),
                "capacity_wte": capacity,
            }
        )
    return rows


def _last_before(
    session: Session, *, organisation: str, period: str
) -> tuple[str, dict[str, ReturnLine]] | None:
    """The organisation's latest return before ``period``, however old."""
    found = session.scalar(
        select(func.max(Return.period)).where(
            Return.organisation_code == organisation,
            Return.period < period,
            Return.latest_revision > 0,
        )
    )
    if found is None:
        return None
    return found, _latest_lines(session, organisations=[organisation], first=found, last=found)[
        organisation, found
    ]


def horizon_index(start: str, period: str) -> int:
    """t of ``period`` in a horizon starting at ``start`` (1-based)."""
    return month_index(period) - month_index(start) + 1


# The HIOW commitments, used when the targets table holds no row for one.
DEFAULT_TARGETS = {
    "nursing_capacity_growth": 0.05,
    "turnover_rate": 0.12,
    "agency_reduction": 0.10,
}


def stored_targets(session: Session) -> dict[str, float]:
    """The stored targets' values by code, the HIOW commitments where none is stored."""
    stored = {t.code: float(t.value) for t in session.scalars(select(Target))}
    return {code: stored.get(code, default) for code, default in DEFAULT_TARGETS.items()}
