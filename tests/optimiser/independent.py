"""The model of docs/model.md written again, plainly, for SciPy's HiGHS: an independent check.

Nothing here comes from ``optimiser.model``: the bank is the model's own ``x[p,o,g,t]``
(no routes and balances), indices are dictionaries, rows are lists, and the rolling
turnover rows sum every unit's leavers and staff in post directly. The lexicographic
objective is two ``linprog`` solves: the least total shortfall, then the least cost with
the shortfall held at that least.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_matrix

from optimiser import Problem

Row = tuple[dict[int, float], float]


@dataclass
class Lexicographic:
    shortfall: float  # least Σ_t (sN[t] + sT[t]), WTE-months; inf when infeasible
    cost: float  # least cost at that shortfall, GBP; inf when infeasible
    values: dict[Any, float]


class _Lp:
    def __init__(self) -> None:
        self.columns: dict[Any, int] = {}
        self.cost: list[float] = []
        self.slack: list[float] = []
        self.eq: list[Row] = []
        self.ub: list[Row] = []  # Σ <= rhs

    def var(self, key: Any, cost: float = 0.0, slack: float = 0.0) -> int:
        self.columns[key] = len(self.cost)
        self.cost.append(cost)
        self.slack.append(slack)
        return self.columns[key]

    def matrix(self, rows: list[Row]) -> Any:
        r, c, v = [], [], []
        for i, (entries, _) in enumerate(rows):
            for col, val in entries.items():
                r.append(i)
                c.append(col)
                v.append(val)
        return coo_matrix((v, (r, c)), shape=(len(rows), len(self.cost))).tocsr()

    def solve(self, objective: list[float], extra: list[Row]) -> Any:
        ub = self.ub + extra
        return linprog(
            np.array(objective),
            A_ub=self.matrix(ub) if ub else None,
            b_ub=np.array([b for _, b in ub]) if ub else None,
            A_eq=self.matrix(self.eq),
            b_eq=np.array([b for _, b in self.eq]),
            bounds=(0, None),
            method="highs",
        )


def solve(problem: Problem, *, no_bank: bool = False) -> Lexicographic:
    """The lexicographic optimum of ``problem`` by two ``scipy.optimize.linprog`` solves."""
    model = _build(problem, no_bank=no_bank)
    if not model.cost:  # no unit: nothing to plan, nothing short and nothing spent
        return Lexicographic(0.0, 0.0, {})
    first = model.solve(model.slack, [])
    if first.status == 2:
        return Lexicographic(math.inf, math.inf, {})
    assert first.status == 0, first.message
    best = float(first.fun)
    hold = {j: 1.0 for j, s in enumerate(model.slack) if s}
    second = model.solve(model.cost, [(hold, best * (1 + 1e-9) + 1e-7)] if hold else [])
    assert second.status == 0, second.message
    values = {key: float(second.x[j]) for key, j in model.columns.items()}
    return Lexicographic(best, float(second.fun), values)


def objective(problem: Problem, *, no_bank: bool = False) -> float:
    """The least cost at the least shortfall."""
    return solve(problem, no_bank=no_bank).cost


def _build(problem: Problem, *, no_bank: bool) -> _Lp:
    H = problem.months
    T = range(1, H + 1)
    places = {o.code: o.place for o in problem.organisations}
    groups = {g.code: g for g in problem.staff_groups}
    units = [u for u in problem.units if u.establishment_wte > 0 or u.staff_in_post_wte > 0]
    model = _Lp()
    for u in units:
        g = groups[u.staff_group]
        for t in T:
            key = (u.organisation, u.staff_group, t)
            model.var(("S", *key))
            model.var(("L", *key))
            model.var(("a", *key), g.agency_cost_per_wte_month)
            model.var(("u", *key), g.unfilled_penalty_per_wte_month)
    for p in problem.pools:
        for u in units:
            if u.staff_group not in p.covers:
                continue
            if not problem.reach.allowed(p.home_place, places[u.organisation]):
                continue
            travel = problem.reach.cost(p.home_place, places[u.organisation])
            for t in T:
                model.var(
                    ("x", p.code, u.organisation, u.staff_group, t), p.cost_per_wte_month + travel
                )
    nursing_units = [u for u in units if groups[u.staff_group].counts_as_nursing]
    for t in T:
        if nursing_units:
            model.var(("sN", t), slack=1.0)
        if units:
            model.var(("sT", t), slack=1.0)
    _units(problem, model, units, groups)
    _pools(problem, model, no_bank)
    _agency(problem, model, units)
    if nursing_units:
        _nursing(problem, model, nursing_units)
    if units:
        _turnover(problem, model, units)
    return model


def _bank(problem: Problem, model: _Lp, organisation: str, group: str, t: int) -> list[int]:
    return [
        model.columns[key]
        for p in problem.pools
        if (key := ("x", p.code, organisation, group, t)) in model.columns
    ]


def _units(problem: Problem, model: _Lp, units: list[Any], groups: dict[str, Any]) -> None:
    """Stock and flow, leavers, coverage, minimum fill and the temporary cap, per unit."""
    c = model.columns
    H = problem.months
    for u in units:
        g = groups[u.staff_group]
        e1 = u.establishment_wte
        v0 = max(0.0, e1 - u.staff_in_post_wte - u.bank_wte - u.agency_wte) / e1 if e1 else 0.0
        rho = u.staff_in_post_wte / e1 if e1 else 0.0
        ri = max(0.0, u.turnover_rate - g.turnover_sensitivity * v0)
        h = u.starters_per_month * problem.pipeline_factor
        k = (u.organisation, u.staff_group)
        model.eq.append(({c[("S", *k, 1)]: 1.0}, u.staff_in_post_wte))
        for t in range(1, H + 1):
            E = e1 * (1 + g.establishment_growth) ** ((t - 1) / 12)
            if t < H:
                model.eq.append(
                    ({c[("S", *k, t + 1)]: 1.0, c[("S", *k, t)]: -1.0, c[("L", *k, t)]: 1.0}, h)
                )
            model.eq.append(
                (
                    {
                        c[("L", *k, t)]: 1.0,
                        c[("S", *k, t)]: -ri / 12,
                        c[("u", *k, t)]: -g.turnover_sensitivity * rho / 12,
                    },
                    0.0,
                )
            )
            bank = _bank(problem, model, *k, t)
            cover = {c[("S", *k, t)]: -1.0, c[("a", *k, t)]: -1.0, c[("u", *k, t)]: -1.0}
            cover.update(dict.fromkeys(bank, -1.0))
            model.ub.append((cover, -E))
            temporary = {c[("a", *k, t)]: 1.0, **dict.fromkeys(bank, 1.0)}
            f = problem.targets.min_fill_rate
            if f is not None:
                model.ub.append(
                    ({**{j: -v for j, v in temporary.items()}, c[("S", *k, t)]: -f}, -f * E)
                )
            q = problem.targets.temporary_staffing_cap
            if q is not None:
                model.ub.append((dict(temporary), q * E))


def _pools(problem: Problem, model: _Lp, no_bank: bool) -> None:
    for p in problem.pools:
        capacity = p.capacity(problem.months)
        for t in range(1, problem.months + 1):
            row = {
                j: 1.0
                for key, j in model.columns.items()
                if key[0] == "x" and key[1] == p.code and key[-1] == t
            }
            if row:
                model.ub.append((row, 0.0 if no_bank else capacity[t - 1]))


def _agency(problem: Problem, model: _Lp, units: list[Any]) -> None:
    alpha = problem.targets.agency_reduction
    if alpha is None:
        return
    for code in sorted({u.staff_group for u in units}):
        baseline = sum(u.agency_wte for u in units if u.staff_group == code)
        for t in range(1, problem.months + 1):
            row = {
                model.columns[("a", u.organisation, code, t)]: 1.0
                for u in units
                if u.staff_group == code
            }
            model.ub.append((row, (1 - alpha) * baseline))


def _t_star(problem: Problem) -> int:
    return problem.targets.target_month or problem.months


def _nursing(problem: Problem, model: _Lp, nursing_units: list[Any]) -> None:
    """-Σ (S + Σ_p x + a) - sN[t] <= -C0·(1 + gamma·min(1, t/t*))."""
    c0 = sum(u.staff_in_post_wte + u.bank_wte + u.agency_wte for u in nursing_units)
    gamma = problem.targets.nursing_capacity_growth
    for t in range(1, problem.months + 1):
        row: dict[int, float] = {model.columns[("sN", t)]: -1.0}
        for u in nursing_units:
            k = (u.organisation, u.staff_group, t)
            row[model.columns[("S", *k)]] = -1.0
            row[model.columns[("a", *k)]] = -1.0
            for j in _bank(problem, model, *k):
                row[j] = -1.0
        model.ub.append((row, -c0 * (1 + gamma * min(1.0, t / _t_star(problem)))))


def _turnover(problem: Problem, model: _Lp, units: list[Any]) -> None:
    """Σ_{s=t-11..t} L[s] - sT[t] <= (R_T[t]/12)·Σ_{s=t-11..t} S[s], with the months
    s <= 0 from the history as constants; r0 over s = -11..0 (the units' rates weighted
    by staff in post when there is no history)."""
    history = {m.month: m for m in problem.history}
    staff_before = sum(m.staff_in_post_wte for m in problem.history)
    if staff_before > 0:
        r0 = 12 * sum(m.leavers_wte for m in problem.history) / staff_before
    else:
        staff = sum(u.staff_in_post_wte for u in units)
        r0 = (
            sum(u.turnover_rate * u.staff_in_post_wte for u in units) / staff
            if staff > 0
            else problem.targets.turnover_target
        )
    tau = problem.targets.turnover_target
    for t in range(1, problem.months + 1):
        rate = tau + max(0.0, r0 - tau) * (1 - min(1.0, t / _t_star(problem)))
        row: dict[int, float] = {model.columns[("sT", t)]: -1.0}
        constant = 0.0  # Σ Lh - (R/12)·Σ Sh of the history months in the window
        for s in range(t - 11, t + 1):
            if s <= 0:
                if s in history:
                    constant += history[s].leavers_wte - rate / 12 * history[s].staff_in_post_wte
                continue
            for u in units:
                k = (u.organisation, u.staff_group, s)
                row[model.columns[("L", *k)]] = 1.0
                row[model.columns[("S", *k)]] = -rate / 12
        model.ub.append((row, -constant))
