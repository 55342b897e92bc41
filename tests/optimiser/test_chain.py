"""Warm chains (``optimiser.chain``): every warm point's plan is its cold solve's.

The plans' models have many optima of equal cost (two units of a staff group at one place,
served by one pool, can swap bank for agency at no cost), so the plan's last stage breaks
the ties by a fixed preference (``optimiser.solver.tie_break_cost``): a warm point ends
at the same plan as its cold solve, allocations and all, whatever vertex its earlier
stages reached.
"""

from __future__ import annotations

import dataclasses
import importlib
import math
from typing import Any

import numpy as np
import pytest

from optimiser import model as lp
from optimiser.chain import Chain, same_plan, same_shape
from optimiser.examples import generate
from optimiser.problem import Problem
from optimiser.result import PlanResult, SolveStatus
from optimiser.solve import solve


def demo_like(months: int = 24) -> Problem:
    return generate(organisations=12, pools=16, months=months, seed=20261123)


def scenario(problem: Problem, **targets: Any) -> Problem:
    return dataclasses.replace(problem, targets=dataclasses.replace(problem.targets, **targets))


def assert_same_plan(warm: PlanResult, cold: PlanResult) -> None:
    assert warm.status is cold.status
    assert warm.objective is not None
    assert cold.objective is not None
    assert math.isclose(warm.objective, cold.objective, rel_tol=1e-6)
    assert cold.do_nothing is not None
    # Status, message, cost by kind, targets with their shortfalls and prices, the system's
    # figures, the gap levers, the do-nothing comparison: all the same, to the penny (two
    # solves that agree to 1e-12 may still round a figure either side of a half penny).
    assert same_plan(warm, cold)
    assert warm.message == cold.message
    versus = warm.to_dict()["versus_do_nothing"], cold.to_dict()["versus_do_nothing"]
    assert versus[0].keys() == versus[1].keys()
    for key, value in versus[1].items():
        assert versus[0][key] == pytest.approx(value, abs=0.02), key
    # The same allocation rows, to the hundredth of a WTE: the tie-break stage's optimum.
    assert warm.allocations == cold.allocations


def test_every_warm_point_of_a_sweep_is_its_cold_solve() -> None:
    """agency_reduction x nursing_capacity_growth, a chain per nursing target: each point
    after a chain's first is solved warm, and is its cold solve's plan."""
    base = demo_like()
    statuses = set()
    for growth in (0.02, 0.12):
        chain = Chain()
        for position, reduction in enumerate((0.0, 0.1, 0.2)):
            problem = scenario(base, agency_reduction=reduction, nursing_capacity_growth=growth)
            warm = chain.solve(problem)
            assert chain.warm == (position > 0)
            assert chain.do_nothing.warm_points == position
            cold = solve(problem)
            assert_same_plan(warm, cold)
            statuses.add(warm.status)
        # The gap levers of the unreachable points went on warm from the last point's too.
        assert chain.levers
        assert all(lever.warm_points > 0 for lever in chain.levers.values())
    # Both kinds of point: targets met, and out of reach (with its gap levers).
    assert statuses == {SolveStatus.OPTIMAL, SolveStatus.TARGETS_UNREACHABLE}


def test_levers_start_with_the_plan_after_a_point_out_of_reach(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After a point whose targets were out of reach, the levers' re-solves start with the
    plan's (before its basis is known), each from its own last state, or a lever new to
    the chain from the last point's plan. All give the cold solve's levers; when the
    point turns out reachable after all, they are dropped."""
    # The module, which the package's ``solve`` function hides.
    solve_module = importlib.import_module("optimiser.solve")
    early: list[frozenset[str]] = []
    lever_runs = solve_module.lever_runs

    def spy(*args: Any, **kwargs: Any) -> Any:
        early.append(frozenset(kwargs["subjects"]))
        return lever_runs(*args, **kwargs)

    monkeypatch.setattr(solve_module, "lever_runs", spy)
    base = demo_like()
    chain = Chain()
    both = frozenset({"pipeline", "target_month"})
    points = [
        # (growth, agency reduction, levers started early)
        (0.12, 0.0, None),  # the chain's first point: the levers start from its basis
        # The agency ceiling's lever is new (there was no ceiling), and starts from the
        # last point's plan.
        (0.12, 0.1, both | {"agency_ceiling"}),
        (0.12, 0.2, both | {"agency_ceiling"}),
        (0.02, 0.0, both),  # reachable: the levers started are dropped
        (0.02, 0.1, None),  # after a reachable point, none starts early
    ]
    for position, (growth, reduction, started) in enumerate(points):
        problem = scenario(base, agency_reduction=reduction, nursing_capacity_growth=growth)
        early.clear()
        warm = chain.solve(problem)
        assert early == ([started] if started else []), position
        cold = solve(problem)
        assert_same_plan(warm, cold)
        expected = SolveStatus.OPTIMAL if position == 3 else SolveStatus.TARGETS_UNREACHABLE
        assert warm.status is expected
        assert bool(warm.gap_levers) == (position != 3)
        assert {lever["lever"] for lever in warm.gap_levers} >= (
            set() if position == 3 else {"pipeline", "target_month"}
        )


def test_a_point_of_another_shape_is_solved_cold_and_starts_the_chain_afresh() -> None:
    base = demo_like(months=12)
    chain = Chain()
    chain.solve(base)
    # Turnover sensitivity is a coefficient of the leavers' rows: another matrix.
    group = base.staff_groups[0]
    other = dataclasses.replace(
        base,
        staff_groups=(
            dataclasses.replace(group, turnover_sensitivity=group.turnover_sensitivity + 0.2),
            *base.staff_groups[1:],
        ),
    )
    assert not same_shape(lp.build(base), lp.build(other))
    cold = solve(other)
    restarted = chain.solve(other)
    assert not chain.warm
    # Solved cold, it is the cold solve itself, allocations and all.
    assert {k: v for k, v in restarted.to_dict().items() if k != "solve"} == {
        k: v for k, v in cold.to_dict().items() if k != "solve"
    }
    # And the chain goes on warm from it.
    moved = scenario(other, agency_reduction=0.2)
    assert_same_plan(chain.solve(moved), solve(moved))
    assert chain.warm


def test_a_warm_solve_that_does_not_end_optimal_is_solved_cold(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from optimiser import chain as chain_module
    from optimiser.solver import SolverRun

    base = demo_like(months=12)
    chain = Chain()
    chain.solve(base)
    tried = []

    def stopped(*_args: Any, **_kwargs: Any) -> SolverRun:
        tried.append(True)
        return SolverRun(status=SolveStatus.TIME_LIMIT)

    monkeypatch.setattr(chain_module, "two_stages", stopped)
    moved = scenario(base, agency_reduction=0.2)
    result = chain.solve(moved)
    assert tried, "the warm solve was not tried"
    assert not chain.warm
    assert {k: v for k, v in result.to_dict().items() if k != "solve"} == {
        k: v for k, v in solve(moved).to_dict().items() if k != "solve"
    }


def test_shapes_compare_the_arrays() -> None:
    base = demo_like(months=6)
    one = lp.build(base)
    assert same_shape(one, lp.build(scenario(base, agency_reduction=0.3)))
    assert not same_shape(one, lp.build(demo_like(months=7)))
    changed = dataclasses.replace(one, a_value=np.where(one.a_value == 1.0, 2.0, one.a_value))
    assert not same_shape(one, changed)


def test_the_same_plan_allows_rounding_not_another_plan() -> None:
    base = demo_like(months=6)
    plan = solve(base)
    assert same_plan(plan, dataclasses.replace(plan, objective=(plan.objective or 0) * (1 + 1e-9)))
    assert not same_plan(plan, dataclasses.replace(plan, objective=(plan.objective or 0) * 1.001))
    assert plan.cost is not None
    dearer = dataclasses.replace(plan.cost, bank=plan.cost.bank + 1000.0)
    assert not same_plan(plan, dataclasses.replace(plan, cost=dearer))


def test_the_tie_break_stage_keeps_the_least_cost_and_ends_at_one_plan() -> None:
    """The tie-break stage keeps the least cost (to 1e-10) and shortfall, and ends at the
    same allocation whether the cost stage started from the weighted solve's vertex or
    from a basis of another point (the chain's)."""
    from optimiser.solver import run_highs

    base = demo_like()
    points = [scenario(base, agency_reduction=r) for r in (0.0, 0.2)]
    models = [lp.build(p) for p in points]
    two = run_highs(models[1], time_limit_s=60, threads=1, stages=2)
    three = run_highs(models[1], time_limit_s=60, threads=1, stages=3)
    assert two.objective is not None
    assert three.objective is not None
    assert three.objective == pytest.approx(two.objective, rel=1e-10)
    assert three.shortfall == pytest.approx(two.shortfall, rel=1e-9, abs=1e-7)
    from optimiser.chain import WarmModel

    warm = WarmModel()
    warm.run(models[0], 60, stages=3)
    moved = warm.run(models[1], 60, stages=3)
    assert warm.warm_points == 1
    assert moved.values is not None
    assert three.values is not None
    bank = models[1].layout.bank
    assert np.abs(moved.values[bank] - three.values[bank]).max() < 1e-4


def tie_break_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A list that gains an entry each time the tie-break stage runs."""
    solver = importlib.import_module("optimiser.solver")
    stages_run: list[str] = []
    break_ties = solver._break_ties

    def spy(*args: Any) -> None:
        stages_run.append("tie-break")
        break_ties(*args)

    monkeypatch.setattr(solver, "_break_ties", spy)
    return stages_run


def test_the_weighted_cost_stage_is_the_tie_break_plan_when_its_check_takes_no_step(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The cost stage minimises the cost with a thousandth of the tie-break weights; when
    its vertex is of least cost (the cost alone finds none less), it is the tie-break plan.
    Forcing the tie-break stage to run all the same ends at the same plan, at the same
    cost."""
    solver = importlib.import_module("optimiser.solver")
    model = lp.build(scenario(demo_like(), agency_reduction=0.2))
    stages_run = tie_break_runs(monkeypatch)
    checked = solver.run_highs(model, time_limit_s=60, threads=1, stages=3)
    assert stages_run == []  # the weighted vertex was of least cost: no tie-break stage

    check_cost = solver._check_cost
    monkeypatch.setattr(solver, "_check_cost", lambda *a: (check_cost(*a)[0], False))
    forced = solver.run_highs(model, time_limit_s=60, threads=1, stages=3)
    assert stages_run == ["tie-break"]
    two = solver.run_highs(model, time_limit_s=60, threads=1, stages=2)
    assert checked.values is not None
    assert forced.values is not None
    assert two.objective is not None
    assert checked.objective == pytest.approx(two.objective, rel=1e-10)
    assert forced.objective == pytest.approx(two.objective, rel=1e-10)
    layout = model.layout
    for columns in (layout.bank, layout.sent, layout.agency):
        assert np.abs(checked.values[columns] - forced.values[columns]).max() < 1e-6
    weights = solver.tie_break_cost(model)
    # The tie-break plan has less weight than the cost stage's own vertex, or the same.
    assert weights @ checked.values <= weights @ two.values + 1e-6


def test_a_weighted_vertex_dearer_than_the_least_cost_goes_to_the_tie_break_stage(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With tie-break weights worth more than the costs, the weighted cost stage ends on a
    dearer plan: the check finds the least cost, rejects that vertex, and the tie-break
    stage keeps the least cost."""
    solver = importlib.import_module("optimiser.solver")
    model = lp.build(scenario(demo_like(), agency_reduction=0.2))
    two = solver.run_highs(model, time_limit_s=60, threads=1, stages=2)
    stages_run = tie_break_runs(monkeypatch)
    monkeypatch.setattr(solver, "TIE_BREAK_WEIGHT", 1e4)
    three = solver.run_highs(model, time_limit_s=60, threads=1, stages=3)
    assert stages_run == ["tie-break"]
    assert two.objective is not None
    assert three.objective == pytest.approx(two.objective, rel=1e-9)
