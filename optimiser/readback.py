"""A solved model read back in named steps: cost, allocations, projections, the system
by month, targets, and prices. Each step takes the model and the solution arrays and
returns plain data (``docs/model.md``, "What a plan reports")."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optimiser import model as lp
from optimiser.periods import add_months
from optimiser.problem import HISTORY_MONTHS
from optimiser.result import Cost, TargetOutcome

FloatArray = lp.FloatArray
ZERO_WTE = 0.005  # half a hundredth of a WTE: what the reports round to nothing
HUNDREDTHS = 100


def _r(value: float) -> float:
    return round(float(value), 2) + 0.0  # + 0.0: never -0.0


def periods(model: lp.Model) -> list[str]:
    return list(_periods(model.problem.start, model.layout.months))


@functools.lru_cache(maxsize=64)
def _periods(start: str, months: int) -> tuple[str, ...]:
    return tuple(add_months(start, t) for t in range(months))


def bank_received(model: lp.Model, values: FloatArray) -> FloatArray:
    """``Σ_p x[p,o,g,t]`` per unit and month (zero for units no pool reaches)."""
    layout = model.layout
    bank = np.zeros((len(layout.units), layout.months))
    bank[layout.served] = values[layout.bank]
    return bank


def read_cost(model: lp.Model, values: FloatArray) -> Cost:
    """Bank, travel and agency (cash) apart from the unfilled penalty and WTE-months."""
    layout, data = model.layout, model.data
    sent = values[layout.sent]
    travel = float((data.route_travel[:, None] * sent).sum())
    bank_and_travel = float((data.route_cost[:, None] * sent).sum())
    unfilled = values[layout.unfilled]
    return Cost(
        bank=_r(bank_and_travel - travel),
        travel=_r(travel),
        agency=_r((data.agency_cost[:, None] * values[layout.agency]).sum()),
        unfilled_penalty=_r((data.penalty[:, None] * unfilled).sum()),
        unfilled_wte_months=_r(unfilled.sum()),
    )


def round_within_capacity(group: lp.IntArray, wte: FloatArray, capacity: FloatArray) -> lp.IntArray:
    """Hundredths of a WTE for each row, such that the rows of a group (a pool and month)
    add up to their exact total rounded, but never to more than the group's capacity:
    every row is rounded down, then the rows with the largest remainders get one more
    hundredth each until the total is reached (the largest-remainder rule). Ties go to
    the earlier row, so the same rows always round the same way."""
    exact = wte * HUNDREDTHS
    floors = np.floor(exact + 1e-9).astype(np.int64)
    remainder = exact - floors
    groups = int(group.max()) + 1 if len(group) else 0
    total = np.bincount(group, weights=exact, minlength=groups)
    ceiling = np.floor(capacity * HUNDREDTHS + 1e-6).astype(np.int64)
    target = np.minimum(np.rint(total).astype(np.int64), ceiling)
    extra = np.maximum(0, target - np.bincount(group, weights=floors, minlength=groups))
    order = np.lexsort((np.arange(len(group)), -remainder, group))
    first_of_group = np.searchsorted(group[order], np.arange(groups))
    rank = np.empty(len(group), dtype=np.int64)
    rank[order] = np.arange(len(group)) - first_of_group[group[order]]
    return floors + (rank < extra[group]).astype(np.int64)


def read_allocations(model: lp.Model, values: FloatArray) -> list[dict[str, Any]]:
    """The rows (pool, organisation, staff group, month, wte, cost) of ``x``, split back
    out of what pools send and units receive, rounded to hundredths within capacity."""
    layout, data = model.layout, model.data
    route, unit, month, wte = lp.split_bank(layout, values)
    pool = layout.route_pool[route]
    group = pool * layout.months + month
    capacity = data.capacity.ravel()
    if len(group):
        hundredths = round_within_capacity(group, wte, capacity[: int(group.max()) + 1])
    else:
        hundredths = np.zeros(0, dtype=np.int64)
    keep = hundredths > 0
    route, unit, month, hundredths = route[keep], unit[keep], month[keep], hundredths[keep]
    pools = [p.code for p in model.problem.pools]
    # In the order of (pool, organisation, staff group, period): a unit has one route
    # from each pool, so no two rows share all four.
    pool = layout.route_pool[route]
    order = np.lexsort((month, _ranks(layout.units)[unit], _ranks(pools)[pool]))
    wte = (hundredths[order] / HUNDREDTHS).tolist()
    costs = (hundredths[order] / HUNDREDTHS * data.route_cost[route[order]]).tolist()
    names = periods(model)
    return [
        {
            "pool": pools[p],
            "organisation": layout.units[u][0],
            "staff_group": layout.units[u][1],
            "period": names[t],
            "wte": w,
            "cost": _r(c),
        }
        for p, u, t, w, c in zip(
            pool[order].tolist(),
            unit[order].tolist(),
            month[order].tolist(),
            wte,
            costs,
            strict=True,
        )
    ]


def _ranks(keys: list[Any]) -> lp.IntArray:
    """Each key's place in the keys sorted."""
    ranks = np.empty(len(keys), dtype=np.int64)
    ranks[sorted(range(len(keys)), key=keys.__getitem__)] = np.arange(len(keys))
    return ranks


def read_projections(model: lp.Model, values: FloatArray) -> list[dict[str, Any]]:
    """Per organisation, staff group and month: staff in post, bank, agency, unfilled,
    leavers and the share of the gap that bank and agency fill."""
    layout, data = model.layout, model.data
    staff, leavers = values[layout.staff], values[layout.leavers]
    agency, unfilled = values[layout.agency], values[layout.unfilled]
    bank = bank_received(model, values)
    gap = data.establishment - staff
    with np.errstate(divide="ignore", invalid="ignore"):
        fill = np.round(np.minimum(1.0, (bank + agency) / gap), 4)
    figures = {
        key: (np.round(array, 2) + 0.0).tolist()  # + 0.0: never -0.0
        for key, array in (
            ("staff_in_post_wte", staff),
            ("bank_wte", bank),
            ("agency_wte", agency),
            ("unfilled_wte", unfilled),
            ("leavers_wte", leavers),
        )
    }
    fill_rate = np.where(gap > ZERO_WTE, fill, np.nan).tolist()
    names = periods(model)
    staff_in_post, banks, agencies, unfilleds, leaving = (
        figures[key]
        for key in ("staff_in_post_wte", "bank_wte", "agency_wte", "unfilled_wte", "leavers_wte")
    )
    return [
        {
            "organisation": organisation,
            "staff_group": group,
            "period": names[t],
            "staff_in_post_wte": staff_in_post[u][t],
            "bank_wte": banks[u][t],
            "agency_wte": agencies[u][t],
            "unfilled_wte": unfilleds[u][t],
            "leavers_wte": leaving[u][t],
            "fill_rate": None if math.isnan(fill_rate[u][t]) else fill_rate[u][t],
        }
        for u, (organisation, group) in enumerate(layout.units)
        for t in range(layout.months)
    ]


@dataclass
class Trajectories:
    """The targets' monthly figures of a solution, as arrays over t = 1..H."""

    nursing_capacity: FloatArray
    nursing_shortfall: FloatArray  # sN[t], WTE
    turnover_rate: FloatArray  # rolling 12 months, with the history; nan without staff
    turnover_shortfall: FloatArray  # sT[t], WTE of leavers
    window_staff: FloatArray  # Σ staff in post over t's window, history included
    over_nursing: FloatArray = field(default_factory=lambda: np.zeros(0))
    over_all: FloatArray = field(default_factory=lambda: np.zeros(0))


def trajectories(model: lp.Model, values: FloatArray) -> Trajectories:
    layout, data = model.layout, model.data
    h = layout.months
    staff, agency = values[layout.staff], values[layout.agency]
    bank = bank_received(model, values)
    months = np.arange(h)
    # window[t, s] = 1 when model month s is in month t's window s = t-11..t
    window = (
        (months[None, :] <= months[:, None]) & (months[None, :] > months[:, None] - HISTORY_MONTHS)
    ).astype(float)
    window_leavers = window @ values[layout.leavers].sum(axis=0) + data.history_leavers
    window_staff = window @ staff.sum(axis=0) + data.history_staff
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(window_staff > 0, 12 * window_leavers / window_staff, np.nan)
    over = np.maximum(0.0, staff + bank + agency - data.establishment)
    return Trajectories(
        nursing_capacity=(staff + bank + agency)[data.nursing].sum(axis=0),
        nursing_shortfall=values[layout.nursing_slack] if layout.s_nursing >= 0 else np.zeros(h),
        turnover_rate=rate,
        turnover_shortfall=values[layout.turnover_slack] if layout.s_turnover >= 0 else np.zeros(h),
        window_staff=window_staff,
        over_nursing=over[data.nursing].sum(axis=0),
        over_all=over.sum(axis=0),
    )


def read_system(model: lp.Model, values: FloatArray) -> list[dict[str, Any]]:
    """Per month: nursing capacity and rolling turnover against their trajectories and
    each month's shortfall, agency against today's, bank against capacity, and the WTE
    staffed above establishment."""
    layout, data = model.layout, model.data
    path = trajectories(model, values)
    agency = values[layout.agency].sum(axis=0)
    sent = values[layout.sent]
    bank_by_pool = np.zeros_like(data.capacity)
    np.add.at(bank_by_pool, layout.route_pool, sent)
    tau = model.problem.targets.turnover_target
    rows = []
    for t, period in enumerate(periods(model)):
        rate = path.turnover_rate[t]
        rows.append(
            {
                "period": period,
                "nursing_capacity_wte": _r(path.nursing_capacity[t]),
                "nursing_capacity_trajectory_wte": _r(data.nursing_trajectory[t]),
                "nursing_shortfall_wte": _r(path.nursing_shortfall[t]),
                "turnover_rate_12m": None if np.isnan(rate) else round(float(rate), 4),
                "turnover_trajectory": round(float(data.turnover_trajectory[t]), 4),
                "turnover_target": tau,
                "turnover_shortfall_wte": _r(path.turnover_shortfall[t]),
                "agency_wte": _r(agency[t]),
                "agency_baseline_wte": _r(data.agency0.sum()),
                "bank_wte": _r(bank_by_pool[:, t].sum()),
                "bank_capacity_wte": _r(data.capacity[:, t].sum()),
                "over_establishment_nursing_wte": _r(path.over_nursing[t]),
                "over_establishment_wte": _r(path.over_all[t]),
            }
        )
    return rows


def _rows_of(model: lp.Model, duals: FloatArray | None, family: str) -> FloatArray | None:
    if duals is None or family not in model.family_rows:
        return None
    begin, end = model.family_rows[family]
    return duals[begin:end]


def months_short(model: lp.Model, slack: FloatArray) -> list[str]:
    names = periods(model)
    return [names[t] for t in np.nonzero(slack > ZERO_WTE)[0].tolist()]


def read_targets(
    model: lp.Model, values: FloatArray, cost_duals: FloatArray | None
) -> dict[str, TargetOutcome]:
    """Each target's final requirement, what the plan reaches, its shortfall month by
    month, and, from the cost stage's duals (``cost_duals``, given only when every
    target is met), the cost of tightening it by one percentage point."""
    layout, data, problem = model.layout, model.data, model.problem
    path = trajectories(model, values)
    at = min(problem.target_month, layout.months) - 1
    outcomes: dict[str, TargetOutcome] = {}
    if layout.s_nursing >= 0:
        rows = _rows_of(model, cost_duals, "nursing_trajectory")
        short = months_short(model, path.nursing_shortfall)
        outcomes["nursing_capacity"] = TargetOutcome(
            required=_r(data.nursing_trajectory[-1]),
            achieved=_r(path.nursing_capacity[at]),
            shortfall=_r(path.nursing_shortfall.max()),
            shortfall_wte_months=_r(path.nursing_shortfall.sum()),
            months_short=short,
            shadow_price=None
            if rows is None
            else _r(
                (
                    np.maximum(0.0, rows) * 0.01 * data.baseline_nursing_capacity * data.progress
                ).sum()
            ),
            met=not short,
        )
    if layout.s_turnover >= 0:
        outcomes["turnover"] = _turnover_outcome(model, path, cost_duals, at)
    if problem.targets.agency_reduction is not None and "agency_ceiling" in model.family_rows:
        outcomes["agency_reduction"] = _agency_outcome(model, values, cost_duals)
    return outcomes


def _turnover_outcome(
    model: lp.Model, path: Trajectories, cost_duals: FloatArray | None, at: int
) -> TargetOutcome:
    """Tightening tau by a point moves ``R_T[t]`` by ``0.01·dR_T/dtau``: ``min(1, t/t*)``
    while today's rate is above tau, 1 otherwise; each month's row then allows
    ``0.01·dR_T/dtau·Σ S/12`` fewer leavers, at its dual's price."""
    data = model.data
    rows = _rows_of(model, cost_duals, "turnover_trajectory")
    tau = model.problem.targets.turnover_target
    slope = data.progress if data.baseline_turnover > tau else np.ones_like(data.progress)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate_short = np.where(
            path.window_staff > 0, 12 * path.turnover_shortfall / path.window_staff, 0.0
        )
    short = months_short(model, path.turnover_shortfall)
    achieved = path.turnover_rate[at]
    return TargetOutcome(
        required=round(float(data.turnover_trajectory[-1]), 4),
        achieved=0.0 if np.isnan(achieved) else round(float(achieved), 4),
        shortfall=round(float(rate_short.max()), 4),
        shortfall_wte_months=_r(path.turnover_shortfall.sum()),
        months_short=short,
        shadow_price=None
        if rows is None
        else _r((np.maximum(0.0, -rows) * 0.01 * slope * path.window_staff / 12).sum()),
        met=not short,
    )


def _agency_outcome(
    model: lp.Model, values: FloatArray, cost_duals: FloatArray | None
) -> TargetOutcome:
    """The ceiling is a hard rule: met whenever there is a plan; a point more reduction
    lowers each group's ceiling by 1% of its agency today."""
    data, problem = model.data, model.problem
    alpha = problem.targets.agency_reduction
    assert alpha is not None
    rows = _rows_of(model, cost_duals, "agency_ceiling")
    present = sorted(set(data.group_of_unit.tolist()))
    per_group = np.array([data.agency0[data.group_of_unit == g].sum() for g in present])
    price = None
    if rows is not None:
        price = _r(
            (np.maximum(0.0, -rows) * np.repeat(per_group, model.layout.months)).sum() * 0.01
        )
    return TargetOutcome(
        required=_r((1 - alpha) * data.agency0.sum()),
        achieved=_r(values[model.layout.agency].sum(axis=0).max()),
        shortfall=0.0,
        shortfall_wte_months=0.0,
        months_short=[],
        shadow_price=price,
        met=True,
    )


def read_pool_prices(
    model: lp.Model, duals: FloatArray | None, *, digits: int = 2
) -> list[dict[str, Any]]:
    """Per pool and month, what one more bank WTE is worth under ``duals``' objective:
    ``-dual`` of its capacity row (GBP under the cost stage, WTE of shortfall under the
    shortfall stage)."""
    rows = _rows_of(model, duals, "pool_capacity")
    if rows is None:
        return []
    pools = [p.code for p in model.problem.pools]
    prices = np.maximum(0.0, -rows).reshape(len(pools), model.layout.months) + 0.0  # no -0.0
    names = periods(model)
    return [
        {"pool": pools[p], "period": names[t], "value": round(float(prices[p, t]), digits)}
        for p in range(len(pools))
        for t in range(model.layout.months)
    ]
