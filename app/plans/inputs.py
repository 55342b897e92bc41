"""From stored returns, pools, targets and a scenario to the data a plan is solved with.

The starting state of each organisation and staff group is its latest return at or before
the plan's start (the base month); turnover and starters come from the 12 months ending
at the base month. A month an organisation did not return is carried forward from its
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
    """Everything the plan needs from the database, checked against the scenario."""
    scenario = request.scenario
    problems: list[FieldError] = []

    known_organisations = {
        o.code: o.place for o in session.scalars(select(Organisation).order_by(Organisation.code))
    }
    with_returns = set(
        session.scalars(
            select(Return.organisation_code)
            .where(Return.period <= request.start, Return.latest_revision > 0)
            .distinct()
        )
    )
    if scenario.organisations is not None:
        for index, code in enumerate(scenario.organisations):
            if code not in known_organisations:
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
        chosen = sorted(set(scenario.organisations))
    else:
        chosen = sorted(with_returns)

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
        for group in getattr(scenario, key) or {}:
            if group not in groups:
                problems.append(_scenario_error((key, group), f"unknown staff group '{group}'"))

    pools = {p.code: p for p in session.scalars(select(BankPool).order_by(BankPool.code))}
    if scenario.pools is not None:
        for index, code in enumerate(scenario.pools):
            if code not in pools:
                problems.append(_scenario_error(("pools", index), f"unknown bank pool '{code}'"))
    for code in scenario.pool_capacity_wte or {}:
        if code not in pools:
            problems.append(
                _scenario_error(("pool_capacity_wte", code), f"unknown bank pool '{code}'")
            )

    last = add_months(request.start, request.months - 1)
    if scenario.target_period is not None and not (request.start <= scenario.target_period <= last):
        problems.append(
            _scenario_error(
                ("target_period",),
                f"{scenario.target_period} is outside the horizon {request.start} to {last}",
            )
        )

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
    if problems:
        raise ValidationFailed(f"{len(problems)} problem(s) in the plan request.", errors=problems)
    assert base_period is not None

    window = list(period_range(add_months(base_period, -(WINDOW_MONTHS - 1)), base_period))
    lines = _latest_lines(session, organisations=chosen, first=window[0], last=base_period)
    notes: list[dict[str, Any]] = []
    if base_period != request.start:
        notes.append(
            {
                "kind": "base_period",
                "message": f"No returns for {request.start}; the starting state is taken "
                f"from {base_period}.",
            }
        )

    synthetic = bool(
        session.scalar(
            select(func.count())
            .select_from(Return)
            .join(ReturnRevision, ReturnRevision.return_id == Return.id)
            .where(
                ReturnRevision.revision == Return.latest_revision,
                ReturnRevision.synthetic.is_(True),
                Return.organisation_code.in_(chosen),
                Return.period >= window[0],
                Return.period <= base_period,
            )
        )
    )
    if synthetic:
        notes.append(
            {
                "kind": "synthetic",
                "message": "Built from synthetic demo returns, not from real organisations' data.",
            }
        )

    # Carry each organisation's last return forward over the months it missed.
    filled: dict[tuple[str, str], dict[str, ReturnLine]] = {}
    for organisation in chosen:
        previous: tuple[str, dict[str, ReturnLine]] | None = None
        missing: list[str] = []
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
                missing.append(period)
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

    units: list[UnitData] = []
    for organisation in chosen:
        base = filled.get((organisation, base_period))
        if base is None:
            continue
        months_present = [filled[organisation, p] for p in window if (organisation, p) in filled]
        for group, line in sorted(base.items()):
            history = [m[group] for m in months_present if group in m]
            mean_staff = sum(float(h.staff_in_post_wte) for h in history) / len(history)
            leavers = sum(float(h.leavers_wte) for h in history)
            starters = sum(float(h.starters_wte) for h in history)
            if line.establishment_wte == 0 and line.staff_in_post_wte == 0:
                continue
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

    chosen_pools = sorted(scenario.pools) if scenario.pools is not None else sorted(pools)
    overrides = scenario.pool_capacity_wte or {}
    pool_rows = []
    for code in chosen_pools:
        pool = pools[code]
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
        pool_rows.append(
            {
                "code": code,
                "home_place": pool.home_place,
                "covers": [c.staff_group for c in pool.covers],
                "cost_per_wte_month": float(pool.cost_per_wte_month),
                "capacity_wte": capacity,
            }
        )
    return GatheredInputs(
        base_period=base_period,
        organisations=[{"code": o, "place": known_organisations[o]} for o in chosen],
        staff_groups=[
            {"code": g, "counts_as_nursing": groups[g]}
            for g in sorted({u.staff_group for u in units})
        ],
        units=units,
        pools=pool_rows,
        notes=notes,
        synthetic=synthetic,
    )


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
