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
from optimiser.solver import warm_start_cost
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


def test_the_interior_point_for_large_plans_agrees_with_simplex() -> None:
    """From ``INTERIOR_POINT_FROM`` columns a plan starts from the cost alone (the slacks
    free), solved by HiPO with a crossover, and both stages go on from its vertex by the
    primal simplex. Forced down that path, a smaller instance whose targets are out of
    reach (so the stages must move off the cost's vertex) gets simplex's shortfall, cost
    and plan; and HiPO really ran (HiGHS falls back to simplex, silently, when its plugin
    is missing)."""
    model = lp.build(generate(organisations=12, pools=16, months=24, seed=3))
    assert np.array_equal(warm_start_cost(model, "hipo"), model.cost)
    assert (warm_start_cost(model, "simplex")[model.layout.slacks] > model.cost.max()).all()
    simplex = run_highs(model, time_limit_s=120, threads=1, method="simplex")
    hipo = run_highs(model, time_limit_s=120, threads=1, method="hipo")
    assert simplex.status is hipo.status is SolveStatus.OPTIMAL
    assert simplex.shortfall is not None
    assert simplex.shortfall > 1.0
    assert hipo.shortfall == pytest.approx(simplex.shortfall, rel=TOLERANCE, abs=1e-6)
    assert hipo.objective == pytest.approx(simplex.objective, rel=TOLERANCE)
    assert hipo.cost_duals is not None
    assert hipo.values is not None
    assert simplex.values is not None
    assert np.allclose(
        hipo.values[model.layout.staff], simplex.values[model.layout.staff], atol=1e-3
    )
    assert hipo.iterations[1] > 0  # interior-point iterations


def test_a_plan_started_on_the_shortfall_face_agrees_with_simplex(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """From ``FACE_FROM`` columns a plan starts on the shortfall stage's optimal face
    (``_face_start``): two interior-point solves, then both stages by the simplex from
    the face's vertex. Forced down that path, an instance whose targets are out of reach
    gets simplex's shortfall, cost and staff in post, and the stages start close: they
    take a few hundred simplex iterations, where from the cost's vertex they take
    thousands."""
    model = lp.build(generate(organisations=12, pools=16, months=24, seed=3))
    simplex = run_highs(model, time_limit_s=120, threads=1, method="simplex")
    from_cost = run_highs(model, time_limit_s=120, threads=1, method="hipo")
    monkeypatch.setattr(solver, "FACE_FROM", 0)
    faced = run_highs(model, time_limit_s=120, threads=1, method="hipo")
    assert simplex.status is faced.status is SolveStatus.OPTIMAL
    assert simplex.shortfall is not None
    assert simplex.shortfall > 1.0
    assert faced.shortfall == pytest.approx(simplex.shortfall, rel=TOLERANCE, abs=1e-6)
    assert faced.objective == pytest.approx(simplex.objective, rel=TOLERANCE)
    assert faced.values is not None
    assert simplex.values is not None
    assert np.allclose(
        faced.values[model.layout.staff], simplex.values[model.layout.staff], atol=1e-3
    )
    assert faced.iterations[1] > from_cost.iterations[1]  # two interior-point solves
    assert faced.iterations[0] < from_cost.iterations[0] / 2  # crossover and both stages


def test_a_face_that_cannot_be_solved_falls_back_to_the_cost_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When the interior point fails on the face (here a tolerance below zero holds every
    column at both its bounds, so the face is empty), the plan starts from the cost alone
    as below ``FACE_FROM``, and is still the exact one."""
    model = lp.build(generate(organisations=12, pools=16, months=24, seed=3))
    simplex = run_highs(model, time_limit_s=120, threads=1, method="simplex")
    monkeypatch.setattr(solver, "FACE_FROM", 0)
    monkeypatch.setattr(solver, "SHORTFALL_FACE_TOLERANCE", -1.0)
    fallen_back = run_highs(model, time_limit_s=120, threads=1, method="hipo")
    assert fallen_back.status is SolveStatus.OPTIMAL
    assert simplex.shortfall is not None
    assert fallen_back.shortfall == pytest.approx(simplex.shortfall, rel=TOLERANCE, abs=1e-6)
    assert fallen_back.objective == pytest.approx(simplex.objective, rel=TOLERANCE)
