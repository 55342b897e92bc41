"""Hand-solved cases of the monthly trajectories and the lexicographic objective."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from optimiser import (
    HistoryMonth,
    Organisation,
    Pool,
    Problem,
    SolveStatus,
    StaffGroup,
    Targets,
    Unit,
    solve,
    solver,
)
from optimiser import model as lp
from optimiser.solver import _highs, run_highs, warm_start_cost
from tests.optimiser import independent
from tests.optimiser.helpers import pool, problem, unit, with_capacity

STEP = 1e-3


def test_a_two_month_trajectory_binds_in_month_1_and_not_in_month_2() -> None:
    """C0 = 100 in post (no bank or agency today), 5% growth by t* = 2 months:
    R_N[1] = 100·(1 + 0.05·1/2) = 102.5 and R_N[2] = 105. Nobody leaves and 6 start each
    month, so S1 = 100 and S2 = 106. Month 1 needs 2.5 WTE more: the pool's (£100, room
    for 5), £250; month 2 is met by staff in post alone, 1 WTE above its trajectory and
    6 above the 100 funded posts. The trajectory row binds in month 1 only: a point more
    growth asks 0.01·100·1/2 = 0.5 WTE more in month 1, £50 a point."""
    targets = Targets(nursing_capacity_growth=0.05, target_month=2, turnover_target=1.0)
    case = problem(
        [unit("A", establishment=100, staff=100, starters=6)],
        [pool(capacity=5)],
        months=2,
        targets=targets,
    )
    result = solve(case)
    assert result.status is SolveStatus.OPTIMAL
    assert result.cost is not None
    assert result.cost.bank == pytest.approx(250)
    assert result.cost.cash == pytest.approx(250)
    assert [a["wte"] for a in result.allocations] == [2.5]
    assert [a["period"] for a in result.allocations] == ["2025-01"]
    system = result.system
    assert [m["nursing_capacity_trajectory_wte"] for m in system] == [102.5, 105.0]
    assert [m["nursing_capacity_wte"] for m in system] == [102.5, 106.0]
    assert [m["nursing_shortfall_wte"] for m in system] == [0.0, 0.0]
    assert [m["over_establishment_nursing_wte"] for m in system] == [2.5, 6.0]
    nursing = result.targets["nursing_capacity"]
    assert (nursing.required, nursing.achieved, nursing.months_short) == (105.0, 106.0, [])
    assert nursing.shadow_price == pytest.approx(50)
    assert result.prices_unit == "GBP"
    assert result.pool_shortfall_prices == []
    assert result.gap_levers == []
    more = dataclasses.replace(
        case, targets=dataclasses.replace(targets, nursing_capacity_growth=0.05 + STEP)
    )
    assert solve(more, do_nothing=False).objective == pytest.approx(250 + 50 * STEP / 0.01)


def test_a_turnover_window_that_starts_in_the_history() -> None:
    """100 in post for 100 posts, r = 12% (so 1 leaver a month), 1 starter a month: S and
    L stay at 100 and 1. Before the horizon only two months have returns: s = -1 (2
    leavers, 100 in post) and s = 0 (1 leaver, 100 in post); the other ten are left out
    of both sides. r0 = 12·3/200 = 18%; tau = 12% at t* = 2:
    R_T[1] = 0.12 + 0.06·(1 - 1/2) = 15%, R_T[2] = 12%.
    Month 1's window: leavers 2 + 1 + 1 = 4, staff 300, allowed 0.15/12·300 = 3.75:
    0.25 WTE of leavers over (a rolling rate of 12·4/300 = 16%). Month 2: leavers 5,
    staff 400, allowed 4: 1 WTE over (15%). With no gaps to fill nothing can lower
    leavers, so the plan is short 1.25 WTE-months, at most 12·1/400 = 3 points."""
    history = (
        HistoryMonth(month=-1, leavers_wte=2, staff_in_post_wte=100),
        HistoryMonth(month=0, leavers_wte=1, staff_in_post_wte=100),
    )
    case = dataclasses.replace(
        problem(
            [unit("A", establishment=100, staff=100, turnover=0.12, starters=1)],
            months=2,
            targets=Targets(nursing_capacity_growth=-0.5, turnover_target=0.12, target_month=2),
        ),
        history=history,
    )
    result = solve(case)
    assert result.status is SolveStatus.TARGETS_UNREACHABLE
    system = result.system
    assert [m["turnover_trajectory"] for m in system] == [0.15, 0.12]
    assert [m["turnover_rate_12m"] for m in system] == [0.16, 0.15]
    assert [m["turnover_shortfall_wte"] for m in system] == [0.25, 1.0]
    turnover = result.targets["turnover"]
    assert turnover.shortfall == pytest.approx(0.03)
    assert turnover.shortfall_wte_months == pytest.approx(1.25)
    assert turnover.months_short == ["2025-01", "2025-02"]
    assert turnover.achieved == pytest.approx(0.15)
    assert turnover.shadow_price is None
    assert "turnover is above its trajectory in 2 months (2025-01 to 2025-02)" in result.message
    assert "by up to 1.00 WTE of leavers" in result.message
    assert independent.solve(case).shortfall == pytest.approx(1.25)


def unreachable() -> Problem:
    """C0 = 90 (90 in post for 100 posts, no bank or agency today, agency barred), 10%
    growth by t* = 2: R_N[1] = 94.5, R_N[2] = 99. Nobody joins or leaves. The pool's 4
    WTE make 94 each month: short 0.5 in month 1 and 5 in month 2, 5.5 WTE-months."""
    return problem(
        [unit("A", establishment=100, staff=90)],
        [pool(capacity=4)],
        months=2,
        targets=Targets(
            nursing_capacity_growth=0.1, target_month=2, turnover_target=1.0, agency_reduction=0
        ),
    )


def least_shortfall(case: Problem) -> float:
    outcome = run_highs(lp.build(case), time_limit_s=30, threads=1)
    assert outcome.shortfall is not None
    return outcome.shortfall


def test_a_target_out_of_reach_says_where_and_by_how_much_in_wte() -> None:
    """Each more pool WTE in a month closes one WTE of that month's shortfall: a price of
    1 WTE per WTE-month in both months, checked by finite differences. The levers: a
    later target (t* = 8: R_N = 91.125 and 92.25, both within 94) closes all 5.5; one
    more pool WTE every month closes 2; the pipeline has no starters to grow."""
    case = unreachable()
    result = solve(case)
    assert result.status is SolveStatus.TARGETS_UNREACHABLE
    assert [m["nursing_shortfall_wte"] for m in result.system] == [0.5, 5.0]
    nursing = result.targets["nursing_capacity"]
    assert (nursing.shortfall, nursing.shortfall_wte_months) == (5.0, 5.5)
    assert nursing.months_short == ["2025-01", "2025-02"]
    assert nursing.shadow_price is None
    assert "nursing capacity is below its trajectory in 2 months (2025-01 to 2025-02)" in (
        result.message
    )
    assert "by up to 5.00 WTE (5.50 WTE-months in all)" in result.message
    assert result.prices_unit == "WTE"
    assert result.pool_shadow_prices == []
    assert result.pool_shortfall_prices == [
        {"pool": "P", "period": "2025-01", "value": 1.0},
        {"pool": "P", "period": "2025-02", "value": 1.0},
    ]
    base = least_shortfall(case)
    assert base == pytest.approx(5.5)
    for month in (0, 1):
        closed = base - least_shortfall(with_capacity(case, 0, month, STEP))
        assert closed / STEP == pytest.approx(1.0, abs=1e-6)
    levers = {(lever["lever"], lever["subject"]): lever for lever in result.gap_levers}
    assert levers["target_month", None]["shortfall_closed_wte"] == pytest.approx(5.5)
    assert levers["pool", "P"]["shortfall_closed_wte"] == pytest.approx(2.0)
    assert levers["pipeline", None]["shortfall_closed_wte"] == pytest.approx(0.0)
    assert result.gap_levers[0]["lever"] == "target_month"


@pytest.mark.parametrize("seed", [3, 11])
def test_shortfall_prices_are_the_shortfall_closed_by_one_more_wte(seed: int) -> None:
    """On generated systems with targets far out of reach, each pool and month's price in
    WTE lies between the left and right finite differences of the least shortfall."""
    from optimiser.examples import generate

    case = generate(
        organisations=3,
        pools=2,
        months=3,
        groups=2,
        seed=seed,
        targets=Targets(nursing_capacity_growth=0.3, turnover_target=0.05, agency_reduction=0.5),
    )
    result = solve(case, do_nothing=False)
    assert result.status is SolveStatus.TARGETS_UNREACHABLE
    base = least_shortfall(case)
    codes = [p.code for p in case.pools]
    for row in result.pool_shortfall_prices:
        p, t = codes.index(row["pool"]), int(row["period"][-2:]) - 4
        more = (base - least_shortfall(with_capacity(case, p, t, STEP))) / STEP
        less = (least_shortfall(with_capacity(case, p, t, -STEP)) - base) / STEP
        low, high = sorted((more, less))
        assert low - 1e-3 <= row["value"] <= high + 1e-3


def big_m_case() -> Problem:
    """Two groups of 100 posts with 90 in post (v0 = 0.1, rho = 0.9), r = 12%, agency
    barred, one 10 WTE pool (£100) covering both; no nursing groups, one month, tau =
    11.5%. X: penalty £1,000, beta 0 (ri = 12%); Y: penalty £500, beta 0.05 (ri = 11.5%).
    Leavers: X 0.9; Y 0.8625 + 0.00375·uY. Staff 180, so 0.115/12·180 = 1.725 allowed.

    Cheapest: the pool fills X (it saves £1,000 a WTE there, £500 in Y): uY = 10, leavers
    1.8, 0.075 over, cost 10·100 + 10·500 = £6,000. Each pool WTE moved to Y cuts leavers
    by 0.00375 and costs £500: £133,333 per WTE of shortfall closed. Version 1's big M,
    100 times the dearest cost (100·£1,000 = £100,000), is less than that, so its plan
    keeps the £6,000 plan and the 0.075 shortfall. The lexicographic optimum moves all 10
    WTE to Y: leavers 1.7625, short 0.0375, cost 1,000 + 10·1,000 = £11,000."""
    groups = (
        StaffGroup("X", False, 200.0, 1_000.0, 0.0),
        StaffGroup("Y", False, 200.0, 500.0, 0.05),
    )
    units = tuple(Unit("A", code, 100.0, 90.0, 0.12, 0.0, 0.0, 0.0) for code in ("X", "Y"))
    return Problem(
        start="2025-01",
        months=1,
        organisations=(Organisation("A", "North"),),
        staff_groups=groups,
        units=units,
        pools=(Pool("P", "North", ("X", "Y"), 100.0, 10.0),),
        targets=Targets(nursing_capacity_growth=0.0, turnover_target=0.115, agency_reduction=0),
    )


def test_the_face_start_of_large_plans_gives_the_hand_solved_plan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The big-M case (no nursing group, so no nursing slack) started on the shortfall
    stage's optimal face, as plans from ``FACE_FROM`` columns are: the lexicographic
    plan, not the big M's; and over three months the simplex's."""
    monkeypatch.setattr(solver, "FACE_FROM", 0)
    started: list[bool] = []  # whether each face start succeeded
    face_start = solver._face_start

    def spy(highs: Any, model: lp.Model) -> tuple[bool, tuple[int, int]]:
        outcome = face_start(highs, model)
        started.append(outcome[0])
        return outcome

    monkeypatch.setattr(solver, "_face_start", spy)
    run = run_highs(lp.build(big_m_case()), time_limit_s=30, threads=1, method="hipo")
    assert started == [True]
    assert run.status is SolveStatus.OPTIMAL
    assert run.shortfall == pytest.approx(0.0375)
    assert run.objective == pytest.approx(11_000, abs=0.05)
    # Over three months, as the simplex solves it.
    longer = lp.build(dataclasses.replace(big_m_case(), months=3))
    faced = run_highs(longer, time_limit_s=30, threads=1, method="hipo")
    simplex = run_highs(longer, time_limit_s=30, threads=1, method="simplex")
    assert started == [True, True]
    assert simplex.shortfall is not None
    assert simplex.shortfall > 0.05
    assert faced.shortfall == pytest.approx(simplex.shortfall, rel=1e-9, abs=1e-7)
    assert faced.objective == pytest.approx(simplex.objective, rel=1e-9)


def test_where_version_1s_big_m_gives_another_plan_the_targets_come_first() -> None:
    case = big_m_case()
    model = lp.build(case)
    weighted = _highs(
        model, time_limit_s=30, threads=1, method="simplex", cost=warm_start_cost(model, "simplex")
    )
    weighted.run()
    values = np.asarray(weighted.getSolution().col_value)
    assert float(values[model.layout.slacks].sum()) == pytest.approx(0.075)
    assert float(model.cost @ values) == pytest.approx(6_000)

    result = solve(case)
    assert result.status is SolveStatus.TARGETS_UNREACHABLE
    assert least_shortfall(case) == pytest.approx(0.0375)
    assert result.targets["turnover"].shortfall_wte_months == 0.04  # rounded to hundredths
    # The cost stage may use the 1e-7 WTE of room it is given on the least shortfall, at
    # £133,333 a WTE: a penny and a third.
    assert result.objective == pytest.approx(11_000, abs=0.05)
    assert {(a["staff_group"], a["wte"]) for a in result.allocations} == {("Y", 10.0)}
    reference = independent.solve(case)
    assert reference.shortfall == pytest.approx(0.0375)
    assert reference.cost == pytest.approx(11_000, abs=0.05)


def test_a_target_month_beyond_the_horizon_ends_the_trajectory_part_way() -> None:
    """t* = 4 with a 2-month horizon: R_N[t] = 100·(1 + 0.04·t/4), 101 and 102; the plan
    reports 102 as its final requirement and achieves it in month 2 (the pool, £100)."""
    case = problem(
        [unit("A", establishment=100, staff=100)],
        [pool(capacity=5)],
        months=2,
        targets=Targets(nursing_capacity_growth=0.04, target_month=4, turnover_target=1.0),
    )
    result = solve(case)
    assert [m["nursing_capacity_trajectory_wte"] for m in result.system] == [101.0, 102.0]
    assert result.targets["nursing_capacity"].required == 102.0
    assert result.cost is not None
    assert result.cost.bank == pytest.approx(300)


def test_cbc_gives_the_same_lexicographic_plan() -> None:
    for case in (big_m_case(), unreachable()):
        highs, cbc = solve(case), solve(case, solver="cbc")
        assert cbc.solve is not None
        assert cbc.solve.solver.startswith("CBC")
        assert cbc.status is highs.status
        assert cbc.objective == pytest.approx(highs.objective)
        assert cbc.do_nothing_cost == pytest.approx(highs.do_nothing_cost)
    # Where the prices are unique (not in the big-M case: there one more WTE closes
    # nothing, one less reopens 0.00375, and any price between is a dual), they agree.
    assert solve(unreachable(), solver="cbc").pool_shortfall_prices == (
        solve(unreachable()).pool_shortfall_prices
    )
