"""The bank allocation LP of ``docs/model.md``, built with PuLP from NumPy arrays.

Each constraint family is one ``add_<family>`` function whose docstring states its rows.
A family computes its coefficients as arrays (``Rows``); ``build`` turns every row into a
PuLP constraint and keeps the same coefficients as a sparse matrix, which the solver
bridge hands to HiGHS in one call. Only possible combinations get a variable: a pool's
workers fill only the groups it covers, in organisations it may reach.

The bank ``x[p,o,g,t]`` is carried in two parts, because its cost ``c[p] + k[place(p),
place(o)]`` and whether it is allowed at all depend on the organisation only through its
place. ``y[p,g,d,t]`` is what pool ``p`` sends to staff group ``g`` in place ``d``, and
``z[o,g,t]`` what organisation ``o`` receives; each (group, place, month) balances,
``Σ_p y = Σ_{o in d} z``. Every ``x`` gives such a ``y`` and ``z`` at the same cost, and
every ``y`` and ``z`` split back into an ``x`` (``split_bank``), so the optimum and every
dual are those of the model in ``x``. In the same way the system's leavers and staff in
post of each month are carried once (``LS[t]``, ``SS[t]``), so that each month's rolling
turnover row has 24 entries rather than two per unit and month of its window.

There are two objectives (``docs/model.md``, "Objective"): ``shortfall_cost`` prices
only the target slacks, ``cost`` only money and the unfilled penalty.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pulp
from numpy.typing import NDArray

from optimiser.problem import HISTORY_MONTHS, Problem, Unit

INF = math.inf
FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass
class Rows:
    """Rows of one family in coordinate form: entry i puts ``vals[i]`` at (row, col)."""

    family: str
    count: int
    rows: IntArray
    cols: IntArray
    vals: FloatArray
    lower: FloatArray
    upper: FloatArray
    names: Callable[[], list[str]]  # the rows' names, made only when asked for (PuLP)


@dataclass
class Layout:
    """Where each variable lives in the column order."""

    units: list[tuple[str, str]]  # (organisation, staff group) per unit index
    months: int
    # Routes (p, g, d): a pool, a group it covers and a place it reaches that has the group.
    route_pool: IntArray
    route_group: IntArray
    route_place: IntArray
    route_balance: IntArray  # per route: its (group, place) balance
    served: IntArray  # the units some pool can reach, in unit order
    served_balance: IntArray  # per served unit: its (group, place) balance
    balances: int
    s0: int
    l0: int
    a0: int
    u0: int
    z0: int
    y0: int
    system0: int  # first column of LS[t], then SS[t]
    s_nursing: int  # first column of sN[t], or -1 with no nursing unit
    s_turnover: int  # first column of sT[t], or -1 with no unit
    count: int

    def block(self, start: int) -> IntArray:
        """Columns of a unit-by-month block (S, L, a or u) as a (units, months) array."""
        n = len(self.units) * self.months
        return np.arange(start, start + n, dtype=np.int64).reshape(len(self.units), self.months)

    @property
    def staff(self) -> IntArray:
        return self.block(self.s0)

    @property
    def leavers(self) -> IntArray:
        return self.block(self.l0)

    @property
    def agency(self) -> IntArray:
        return self.block(self.a0)

    @property
    def unfilled(self) -> IntArray:
        return self.block(self.u0)

    @property
    def bank(self) -> IntArray:
        """Columns of z (bank received) as a (served units, months) array."""
        n = len(self.served) * self.months
        return np.arange(self.z0, self.z0 + n, dtype=np.int64).reshape(-1, self.months)

    @property
    def system_leavers(self) -> IntArray:
        return np.arange(self.system0, self.system0 + self.months, dtype=np.int64)

    @property
    def system_staff(self) -> IntArray:
        return self.system_leavers + self.months

    @property
    def nursing_slack(self) -> IntArray:
        """Columns of sN[t]; empty when no unit counts as nursing."""
        if self.s_nursing < 0:
            return np.zeros(0, dtype=np.int64)
        return np.arange(self.s_nursing, self.s_nursing + self.months, dtype=np.int64)

    @property
    def turnover_slack(self) -> IntArray:
        """Columns of sT[t]; empty when there is no unit."""
        if self.s_turnover < 0:
            return np.zeros(0, dtype=np.int64)
        return np.arange(self.s_turnover, self.s_turnover + self.months, dtype=np.int64)

    @property
    def slacks(self) -> IntArray:
        return np.concatenate([self.nursing_slack, self.turnover_slack])

    @property
    def sent(self) -> IntArray:
        """Columns of y (bank sent along each route) as a (routes, months) array."""
        n = len(self.route_pool) * self.months
        return np.arange(self.y0, self.y0 + n, dtype=np.int64).reshape(-1, self.months)


@dataclass
class Data:
    """The model's constants, per unit (and month where they vary)."""

    establishment: FloatArray  # E[u, t]
    staff_in_post: FloatArray  # S0[u]
    agency0: FloatArray  # A0[u]
    bank0: FloatArray  # B0[u]
    underlying_turnover: FloatArray  # ri[u]
    rho: FloatArray
    starters: FloatArray  # h[u]
    beta: FloatArray  # beta[g(u)]
    agency_cost: FloatArray  # ca[g(u)]
    penalty: FloatArray  # pi[g(u)]
    nursing: NDArray[np.bool_]  # g(u) in N
    group_of_unit: IntArray
    capacity: FloatArray  # cap[p, t]
    route_cost: FloatArray  # c[p] + k[place(p), d] per route
    route_travel: FloatArray  # k[place(p), d] per route
    baseline_nursing_capacity: float  # C0
    progress: FloatArray  # min(1, t/t*) for t = 1..H
    nursing_trajectory: FloatArray  # R_N[t] = C0·(1 + gamma·progress[t])
    baseline_turnover: float  # r0, annual, over s = -11..0
    turnover_trajectory: FloatArray  # R_T[t] = tau + max(0, r0 - tau)·(1 - progress[t])
    history_leavers: FloatArray  # per t: Σ Lh[s] over the history months of t's window
    history_staff: FloatArray  # per t: Σ Sh[s] likewise


@dataclass
class Model:
    problem: Problem
    layout: Layout
    data: Data
    cost: FloatArray  # money and penalty: the cost stage's objective
    shortfall_cost: FloatArray  # 1 on every target slack: the shortfall stage's objective
    col_lower: FloatArray
    col_upper: FloatArray
    families: list[Rows] = field(default_factory=list)
    row_lower: FloatArray = field(default_factory=lambda: np.zeros(0))
    row_upper: FloatArray = field(default_factory=lambda: np.zeros(0))
    # CSC of the constraint matrix, for HiGHS.
    a_start: NDArray[np.int32] = field(default_factory=lambda: np.zeros(1, np.int32))
    a_index: NDArray[np.int32] = field(default_factory=lambda: np.zeros(0, np.int32))
    a_value: FloatArray = field(default_factory=lambda: np.zeros(0))
    family_rows: dict[str, tuple[int, int]] = field(default_factory=dict)
    # The PuLP mirror, made by ``pulp_problem`` when asked for.
    lp: pulp.LpProblem | None = None
    variables: list[pulp.LpVariable] = field(default_factory=list)
    constraints: list[pulp.LpConstraint] = field(default_factory=list)

    @property
    def num_rows(self) -> int:
        return len(self.row_lower)

    @property
    def nonzeros(self) -> int:
        return len(self.a_value)


@dataclass
class _Routes:
    """The sparse reach and cover of the pools: routes (p, g, d) and their balances."""

    pool: IntArray
    group: IntArray
    place: IntArray
    balance: IntArray
    served: IntArray
    served_balance: IntArray
    balances: int
    cost: FloatArray  # c[p] + k per route
    travel: FloatArray  # k per route
    capacity: FloatArray  # cap[p, t]


def _routes(problem: Problem, group_of_unit: IntArray, unit_place: IntArray) -> _Routes:
    """A route for each (pool, group, place) that some possible (pool, unit) pair uses; a
    balance for each (group, place) that some route serves. Both sorted, so the rows are
    stable. A pair is possible where the pool covers the group and reaches the place."""
    months = problem.months
    groups = {g.code: i for i, g in enumerate(problem.staff_groups)}
    places = place_names(problem)
    place_index = {p: i for i, p in enumerate(places)}
    n_pools, n_places, n_groups = len(problem.pools), len(places), len(groups)
    cover = np.zeros((n_pools, n_groups), dtype=bool)
    for p, pool in enumerate(problem.pools):
        for code in pool.covers:
            cover[p, groups[code]] = True
    reach = np.zeros((n_places, n_places), dtype=bool)
    travel = np.zeros((n_places, n_places), dtype=float)
    for i, a in enumerate(places):
        for j, b in enumerate(places):
            reach[i, j] = problem.reach.allowed(a, b)
            travel[i, j] = problem.reach.cost(a, b)
    pool_place = np.array([place_index[p.home_place] for p in problem.pools], dtype=np.int64)
    if n_pools and len(group_of_unit):
        possible = cover[:, group_of_unit] & reach[pool_place[:, None], unit_place[None, :]]
        pairs_pool, pairs_unit = np.nonzero(possible)
    else:
        pairs_pool = pairs_unit = np.zeros(0, dtype=np.int64)
    route_key = np.unique(
        (pairs_pool * n_groups + group_of_unit[pairs_unit]) * n_places + unit_place[pairs_unit]
    )
    route_pool = route_key // (n_groups * n_places)
    route_group = (route_key // n_places) % n_groups
    route_place = route_key % n_places
    balance_key, route_balance = np.unique(
        route_group * n_places + route_place, return_inverse=True
    )
    served = np.unique(pairs_unit)
    served_balance = np.searchsorted(
        balance_key, group_of_unit[served] * n_places + unit_place[served]
    )
    pool_cost = np.array([p.cost_per_wte_month for p in problem.pools], dtype=float)
    route_travel = travel[pool_place[route_pool], route_place] if n_pools else np.zeros(0)
    capacity = (
        np.array([p.capacity(months) for p in problem.pools], dtype=float).reshape(n_pools, months)
        if n_pools
        else np.zeros((0, months))
    )
    return _Routes(
        pool=route_pool.astype(np.int64),
        group=route_group.astype(np.int64),
        place=route_place.astype(np.int64),
        balance=route_balance.astype(np.int64).ravel(),
        served=served.astype(np.int64),
        served_balance=served_balance.astype(np.int64),
        balances=len(balance_key),
        cost=pool_cost[route_pool] + route_travel if n_pools else np.zeros(0),
        travel=route_travel,
        capacity=capacity,
    )


def trajectory_progress(months: int, target_month: int) -> FloatArray:
    """``min(1, t/t*)`` for t = 1..H: how far along its path a target is in each month."""
    t = np.arange(1, months + 1, dtype=float)
    return np.minimum(1.0, t / target_month)


def history_in_windows(problem: Problem) -> tuple[FloatArray, FloatArray, float | None]:
    """Per month t of the horizon, the history's leavers and staff in post that fall in
    its window s = t-11..t (months s <= 0 only), and the rate r0 over s = -11..0 (None
    without history). A month with no return is simply absent from both sums."""
    months = problem.months
    leavers, staff = np.zeros(months), np.zeros(months)
    for month in problem.history:
        # Month s lies in the windows of t = 1..s+11.
        last = min(months, month.month + HISTORY_MONTHS - 1)
        leavers[:last] += month.leavers_wte
        staff[:last] += month.staff_in_post_wte
    total_staff = sum(m.staff_in_post_wte for m in problem.history)
    if total_staff <= 0:
        return leavers, staff, None
    rate = 12 * sum(m.leavers_wte for m in problem.history) / total_staff
    return leavers, staff, rate


def _layout(units: list[Unit], routes: _Routes, *, months: int, has_nursing: bool) -> Layout:
    """The column order: S, L, a, u by unit and month; z, y; LS, SS; sN, sT."""
    n = len(units)
    block = n * months
    z0 = 4 * block
    y0 = z0 + len(routes.served) * months
    system0 = y0 + len(routes.pool) * months
    end = system0 + 2 * months
    s_nursing = end if has_nursing else -1
    s_turnover = end + (months if has_nursing else 0) if n else -1
    return Layout(
        units=[(u.organisation, u.staff_group) for u in units],
        months=months,
        route_pool=routes.pool,
        route_group=routes.group,
        route_place=routes.place,
        route_balance=routes.balance,
        served=routes.served,
        served_balance=routes.served_balance,
        balances=routes.balances,
        s0=0,
        l0=block,
        a0=2 * block,
        u0=3 * block,
        z0=z0,
        y0=y0,
        system0=system0,
        s_nursing=s_nursing,
        s_turnover=s_turnover,
        count=end + (months if has_nursing else 0) + (months if n else 0),
    )


def _data(problem: Problem) -> tuple[Layout, Data]:
    months = problem.months
    groups = {g.code: i for i, g in enumerate(problem.staff_groups)}
    group_list = problem.staff_groups
    place_index = {p: i for i, p in enumerate(place_names(problem))}
    place_of_org = {o.code: place_index[o.place] for o in problem.organisations}

    units = sorted(
        (u for u in problem.units if u.establishment_wte > 0 or u.staff_in_post_wte > 0),
        key=lambda u: (u.organisation, u.staff_group),
    )
    g_of = np.array([groups[u.staff_group] for u in units], dtype=np.int64)
    e1 = np.array([u.establishment_wte for u in units], dtype=float)
    s0 = np.array([u.staff_in_post_wte for u in units], dtype=float)
    a0 = np.array([u.agency_wte for u in units], dtype=float)
    b0 = np.array([u.bank_wte for u in units], dtype=float)
    r = np.array([u.turnover_rate for u in units], dtype=float)
    h = np.array([u.starters_per_month for u in units], dtype=float) * problem.pipeline_factor
    eg = np.array([g.establishment_growth for g in group_list], dtype=float)[g_of]
    beta = np.array([g.turnover_sensitivity for g in group_list], dtype=float)[g_of]
    nursing = np.array([g.counts_as_nursing for g in group_list], dtype=bool)[g_of]

    t = np.arange(months, dtype=float)
    positive = e1 > 0
    safe_e1 = np.where(positive, e1, 1.0)
    v0 = np.where(positive, np.maximum(0.0, e1 - s0 - b0 - a0) / safe_e1, 0.0)
    unit_place = np.array([place_of_org[u.organisation] for u in units], dtype=np.int64)
    routes = _routes(problem, g_of, unit_place)

    layout = _layout(units, routes, months=months, has_nursing=bool(nursing.any()))
    targets = problem.targets
    c0 = float((s0 + b0 + a0)[nursing].sum())
    progress = trajectory_progress(months, problem.target_month)
    history_leavers, history_staff, r0 = history_in_windows(problem)
    if r0 is None:  # no history: today's rates of the units, weighted by staff in post
        r0 = float((r * s0).sum() / s0.sum()) if s0.sum() > 0 else targets.turnover_target
    tau = targets.turnover_target
    data = Data(
        establishment=e1[:, None] * (1 + eg[:, None]) ** (t[None, :] / 12),
        staff_in_post=s0,
        agency0=a0,
        bank0=b0,
        underlying_turnover=np.maximum(0.0, r - beta * v0),
        rho=np.where(positive, s0 / safe_e1, 0.0),
        starters=h,
        beta=beta,
        agency_cost=np.array([g.agency_cost_per_wte_month for g in group_list], dtype=float)[g_of],
        penalty=np.array([g.unfilled_penalty_per_wte_month for g in group_list], dtype=float)[g_of],
        nursing=nursing,
        group_of_unit=g_of,
        capacity=routes.capacity,
        route_cost=routes.cost,
        route_travel=routes.travel,
        baseline_nursing_capacity=c0,
        progress=progress,
        nursing_trajectory=c0 * (1 + targets.nursing_capacity_growth * progress),
        baseline_turnover=r0,
        turnover_trajectory=tau + max(0.0, r0 - tau) * (1 - progress),
        history_leavers=history_leavers,
        history_staff=history_staff,
    )
    return layout, data


def _rows(
    family: str,
    count: int,
    entries: list[tuple[IntArray, IntArray, FloatArray | float]],
    lower: FloatArray,
    upper: FloatArray,
    names: Callable[[], list[str]],
) -> Rows:
    rows = [np.asarray(r, dtype=np.int64).ravel() for r, _, _ in entries]
    cols = [np.asarray(c, dtype=np.int64).ravel() for _, c, _ in entries]
    vals = [
        np.broadcast_to(np.asarray(v, dtype=float), np.shape(c)).ravel() for (_, c, v) in entries
    ]
    all_rows = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    all_cols = np.concatenate(cols) if cols else np.zeros(0, np.int64)
    all_vals = np.concatenate(vals) if vals else np.zeros(0)
    keep = all_vals != 0
    return Rows(family, count, all_rows[keep], all_cols[keep], all_vals[keep], lower, upper, names)


def _unit_month_names(prefix: str, layout: Layout, months: range) -> list[str]:
    return [f"{prefix}_{o}_{g}_{t + 1}" for (o, g) in layout.units for t in months]


def _bank_by_unit(layout: Layout, rows_of_unit: IntArray) -> tuple[IntArray, IntArray]:
    """(row, column) entries placing each unit's bank ``Σ_p x[p,o,g,t] = z[o,g,t]`` in row
    ``rows_of_unit[u, t]``."""
    return rows_of_unit[layout.served], layout.bank


def add_stock_and_flow(layout: Layout, data: Data) -> Rows:
    """``S[o,g,1] = S0[o,g]`` and ``S[o,g,t+1] - S[o,g,t] + L[o,g,t] = h[o,g,t]``."""
    n, h = len(layout.units), layout.months
    s, leavers = layout.staff, layout.leavers
    first = np.arange(n, dtype=np.int64)
    later = (n + np.arange(n * (h - 1), dtype=np.int64)).reshape(n, h - 1)
    lower = np.concatenate([data.staff_in_post, np.repeat(data.starters, h - 1)])

    def names() -> list[str]:
        return [f"stock_{o}_{g}_1" for (o, g) in layout.units] + [
            f"flow_{o}_{g}_{t + 2}" for (o, g) in layout.units for t in range(h - 1)
        ]

    return _rows(
        "stock_and_flow",
        n * h,
        [
            (first, s[:, 0], 1.0),
            (later, s[:, 1:], 1.0),
            (later, s[:, :-1], -1.0),
            (later, leavers[:, :-1], 1.0),
        ],
        lower,
        lower.copy(),
        names,
    )


def add_leavers(layout: Layout, data: Data) -> Rows:
    """``L[o,g,t] - (ri/12)·S[o,g,t] - (beta[g]/12)·rho[o,g]·u[o,g,t] = 0``."""
    n, h = len(layout.units), layout.months
    rows = np.arange(n * h, dtype=np.int64).reshape(n, h)
    zeros = np.zeros(n * h)
    return _rows(
        "leavers",
        n * h,
        [
            (rows, layout.leavers, 1.0),
            (rows, layout.staff, (-data.underlying_turnover / 12)[:, None]),
            (rows, layout.unfilled, (-data.beta * data.rho / 12)[:, None]),
        ],
        zeros,
        zeros.copy(),
        lambda: _unit_month_names("leavers", layout, range(h)),
    )


def add_coverage(layout: Layout, data: Data) -> Rows:
    """``S[o,g,t] + Σ_p x[p,o,g,t] + a[o,g,t] + u[o,g,t] >= E[o,g,t]``, with ``Σ_p x`` as
    ``z[o,g,t]``."""
    n, h = len(layout.units), layout.months
    rows = np.arange(n * h, dtype=np.int64).reshape(n, h)
    bank_rows, bank_cols = _bank_by_unit(layout, rows)
    return _rows(
        "coverage",
        n * h,
        [
            (rows, layout.staff, 1.0),
            (rows, layout.agency, 1.0),
            (rows, layout.unfilled, 1.0),
            (bank_rows, bank_cols, 1.0),
        ],
        data.establishment.ravel().copy(),
        np.full(n * h, INF),
        lambda: _unit_month_names("coverage", layout, range(h)),
    )


def add_pool_capacity(layout: Layout, data: Data, pools: list[str]) -> Rows:
    """``Σ_{o,g} x[p,o,g,t] <= cap[p,t]``, as ``Σ_{g,d} y[p,g,d,t] <= cap[p,t]``."""
    h = layout.months
    rows = np.arange(len(pools) * h, dtype=np.int64).reshape(len(pools), h)
    return _rows(
        "pool_capacity",
        len(pools) * h,
        [(rows[layout.route_pool], layout.sent, 1.0)],
        np.full(len(pools) * h, -INF),
        data.capacity.ravel().copy(),
        lambda: [f"capacity_{p}_{t + 1}" for p in pools for t in range(h)],
    )


def add_bank_balance(layout: Layout, balances: Callable[[], list[str]]) -> Rows:
    """``Σ_p y[p,g,d,t] - Σ_{o in d} z[o,g,t] = 0``: what the pools send to a staff group in
    a place is what its organisations receive, each month."""
    h = layout.months
    rows = np.arange(layout.balances * h, dtype=np.int64).reshape(layout.balances, h)
    zeros = np.zeros(layout.balances * h)
    return _rows(
        "bank_balance",
        layout.balances * h,
        [
            (rows[layout.route_balance], layout.sent, 1.0),
            (rows[layout.served_balance], layout.bank, -1.0),
        ],
        zeros,
        zeros.copy(),
        lambda: [f"balance_{b}_{t + 1}" for b in balances() for t in range(h)],
    )


def add_agency_ceiling(layout: Layout, data: Data, alpha: float, groups: list[str]) -> Rows:
    """``Σ_o a[o,g,t] <= (1 - alpha)·Σ_o A0[o,g]`` for every staff group g and month t."""
    h = layout.months
    present = sorted(set(data.group_of_unit.tolist()))
    row_of_group = {g: i for i, g in enumerate(present)}
    group_rows = np.array([row_of_group[g] for g in data.group_of_unit.tolist()], dtype=np.int64)
    rows = group_rows[:, None] * h + np.arange(h)[None, :]
    baseline = np.array([data.agency0[data.group_of_unit == g].sum() for g in present])
    return _rows(
        "agency_ceiling",
        len(present) * h,
        [(rows, layout.agency, 1.0)],
        np.full(len(present) * h, -INF),
        np.repeat((1 - alpha) * baseline, h),
        lambda: [f"agency_ceiling_{groups[g]}_{t + 1}" for g in present for t in range(h)],
    )


def add_system_totals(layout: Layout) -> Rows:
    """``LS[t] - Σ_{o,g} L[o,g,t] = 0`` and ``SS[t] - Σ_{o,g} S[o,g,t] = 0``: the system's
    leavers and staff in post of each month, for the rolling turnover rows."""
    n, h = len(layout.units), layout.months
    months = np.arange(h, dtype=np.int64)
    unit_rows = np.broadcast_to(months[None, :], (n, h))
    zeros = np.zeros(2 * h)
    return _rows(
        "system_totals",
        2 * h,
        [
            (months, layout.system_leavers, 1.0),
            (unit_rows, layout.leavers, -1.0),
            (h + months, layout.system_staff, 1.0),
            (h + unit_rows, layout.staff, -1.0),
        ],
        zeros,
        zeros.copy(),
        lambda: (
            [f"system_leavers_{t + 1}" for t in range(h)]
            + [f"system_staff_{t + 1}" for t in range(h)]
        ),
    )


def add_nursing_trajectory(layout: Layout, data: Data) -> Rows:
    """For every month t: ``Σ_{o, g∈N} (S + Σ_p x + a)[o,g,t] + sN[t] >= R_N[t]``, where
    ``R_N[t] = C0·(1 + gamma·min(1, t/t*))``."""
    h = layout.months
    nursing = np.nonzero(data.nursing)[0]
    served = np.nonzero(data.nursing[layout.served])[0]
    months = np.arange(h, dtype=np.int64)
    return _rows(
        "nursing_trajectory",
        h,
        [
            (np.broadcast_to(months, (len(nursing), h)), layout.staff[nursing], 1.0),
            (np.broadcast_to(months, (len(nursing), h)), layout.agency[nursing], 1.0),
            (np.broadcast_to(months, (len(served), h)), layout.bank[served], 1.0),
            (months, layout.nursing_slack, 1.0),
        ],
        data.nursing_trajectory.copy(),
        np.full(h, INF),
        lambda: [f"nursing_trajectory_{t + 1}" for t in range(h)],
    )


def add_turnover_trajectory(layout: Layout, data: Data) -> Rows:
    """For every month t, over the window s = t-11..t:
    ``Σ_{s>=1} (LS[s] - (R_T[t]/12)·SS[s]) - sT[t] <= (R_T[t]/12)·Σ_{s<=0} Sh[s] - Σ_{s<=0}
    Lh[s]``, the rolling 12-month turnover kept at or under ``R_T[t] = tau + max(0, r0 -
    tau)·(1 - min(1, t/t*))``, with the months before the horizon as constants."""
    h = layout.months
    rate = data.turnover_trajectory / 12
    row, month = np.nonzero(
        (np.arange(h)[None, :] <= np.arange(h)[:, None])
        & (np.arange(h)[None, :] > np.arange(h)[:, None] - HISTORY_MONTHS)
    )
    months = np.arange(h, dtype=np.int64)
    return _rows(
        "turnover_trajectory",
        h,
        [
            (row, layout.system_leavers[month], 1.0),
            (row, layout.system_staff[month], -rate[row]),
            (months, layout.turnover_slack, -1.0),
        ],
        np.full(h, -INF),
        rate * data.history_staff - data.history_leavers,
        lambda: [f"turnover_trajectory_{t + 1}" for t in range(h)],
    )


def add_min_fill(layout: Layout, data: Data, f: float) -> Rows:
    """``Σ_p x[p,o,g,t] + a[o,g,t] >= f·(E[o,g,t] - S[o,g,t])``, as
    ``Σ_p x + a + f·S >= f·E``."""
    n, h = len(layout.units), layout.months
    rows = np.arange(n * h, dtype=np.int64).reshape(n, h)
    bank_rows, bank_cols = _bank_by_unit(layout, rows)
    return _rows(
        "min_fill",
        n * h,
        [(rows, layout.agency, 1.0), (rows, layout.staff, f), (bank_rows, bank_cols, 1.0)],
        (f * data.establishment).ravel(),
        np.full(n * h, INF),
        lambda: _unit_month_names("min_fill", layout, range(h)),
    )


def add_temporary_cap(layout: Layout, data: Data, q: float) -> Rows:
    """``Σ_p x[p,o,g,t] + a[o,g,t] <= q·E[o,g,t]``."""
    n, h = len(layout.units), layout.months
    rows = np.arange(n * h, dtype=np.int64).reshape(n, h)
    bank_rows, bank_cols = _bank_by_unit(layout, rows)
    return _rows(
        "temporary_cap",
        n * h,
        [(rows, layout.agency, 1.0), (bank_rows, bank_cols, 1.0)],
        np.full(n * h, -INF),
        (q * data.establishment).ravel(),
        lambda: _unit_month_names("temporary_cap", layout, range(h)),
    )


RELAXABLE = ("agency_ceiling", "min_fill", "temporary_cap")


def build(
    problem: Problem,
    *,
    without_bank: bool = False,
    without: frozenset[str] = frozenset(),
) -> Model:
    """The LP of ``problem`` as arrays, which HiGHS takes as they are; ``without`` leaves
    families out (to find what makes a problem infeasible), ``without_bank`` gives the
    do-nothing plan: the plan with every pool at zero capacity, built without the pools
    (no bank columns, capacity or balance rows: on the demo's 24-month plan 36% fewer
    columns, 22% fewer rows and a quarter less solve time than the pools held at zero).
    Its PuLP mirror is made only when asked for (``pulp_problem``)."""
    if without_bank:
        problem = dataclasses.replace(problem, pools=())
    layout, data = _data(problem)
    targets = problem.targets
    n, h = len(layout.units), layout.months
    cost = np.zeros(layout.count)
    cost[layout.a0 : layout.a0 + n * h] = np.repeat(data.agency_cost, h)
    cost[layout.u0 : layout.u0 + n * h] = np.repeat(data.penalty, h)
    cost[layout.y0 : layout.y0 + len(layout.route_pool) * h] = np.repeat(data.route_cost, h)
    shortfall_cost = np.zeros(layout.count)
    shortfall_cost[layout.slacks] = 1.0

    groups = [g.code for g in problem.staff_groups]
    families = [add_stock_and_flow(layout, data), add_leavers(layout, data)]
    families.append(add_coverage(layout, data))
    families.append(add_pool_capacity(layout, data, [p.code for p in problem.pools]))
    families.append(add_bank_balance(layout, lambda: balance_names(problem, layout)))
    if targets.agency_reduction is not None and "agency_ceiling" not in without:
        families.append(add_agency_ceiling(layout, data, targets.agency_reduction, groups))
    families.append(add_system_totals(layout))
    if layout.s_nursing >= 0:
        families.append(add_nursing_trajectory(layout, data))
    if layout.s_turnover >= 0:
        families.append(add_turnover_trajectory(layout, data))
    if targets.min_fill_rate is not None and "min_fill" not in without:
        families.append(add_min_fill(layout, data, targets.min_fill_rate))
    if targets.temporary_staffing_cap is not None and "temporary_cap" not in without:
        families.append(add_temporary_cap(layout, data, targets.temporary_staffing_cap))

    model = Model(
        problem=problem,
        layout=layout,
        data=data,
        cost=cost,
        shortfall_cost=shortfall_cost,
        col_lower=np.zeros(layout.count),
        col_upper=np.full(layout.count, INF),
        families=families,
    )
    _assemble(model)
    return model


def _assemble(model: Model) -> None:
    """Stack the families' rows into one matrix, column-wise for HiGHS."""
    offset = 0
    rows, cols, vals, lower, upper = [], [], [], [], []
    for family in model.families:
        model.family_rows[family.family] = (offset, offset + family.count)
        rows.append(family.rows + offset)
        cols.append(family.cols)
        vals.append(family.vals)
        lower.append(family.lower)
        upper.append(family.upper)
        offset += family.count
    all_rows = np.concatenate(rows)
    all_cols = np.concatenate(cols)
    all_vals = np.concatenate(vals)
    # Column by column, rows in order within each: one sort of a combined key.
    order = np.argsort(all_cols * offset + all_rows, kind="stable")
    model.a_index = all_rows[order].astype(np.int32)
    model.a_value = all_vals[order]
    counts = np.bincount(all_cols, minlength=model.layout.count)
    model.a_start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    model.row_lower = np.concatenate(lower)
    model.row_upper = np.concatenate(upper)


def place_names(problem: Problem) -> list[str]:
    """The places in index order, as ``_data`` numbers them."""
    return sorted({o.place for o in problem.organisations} | {p.home_place for p in problem.pools})


def balance_names(problem: Problem, layout: Layout) -> list[str]:
    """Each (group, place) balance's name, read from any of its routes."""
    groups = [g.code for g in problem.staff_groups]
    places = place_names(problem)
    names = [""] * layout.balances
    for b, g, d in zip(
        layout.route_balance.tolist(),
        layout.route_group.tolist(),
        layout.route_place.tolist(),
        strict=True,
    ):
        names[b] = f"{groups[g]}_{places[d]}"
    return names


def split_bank(
    layout: Layout, values: FloatArray
) -> tuple[IntArray, IntArray, IntArray, FloatArray]:
    """The model's ``x[p,o,g,t]`` from a solution's ``y`` and ``z``: in each (group, place,
    month), what the pools send is shared out over what the organisations receive in a
    fixed order (pools, then units, in index order: the north-west corner rule), so the
    same solution always gives the same rows. Returns (route, unit, month, wte) of every
    positive part; a unit's parts sum to its ``z`` and a route's to its ``y``."""
    sent, received = values[layout.sent], values[layout.bank]
    out_route, out_unit, out_month, out_wte = [], [], [], []
    route_order = np.argsort(layout.route_balance, kind="stable")
    unit_order = np.argsort(layout.served_balance, kind="stable")
    route_edges = np.searchsorted(layout.route_balance[route_order], np.arange(layout.balances + 1))
    unit_edges = np.searchsorted(layout.served_balance[unit_order], np.arange(layout.balances + 1))
    for b in range(layout.balances):
        routes = route_order[route_edges[b] : route_edges[b + 1]]
        units = unit_order[unit_edges[b] : unit_edges[b + 1]]
        if not len(routes) or not len(units):
            continue
        supply = np.cumsum(np.maximum(sent[routes], 0.0), axis=0)  # (routes, months)
        demand = np.cumsum(np.maximum(received[units], 0.0), axis=0)  # (units, months)
        low_s = np.vstack([np.zeros((1, layout.months)), supply[:-1]])
        low_d = np.vstack([np.zeros((1, layout.months)), demand[:-1]])
        part = np.minimum(supply[:, None, :], demand[None, :, :]) - np.maximum(
            low_s[:, None, :], low_d[None, :, :]
        )
        r, u, t = np.nonzero(part > 0)
        out_route.append(routes[r])
        out_unit.append(layout.served[units[u]])
        out_month.append(t)
        out_wte.append(part[r, u, t])
    if not out_route:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, np.zeros(0)
    return (
        np.concatenate(out_route),
        np.concatenate(out_unit),
        np.concatenate(out_month).astype(np.int64),
        np.concatenate(out_wte),
    )


def column_names(model: Model) -> list[str]:
    layout = model.layout
    h = range(layout.months)
    names = []
    for prefix in ("S", "L", "a", "u"):
        names += _unit_month_names(prefix, layout, h)
    names += [
        f"z_{layout.units[u][0]}_{layout.units[u][1]}_{t + 1}"
        for u in layout.served.tolist()
        for t in h
    ]
    pools = [p.code for p in model.problem.pools]
    groups = [g.code for g in model.problem.staff_groups]
    places = place_names(model.problem)
    names += [
        f"y_{pools[p]}_{groups[g]}_{places[d]}_{t + 1}"
        for p, g, d in zip(
            layout.route_pool.tolist(),
            layout.route_group.tolist(),
            layout.route_place.tolist(),
            strict=True,
        )
        for t in h
    ]
    names += [f"LS_{t + 1}" for t in h] + [f"SS_{t + 1}" for t in h]
    if layout.s_nursing >= 0:
        names += [f"sN_{t + 1}" for t in h]
    if layout.s_turnover >= 0:
        names += [f"sT_{t + 1}" for t in h]
    return names


def pulp_problem(model: Model) -> pulp.LpProblem:
    """The same LP as a PuLP problem (made once, then kept on the model), for CBC and for
    writing the model to a file. Its objective is the cost; ``optimiser.solver`` sets
    each stage's. A plan solved by HiGHS never needs it: HiGHS takes the arrays."""
    if model.lp is None:
        _to_pulp(model)
    assert model.lp is not None
    return model.lp


def _to_pulp(model: Model) -> None:
    """The PuLP problem, row by row from the arrays (no per-term appends)."""
    lp = pulp.LpProblem("bank_allocation", pulp.LpMinimize)
    variables = [lp.add_variable(name, lowBound=0) for name in column_names(model)]
    cost = model.cost
    nonzero = np.nonzero(cost)[0].tolist()
    lp.setObjective(pulp.LpAffineExpression([(variables[j], float(cost[j])) for j in nonzero]))
    # Row-wise view of the matrix: one sort, then a slice per row.
    rows = np.repeat(np.arange(model.layout.count), np.diff(model.a_start))
    order = np.argsort(model.a_index, kind="stable")
    row_vars = [variables[c] for c in rows[order].tolist()]
    row_vals = model.a_value[order].tolist()
    row_start = np.concatenate(
        [[0], np.cumsum(np.bincount(model.a_index, minlength=model.num_rows))]
    ).tolist()
    names = [name for family in model.families for name in family.names()]
    lower, upper = model.row_lower.tolist(), model.row_upper.tolist()
    constraints = []
    for r, name in enumerate(names):
        begin, end = row_start[r], row_start[r + 1]
        terms = zip(row_vars[begin:end], row_vals[begin:end], strict=True)
        expression = pulp.LpAffineExpression(terms)
        if lower[r] == upper[r]:
            constraint = pulp.LpConstraint(expression, pulp.LpConstraintEQ, name, lower[r])
        elif upper[r] == INF:
            constraint = pulp.LpConstraint(expression, pulp.LpConstraintGE, name, lower[r])
        else:
            constraint = pulp.LpConstraint(expression, pulp.LpConstraintLE, name, upper[r])
        lp.addConstraint(constraint)  # named above, once
        constraints.append(constraint)
    model.lp = lp
    model.variables = variables
    model.constraints = constraints
