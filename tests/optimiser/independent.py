"""The spec's LP written again, plainly, for SciPy's HiGHS: an independent check.

Nothing here comes from ``optimiser.model``: indices are dictionaries, rows are lists.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_matrix

from optimiser import Problem

PENALTY_FACTOR = 100.0  # the spec's M: the same rule as the package, stated separately


def objective(problem: Problem, *, no_bank: bool = False) -> float:
    """The optimal objective of the spec's LP for ``problem``, by scipy.linprog."""
    H = problem.months
    T = range(H)
    places = {o.code: o.place for o in problem.organisations}
    groups = {g.code: g for g in problem.staff_groups}
    units = [u for u in problem.units if u.establishment_wte > 0 or u.staff_in_post_wte > 0]
    columns: dict[Any, int] = {}
    cost: list[float] = []

    def var(key: Any, c: float = 0.0) -> int:
        columns[key] = len(cost)
        cost.append(c)
        return columns[key]

    biggest = max(
        [1.0]
        + [g.agency_cost_per_wte_month for g in problem.staff_groups]
        + [g.unfilled_penalty_per_wte_month for g in problem.staff_groups]
        + [p.cost_per_wte_month + problem.reach.travel_cost_per_wte_month for p in problem.pools]
    )
    big_m = PENALTY_FACTOR * biggest
    for u in units:
        g = groups[u.staff_group]
        for t in T:
            key: tuple[Any, ...] = (u.organisation, u.staff_group, t)
            var(("S", *key))
            var(("L", *key))
            var(("a", *key), g.agency_cost_per_wte_month)
            var(("u", *key), g.unfilled_penalty_per_wte_month)
    capacity = {}
    for p in problem.pools:
        capacity[p.code] = p.capacity(H)
        for u in units:
            if u.staff_group not in p.covers:
                continue
            if not problem.reach.allowed(p.home_place, places[u.organisation]):
                continue
            travel = problem.reach.cost(p.home_place, places[u.organisation])
            for t in T:
                var(("x", p.code, u.organisation, u.staff_group, t), p.cost_per_wte_month + travel)
    nursing_units = [u for u in units if groups[u.staff_group].counts_as_nursing]
    if nursing_units:
        var("sN", big_m)
    if units:
        var("sT", big_m)

    eq_rows: list[tuple[dict[int, float], float]] = []
    ub_rows: list[tuple[dict[int, float], float]] = []  # sum <= rhs

    def E(u: Any, t: int) -> float:
        growth = groups[u.staff_group].establishment_growth
        return float(u.establishment_wte * (1 + growth) ** (t / 12))

    for u in units:
        g = groups[u.staff_group]
        e1 = u.establishment_wte
        v0 = max(0.0, e1 - u.staff_in_post_wte - u.bank_wte - u.agency_wte) / e1 if e1 else 0.0
        rho = u.staff_in_post_wte / e1 if e1 else 0.0
        ri = max(0.0, u.turnover_rate - g.turnover_sensitivity * v0)
        h = u.starters_per_month * problem.pipeline_factor
        k = (u.organisation, u.staff_group)
        eq_rows.append(({columns[("S", *k, 0)]: 1.0}, u.staff_in_post_wte))
        for t in T:
            if t + 1 < H:
                eq_rows.append(
                    (
                        {
                            columns[("S", *k, t + 1)]: 1.0,
                            columns[("S", *k, t)]: -1.0,
                            columns[("L", *k, t)]: 1.0,
                        },
                        h,
                    )
                )
            eq_rows.append(
                (
                    {
                        columns[("L", *k, t)]: 1.0,
                        columns[("S", *k, t)]: -ri / 12,
                        columns[("u", *k, t)]: -g.turnover_sensitivity * rho / 12,
                    },
                    0.0,
                )
            )
            cover = {
                columns[("S", *k, t)]: -1.0,
                columns[("a", *k, t)]: -1.0,
                columns[("u", *k, t)]: -1.0,
            }
            temporary = {columns[("a", *k, t)]: 1.0}
            for p in problem.pools:
                x_key = ("x", p.code, *k, t)
                if x_key in columns:
                    cover[columns[x_key]] = -1.0
                    temporary[columns[x_key]] = 1.0
            ub_rows.append((cover, -E(u, t)))
            f = problem.targets.min_fill_rate
            if f is not None:
                ub_rows.append(
                    (
                        {**{c: -v for c, v in temporary.items()}, columns[("S", *k, t)]: -f},
                        -f * E(u, t),
                    )
                )
            q = problem.targets.temporary_staffing_cap
            if q is not None:
                ub_rows.append((dict(temporary), q * E(u, t)))
    for p in problem.pools:
        for t in T:
            row = {
                c: 1.0
                for key, c in columns.items()
                if key[0] == "x" and key[1] == p.code and key[-1] == t
            }
            if row:
                ub_rows.append((row, capacity[p.code][t] * (0 if no_bank else 1)))
    alpha = problem.targets.agency_reduction
    if alpha is not None:
        for code in sorted({u.staff_group for u in units}):
            baseline = sum(u.agency_wte for u in units if u.staff_group == code)
            for t in T:
                ceiling = {
                    columns[("a", u.organisation, code, t)]: 1.0
                    for u in units
                    if u.staff_group == code
                }
                ub_rows.append((ceiling, (1 - alpha) * baseline))
    if nursing_units:
        t_star = (problem.targets.target_month or H) - 1
        c0 = sum(u.staff_in_post_wte + u.bank_wte + u.agency_wte for u in nursing_units)
        nursing: dict[int, float] = {columns["sN"]: -1.0}
        for u in nursing_units:
            at = (u.organisation, u.staff_group, t_star)
            nursing[columns[("S", *at)]] = -1.0
            nursing[columns[("a", *at)]] = -1.0
            for p in problem.pools:
                if ("x", p.code, *at) in columns:
                    nursing[columns[("x", p.code, *at)]] = -1.0
        ub_rows.append((nursing, -(1 + problem.targets.nursing_capacity_growth) * c0))
    if units:
        tau = problem.targets.turnover_target
        window = range(H - min(12, H), H)
        turnover = {columns["sT"]: -1.0}
        for u in units:
            for t in window:
                turnover[columns[("L", u.organisation, u.staff_group, t)]] = 1.0
                turnover[columns[("S", u.organisation, u.staff_group, t)]] = -tau / 12
        ub_rows.append((turnover, 0.0))

    def matrix(rows: list[tuple[dict[int, float], float]]) -> Any:
        r, c, v = [], [], []
        for i, (entries, _) in enumerate(rows):
            for col, val in entries.items():
                r.append(i)
                c.append(col)
                v.append(val)
        return coo_matrix((v, (r, c)), shape=(len(rows), len(cost))).tocsr()

    result = linprog(
        np.array(cost),
        A_ub=matrix(ub_rows) if ub_rows else None,
        b_ub=np.array([b for _, b in ub_rows]) if ub_rows else None,
        A_eq=matrix(eq_rows),
        b_eq=np.array([b for _, b in eq_rows]),
        bounds=(0, None),
        method="highs",
    )
    if result.status == 2:
        return math.inf
    assert result.status == 0, result.message
    return float(result.fun)
