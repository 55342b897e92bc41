"""Random instances: what every plan must satisfy, and agreement with an independent solve."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimiser import HistoryMonth, Problem, SolveStatus, Targets, solve, solver
from optimiser import model as lp
from optimiser.examples import generate
from optimiser.solve import run_highs
from optimiser.solver import SolverRun, warm_start_cost
from tests.optimiser import independent

TOLERANCE = 1e-6


@st.composite
def problems(draw: st.DrawFn) -> Problem:
    targets = Targets(
        nursing_capacity_growth=draw(st.sampled_from([-0.2, 0.0, 0.02, 0.05])),
        turnover_target=draw(st.sampled_from([0.08, 0.12, 0.2])),
        agency_reduction=draw(st.sampled_from([None, 0.0, 0.1, 0.3])),
        temporary_staffing_cap=draw(st.sampled_from([None, None, 0.1])),
        min_fill_rate=draw(st.sampled_from([None, None, 0.2])),
    )
    months = draw(st.integers(1, 5))
    problem = generate(
        organisations=draw(st.integers(2, 5)),
        pools=draw(st.integers(1, 4)),
        months=months,
        groups=draw(st.integers(1, 4)),
        seed=draw(st.integers(0, 10_000)),
        # t* may lie beyond the horizon
        targets=dataclasses.replace(targets, target_month=draw(st.integers(1, months + 3))),
    )
    # Some months before the horizon, some missing, near the system's own figures.
    staff = sum(u.staff_in_post_wte for u in problem.units)
    leavers = sum(u.staff_in_post_wte * u.turnover_rate / 12 for u in problem.units)
    present = draw(st.lists(st.integers(-11, 0), unique=True, max_size=12))
    history = tuple(
        HistoryMonth(
            month=s,
            leavers_wte=round(leavers * draw(st.sampled_from([0.7, 1.0, 1.4])), 2),
            staff_in_post_wte=round(staff * 0.99, 2),
        )
        for s in sorted(present)
    )
    return dataclasses.replace(problem, history=history)


SETTINGS = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@SETTINGS
@given(problem=problems())
def test_plans_keep_every_rule(problem: Problem) -> None:
    model = lp.build(problem)
    outcome = run_highs(model, time_limit_s=30, threads=1)
    if outcome.status is SolveStatus.INFEASIBLE:
        assert math.isinf(independent.objective(problem))
        return
    assert outcome.values is not None
    v = outcome.values
    layout, data = model.layout, model.data
    staff, leavers = v[layout.staff], v[layout.leavers]
    agency, unfilled = v[layout.agency], v[layout.unfilled]
    # The model's x[p,o,g,t], split back out of what pools send and units receive.
    route, unit, month, x = lp.split_bank(layout, v)
    pool = layout.route_pool[route]
    bank = np.zeros_like(staff)
    np.add.at(bank, (unit, month), x)
    slack = 1e-6 * (1 + np.abs(data.establishment))

    # Every part of x is a possible combination: a group the pool covers, in reach.
    places = {o.code: o.place for o in problem.organisations}
    for p, u in set(zip(pool.tolist(), unit.tolist(), strict=True)):
        organisation, group = layout.units[u]
        assert group in problem.pools[p].covers
        assert problem.reach.allowed(problem.pools[p].home_place, places[organisation])
    # Pool capacities are never exceeded.
    used = np.zeros_like(data.capacity)
    np.add.at(used, (pool, month), x)
    assert (used <= data.capacity + 1e-6).all()
    # The split loses nothing: each unit gets what it was given.
    given = np.zeros_like(staff)
    given[layout.served] = v[layout.bank]
    assert np.allclose(bank, given, atol=1e-6)
    # Coverage: staff + bank + agency + unfilled reach the establishment.
    assert (staff + bank + agency + unfilled >= data.establishment - slack).all()
    # Stock and flow, month to month.
    assert np.allclose(staff[:, 0], data.staff_in_post, atol=1e-6)
    assert np.allclose(
        staff[:, 1:], staff[:, :-1] - leavers[:, :-1] + data.starters[:, None], atol=1e-6
    )
    # Leavers follow the turnover rule.
    expected = (
        data.underlying_turnover[:, None] / 12 * staff
        + (data.beta * data.rho)[:, None] / 12 * unfilled
    )
    assert np.allclose(leavers, expected, atol=1e-6)


def assert_same(ours: float, theirs: float) -> None:
    assert ours == pytest.approx(theirs, rel=TOLERANCE, abs=1e-6)


@SETTINGS
@given(problem=problems())
def test_the_lexicographic_optimum_equals_an_independent_solve(problem: Problem) -> None:
    """The least shortfall and the least cost at it, against two ``linprog`` solves of
    the model written in ``x[p,o,g,t]``."""
    outcome = run_highs(lp.build(problem), time_limit_s=30, threads=1)
    reference = independent.solve(problem)
    if outcome.status is SolveStatus.INFEASIBLE:
        assert math.isinf(reference.shortfall)
        return
    assert outcome.shortfall is not None
    assert outcome.objective is not None
    assert_same(outcome.shortfall, reference.shortfall)
    assert_same(outcome.objective, reference.cost)
    result = solve(problem, do_nothing=False)
    assert result.objective is not None
    assert_same(result.objective, reference.cost)


@SETTINGS
@given(problem=problems())
def test_a_plan_is_never_worse_than_doing_nothing(problem: Problem) -> None:
    """Lexicographically: no more shortfall than with no bank, and no more cost when the
    shortfall is the same. The do-nothing plan is the independent one with no bank."""
    plan = run_highs(lp.build(problem), time_limit_s=30, threads=1)
    nothing = run_highs(lp.build(problem, without_bank=True), time_limit_s=30, threads=1)
    if nothing.objective is None:
        return  # no plan without the bank (a minimum fill): nothing to compare with
    assert plan.shortfall is not None
    assert nothing.shortfall is not None
    assert plan.objective is not None
    assert plan.shortfall <= nothing.shortfall * (1 + TOLERANCE) + 1e-6
    if plan.shortfall >= nothing.shortfall - 1e-6:
        assert plan.objective <= nothing.objective * (1 + TOLERANCE) + 1e-6
    reference = independent.solve(problem, no_bank=True)
    assert_same(nothing.shortfall, reference.shortfall)
    assert_same(nothing.objective, reference.cost)


@pytest.fixture(scope="module")
def out_of_reach() -> tuple[lp.Model, SolverRun]:
    """A plan whose targets are out of reach (so the stages must move off any start's
    vertex), and its two stages by the simplex."""
    model = lp.build(generate(organisations=12, pools=16, months=24, seed=3))
    simplex = run_highs(model, time_limit_s=120, threads=1, method="simplex")
    assert simplex.status is SolveStatus.OPTIMAL
    assert simplex.shortfall is not None
    assert simplex.shortfall > 1.0
    return model, simplex


def assert_same_plan(model: lp.Model, run: SolverRun, simplex: SolverRun) -> None:
    """``run`` has the simplex's least shortfall, cost and staff in post."""
    assert run.status is SolveStatus.OPTIMAL
    assert simplex.shortfall is not None
    assert run.shortfall == pytest.approx(simplex.shortfall, rel=TOLERANCE, abs=1e-6)
    assert run.objective == pytest.approx(simplex.objective, rel=TOLERANCE)
    assert run.values is not None
    assert simplex.values is not None
    staff = model.layout.staff
    assert np.allclose(run.values[staff], simplex.values[staff], atol=1e-3)


def test_the_interior_point_for_large_plans_agrees_with_simplex(
    out_of_reach: tuple[lp.Model, SolverRun],
) -> None:
    """From ``INTERIOR_POINT_FROM`` columns a plan starts from the cost alone (the slacks
    free), solved by HiPO with a crossover, and both stages go on from its vertex by the
    primal simplex. Forced down that path, a smaller instance whose targets are out of
    reach gets simplex's shortfall, cost and plan; and HiPO really ran (HiGHS falls back
    to simplex, silently, when its plugin is missing)."""
    model, simplex = out_of_reach
    assert np.array_equal(warm_start_cost(model, "hipo"), model.cost)
    assert (warm_start_cost(model, "simplex")[model.layout.slacks] > model.cost.max()).all()
    hipo = run_highs(model, time_limit_s=120, threads=1, method="hipo")
    assert_same_plan(model, hipo, simplex)
    assert hipo.cost_duals is not None
    assert hipo.iterations[1] > 0  # interior-point iterations


def test_a_plan_started_on_the_shortfall_face_agrees_with_simplex(
    out_of_reach: tuple[lp.Model, SolverRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    """From ``FACE_FROM`` columns a plan starts on the shortfall stage's optimal face
    (``_face_start``): two interior-point solves, then both stages by the simplex from
    the face's vertex. Forced down that path, an instance whose targets are out of reach
    gets simplex's shortfall, cost and staff in post, and the stages start close: with
    the crossover they take under half the simplex iterations they take from the cost's
    vertex."""
    model, simplex = out_of_reach
    from_cost = run_highs(model, time_limit_s=120, threads=1, method="hipo")
    monkeypatch.setattr(solver, "FACE_FROM", 0)
    faced = run_highs(model, time_limit_s=120, threads=1, method="hipo")
    assert_same_plan(model, faced, simplex)
    assert faced.iterations[1] > from_cost.iterations[1]  # two interior-point solves
    assert faced.iterations[0] < from_cost.iterations[0] / 2


def test_a_face_that_cannot_be_solved_falls_back_to_the_cost_alone(
    out_of_reach: tuple[lp.Model, SolverRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the interior point fails on the face (here a tolerance below zero holds every
    column at both its bounds, so the face is empty), the plan starts from the cost alone
    as below ``FACE_FROM``, and is still the exact one."""
    model, simplex = out_of_reach
    monkeypatch.setattr(solver, "FACE_FROM", 0)
    monkeypatch.setattr(solver, "SHORTFALL_FACE_TOLERANCE", -1.0)
    fallen_back = run_highs(model, time_limit_s=120, threads=1, method="hipo")
    assert_same_plan(model, fallen_back, simplex)
