"""Shadow prices against finite differences: re-solve with a little more or less.

For an LP the dual lies between the left and right derivatives of the optimal cost, so
each price is checked to lie between the two finite differences.
"""

from __future__ import annotations

import dataclasses

import pytest

from optimiser import Organisation, Pool, Problem, SolveStatus, StaffGroup, Targets, Unit, solve
from optimiser.examples import generate
from tests.optimiser.helpers import with_capacity

STEP = 1e-3


def objective(problem: Problem) -> float:
    result = solve(problem, do_nothing=False)
    assert result.objective is not None
    return result.objective


def assert_between(price: float, left: float, right: float) -> None:
    low, high = sorted((left, right))
    assert low - 1e-3 * (1 + abs(low)) <= price <= high + 1e-3 * (1 + abs(high))


@pytest.mark.parametrize("seed", [3, 11, 29])
def test_pool_prices_are_the_cost_saved_by_one_more_wte(seed: int) -> None:
    problem = generate(
        organisations=3,
        pools=2,
        months=3,
        groups=2,
        seed=seed,
        targets=Targets(nursing_capacity_growth=-0.2, turnover_target=0.5, agency_reduction=0.2),
    )
    result = solve(problem, do_nothing=False)
    assert result.status is SolveStatus.OPTIMAL
    base = objective(problem)
    codes = [p.code for p in problem.pools]
    for row in result.pool_shadow_prices:
        p, t = codes.index(row["pool"]), int(row["period"][-2:]) - 4
        saved_more = (base - objective(with_capacity(problem, p, t, STEP))) / STEP
        if problem.pools[p].capacity(problem.months)[t] > STEP:
            saved_less = (objective(with_capacity(problem, p, t, -STEP)) - base) / STEP
        else:
            saved_less = saved_more
        assert_between(row["value"], saved_more, saved_less)


@pytest.mark.parametrize("seed", [5, 17])
def test_nursing_target_price_is_the_cost_of_one_more_point(seed: int) -> None:
    targets = Targets(nursing_capacity_growth=0.06, turnover_target=0.3, agency_reduction=None)
    problem = generate(organisations=3, pools=2, months=2, groups=2, seed=seed, targets=targets)
    result = solve(problem, do_nothing=False)
    assert result.status is SolveStatus.OPTIMAL
    price = result.targets["nursing_capacity"].shadow_price
    assert price is not None
    assert price > 0
    base = objective(problem)
    up = dataclasses.replace(
        problem, targets=dataclasses.replace(targets, nursing_capacity_growth=0.06 + STEP)
    )
    down = dataclasses.replace(
        problem, targets=dataclasses.replace(targets, nursing_capacity_growth=0.06 - STEP)
    )
    # One percentage point is 0.01 of growth.
    assert_between(
        price,
        (objective(up) - base) / STEP * 0.01,
        (base - objective(down)) / STEP * 0.01,
    )


def test_turnover_target_price_is_the_cost_of_one_point_less() -> None:
    """Two groups of 100 posts with 90 in post (v0 = 0.1, rho = 0.9), r = 12%, agency
    barred, one 10 WTE pool covering both. X: penalty £1,000, beta 0 (ri = 0.12);
    Y: penalty £500, beta 1 (ri = 0.02). By cost alone the pool fills X, leaving Y's 10
    WTE unfilled: L = 0.9 + (0.15 + 0.075·10) = 1.8, a rate of 1.8·12/180 = 12%.
    A target of 11% allows 0.11/12·180 = 1.65 leavers: 2 WTE of the pool move from X
    to Y (0.075 fewer leavers each), costing 2·(1,000 - 500) = £1,000. Each point of
    tau is 0.15 leavers, 2 WTE, £1,000: the price is £1,000 a point."""
    groups = (
        StaffGroup("X", False, 200.0, 1_000.0, 0.0),
        StaffGroup("Y", False, 200.0, 500.0, 1.0),
    )
    units = tuple(Unit("A", code, 100.0, 90.0, 0.12, 0.0, 0.0, 0.0) for code in ("X", "Y"))
    targets = Targets(nursing_capacity_growth=0.0, turnover_target=0.11, agency_reduction=0)
    case = Problem(
        start="2025-01",
        months=1,
        organisations=(Organisation("A", "North"),),
        staff_groups=groups,
        units=units,
        pools=(Pool("P", "North", ("X", "Y"), 100.0, 10.0),),
        targets=targets,
    )
    result = solve(case, do_nothing=False)
    assert result.status is SolveStatus.OPTIMAL
    assert result.cost is not None
    assert result.cost.unfilled_penalty == pytest.approx(2 * 1_000 + 8 * 500)
    price = result.targets["turnover"].shadow_price
    assert price is not None
    assert price == pytest.approx(1_000)
    base = objective(case)
    tighter = dataclasses.replace(
        case, targets=dataclasses.replace(targets, turnover_target=0.11 - STEP)
    )
    looser = dataclasses.replace(
        case, targets=dataclasses.replace(targets, turnover_target=0.11 + STEP)
    )
    assert_between(
        price,
        (objective(tighter) - base) / STEP * 0.01,
        (base - objective(looser)) / STEP * 0.01,
    )


def test_unused_capacity_is_worth_nothing() -> None:
    from tests.optimiser.helpers import pool, problem, unit

    case = problem([unit("A", establishment=100, staff=95)], [pool(capacity=50)])
    result = solve(case)
    assert {row["value"] for row in result.pool_shadow_prices} == {0.0}
    assert isinstance(case.pools[0], Pool)
