"""Solve a problem: build, solve in stages (``optimiser.solver``), read it back.

``solve`` also solves the do-nothing plan (every pool at zero capacity, the same two
stages) beside the plan, and, when no plan is possible, finds the constraint family to
blame by relaxing each in turn. When a target is out of reach it measures what would
close the gap (``optimiser.levers``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from optimiser import model as lp
from optimiser import readback
from optimiser.levers import LeverRun, gap_levers, lever_runs
from optimiser.problem import Problem, validate
from optimiser.result import Cost, PlanResult, SolveFigures, SolveStatus, TargetOutcome
from optimiser.solver import SolverRun, run, zero_shortfall

# Kept importable from here for older callers.
from optimiser.solver import run_highs as run_highs

FloatArray = lp.FloatArray
# The plan's stages: the least shortfall, the least cost with it, and among the plans of
# both, one chosen by a fixed preference (``optimiser.solver.tie_break_cost``), so that a
# problem always gives the same allocation however it was solved (cold, or along a chain).
# The do-nothing plan and the levers report no allocation and stop at two stages and one.
PLAN_STAGES = 3
# How a built model is solved in its stages, given the time limit: ``run`` unless a
# chain of like problems (``optimiser.chain``) passes its own, which goes on from the last.
ModelRun = Callable[[lp.Model, float], SolverRun]


@dataclass(frozen=True)
class Runs:
    """How the plan's model, the do-nothing plan's and the gap levers' are solved, in
    place of ``run`` (and ``run_highs`` for the levers)."""

    plan: ModelRun
    do_nothing: ModelRun
    lever: LeverRun
    # The levers whose re-solves start with the plan's, before knowing whether a target is
    # out of reach (and so without the plan's basis): in a chain, after a point whose
    # targets were.
    levers_early: frozenset[str] = frozenset()


def solve(
    problem: Problem,
    *,
    time_limit_s: float = 60.0,
    threads: int = 1,
    solver: str = "highs",
    do_nothing: bool = True,
    runs: Runs | None = None,
) -> PlanResult:
    """The plan for ``problem``. Raises ``ProblemError`` naming each bad field first.

    The do-nothing plan is solved on a second thread while this one builds and solves
    the plan: HiGHS lets go of the interpreter while it solves, so on two cores the plan
    takes the time of the longer of the two, not the sum. The time limit is for each
    of the two as a whole (both stages, and the gap levers of an unreachable plan).
    ``runs`` solve the plan's model and the do-nothing plan's, in place of ``run``.
    """
    validate(problem)
    with ThreadPoolExecutor(max_workers=1) as beside:
        baseline = (
            beside.submit(
                do_nothing_cost,
                problem,
                solver=solver,
                time_limit_s=time_limit_s,
                threads=threads,
                run_model=runs.do_nothing if runs else None,
            )
            if do_nothing
            else None
        )
        result = _solve(
            problem,
            time_limit_s=time_limit_s,
            threads=threads,
            solver=solver,
            runs=runs,
        )
        if baseline is not None and result.status not in (
            SolveStatus.INFEASIBLE,
            SolveStatus.ERROR,
        ):
            result.do_nothing = baseline.result()
    return result


def _solve(
    problem: Problem,
    *,
    time_limit_s: float,
    threads: int,
    solver: str,
    runs: Runs | None = None,
) -> PlanResult:
    started = time.perf_counter()
    model = lp.build(problem)
    build_s = time.perf_counter() - started
    with ThreadPoolExecutor(max_workers=1) as beside:
        early = (
            beside.submit(
                lever_runs,
                model,
                None,
                plan_solve_s=0.0,
                deadline=started + time_limit_s,
                threads=threads,
                run_lever=runs.lever,
                subjects=runs.levers_early,
            )
            if runs is not None and runs.levers_early and solver == "highs"
            else None
        )
        return _solve_built(
            problem,
            model,
            build_s=build_s,
            started=started,
            early=early,
            time_limit_s=time_limit_s,
            threads=threads,
            solver=solver,
            runs=runs,
        )


def _solve_built(
    problem: Problem,
    model: lp.Model,
    *,
    build_s: float,
    started: float,
    early: Future[dict[str, SolverRun | None]] | None,
    time_limit_s: float,
    threads: int,
    solver: str,
    runs: Runs | None,
) -> PlanResult:
    """The plan of a built model; ``early``, the levers' re-solves when they were started
    with it."""
    outcome = (
        run(model, solver=solver, time_limit_s=time_limit_s, threads=threads, stages=PLAN_STAGES)
        if runs is None
        else runs.plan(model, time_limit_s)
    )
    if outcome.values is None and outcome.status is SolveStatus.TIME_LIMIT:
        outcome = _stand_in(model, outcome, time_limit_s)
    figures = SolveFigures(
        variables=model.layout.count,
        constraints=model.num_rows,
        nonzeros=model.nonzeros,
        build_s=round(build_s, 4),
        solve_s=round(outcome.solve_s, 4),
        solver=outcome.solver,
    )
    if outcome.status is SolveStatus.INFEASIBLE:
        blamed = diagnose(problem, solver=solver, time_limit_s=time_limit_s, threads=threads)
        message = (
            "No plan meets every rule. Relaxing "
            + " or ".join(f"'{name}'" for name in blamed)
            + " makes one possible."
            if blamed
            else "No plan meets every rule, and relaxing one family alone does not help."
        )
        return PlanResult(
            status=SolveStatus.INFEASIBLE, message=message, solve=figures, blamed_families=blamed
        )
    if outcome.values is None:
        return PlanResult(
            status=SolveStatus.ERROR,
            message=outcome.reason or "the solve failed",
            solve=figures,
        )

    def levers() -> list[dict[str, Any]]:
        return gap_levers(
            model,
            outcome,
            deadline=started + time_limit_s,
            threads=threads,
            run_lever=runs.lever if runs else None,
            moved=early.result() if early is not None else None,
        )

    short = (outcome.shortfall or 0.0) > zero_shortfall(model)
    with ThreadPoolExecutor(max_workers=1) as beside:
        # The levers' re-solves while the plan is read back: HiGHS lets go of the
        # interpreter while it solves.
        later = beside.submit(levers) if short and solver == "highs" else None
        result = report(model, outcome)
        if result.status is SolveStatus.TARGETS_UNREACHABLE and solver == "highs":
            result.gap_levers = later.result() if later is not None else levers()
    result.solve = figures
    return result


def _stand_in(model: lp.Model, outcome: SolverRun, time_limit_s: float) -> SolverRun:
    """With no plan by the time limit, the plan with no bank stands in when it is one."""
    values = simulate_without_bank(model)
    if values is None:
        outcome.status = SolveStatus.ERROR
        outcome.reason = (
            f"the time limit of {time_limit_s:g} s passed before any feasible plan was found"
        )
        return outcome
    outcome.values = values
    outcome.objective = float(model.cost @ values)
    outcome.shortfall = float(values[model.layout.slacks].sum())
    outcome.reason = (
        f"stopped at the time limit of {time_limit_s:g} s before finding a better plan "
        "than using no bank at all, which is shown"
    )
    return outcome


def report(model: lp.Model, outcome: SolverRun) -> PlanResult:
    """Everything a plan reports, read back in named steps (``optimiser.readback``)."""
    assert outcome.values is not None
    values = outcome.values
    targets_without_prices = readback.read_targets(model, values, None)
    reachable = all(t.met for t in targets_without_prices.values())
    status = outcome.status
    if status is SolveStatus.OPTIMAL and not reachable:
        status = SolveStatus.TARGETS_UNREACHABLE
    priced = status is SolveStatus.OPTIMAL and outcome.cost_duals is not None
    targets = (
        readback.read_targets(model, values, outcome.cost_duals)
        if priced
        else targets_without_prices
    )
    return PlanResult(
        status=status,
        message=_message(status, model, values, targets, outcome.reason),
        objective=outcome.objective,
        least_shortfall=outcome.shortfall,
        cost=readback.read_cost(model, values),
        targets=targets,
        allocations=readback.read_allocations(model, values),
        projections=readback.read_projections(model, values),
        system=readback.read_system(model, values),
        pool_shadow_prices=readback.read_pool_prices(model, outcome.cost_duals) if priced else [],
        pool_shortfall_prices=_shortfall_prices(model, outcome)
        if status is SolveStatus.TARGETS_UNREACHABLE
        else [],
        prices_unit="GBP" if reachable else "WTE",
    )


def _shortfall_prices(model: lp.Model, outcome: SolverRun) -> list[dict[str, Any]]:
    prices = readback.read_pool_prices(model, outcome.shortfall_duals, digits=4)
    return sorted(prices, key=lambda p: (-p["value"], p["pool"], p["period"]))


def _message(
    status: SolveStatus,
    model: lp.Model,
    values: FloatArray,
    targets: dict[str, TargetOutcome],
    reason: str,
) -> str:
    if status is SolveStatus.OPTIMAL:
        return "Optimal: every target is met on its monthly trajectory, at the lowest cost."
    if status is SolveStatus.TIME_LIMIT:
        return (
            f"Best plan found before the solver {reason}; it may not be optimal, and "
            "prices are not available."
        )
    if status is not SolveStatus.TARGETS_UNREACHABLE:
        return reason
    path = readback.trajectories(model, values)
    parts = []
    for name, label, slack, unit in (
        (
            "nursing_capacity",
            "nursing capacity is below its trajectory",
            path.nursing_shortfall,
            "WTE",
        ),
        ("turnover", "turnover is above its trajectory", path.turnover_shortfall, "WTE of leavers"),
    ):
        outcome = targets.get(name)
        if outcome is None or outcome.met:
            continue
        months = outcome.months_short
        when = months[0] if len(months) == 1 else f"{months[0]} to {months[-1]}"
        parts.append(
            f"{label} in {len(months)} month{'s' if len(months) != 1 else ''} ({when}), by up "
            f"to {float(slack.max()):,.2f} {unit} ({float(slack.sum()):,.2f} WTE-months in all)"
        )
    return (
        "Optimal, but "
        + "; ".join(parts)
        + ", even with every pool and all the agency allowed. The shortfall is the least "
        "possible, and the plan is the cheapest with it."
    )


def simulate_without_bank(model: lp.Model) -> FloatArray | None:
    """A feasible plan found without a solver: no bank, no agency, every gap unfilled,
    staff in post flowing month by month. None when a rule forbids it (a minimum fill), or
    when leavers driven up by the gaps would take some staff in post below zero: that plan
    is not feasible, so it cannot stand in for one."""
    if "min_fill" in model.family_rows:
        return None
    layout, data = model.layout, model.data
    n, h = len(layout.units), layout.months
    staff = np.zeros((n, h))
    leavers = np.zeros((n, h))
    unfilled = np.zeros((n, h))
    staff[:, 0] = data.staff_in_post
    for t in range(h):
        unfilled[:, t] = np.maximum(0.0, data.establishment[:, t] - staff[:, t])
        leavers[:, t] = (
            data.underlying_turnover / 12 * staff[:, t] + data.beta * data.rho / 12 * unfilled[:, t]
        )
        if t + 1 < h:
            staff[:, t + 1] = staff[:, t] - leavers[:, t] + data.starters
    if (staff < 0).any():
        return None
    values = np.zeros(layout.count)
    values[layout.staff] = staff
    values[layout.leavers] = leavers
    values[layout.unfilled] = unfilled
    values[layout.system_leavers] = leavers.sum(axis=0)
    values[layout.system_staff] = staff.sum(axis=0)
    path = readback.trajectories(model, values)
    if layout.s_nursing >= 0:
        values[layout.nursing_slack] = np.maximum(
            0.0, data.nursing_trajectory - path.nursing_capacity
        )
    if layout.s_turnover >= 0:
        window_leavers = np.nan_to_num(path.turnover_rate) * path.window_staff / 12
        allowed = data.turnover_trajectory / 12 * path.window_staff
        values[layout.turnover_slack] = np.maximum(0.0, window_leavers - allowed)
    return values


def diagnose(problem: Problem, *, solver: str, time_limit_s: float, threads: int) -> list[str]:
    """The relaxable families whose removal alone makes the problem feasible."""
    present = {
        "agency_ceiling": problem.targets.agency_reduction is not None,
        "min_fill": problem.targets.min_fill_rate is not None,
        "temporary_cap": problem.targets.temporary_staffing_cap is not None,
    }
    blamed = []
    for family in lp.RELAXABLE:
        if not present[family]:
            continue
        relaxed = lp.build(problem, without=frozenset({family}))
        outcome = run(relaxed, solver=solver, time_limit_s=time_limit_s, threads=threads, stages=1)
        if outcome.status is not SolveStatus.INFEASIBLE:
            blamed.append(family)
    return blamed


def do_nothing_cost(
    problem: Problem,
    *,
    solver: str,
    time_limit_s: float,
    threads: int,
    run_model: ModelRun | None = None,
) -> Cost | None:
    """The cost of the same system with no bank (every pool at zero capacity), solved
    in the same two stages."""
    model = lp.build(problem, without_bank=True)
    outcome = (
        run(model, solver=solver, time_limit_s=time_limit_s, threads=threads)
        if run_model is None
        else run_model(model, time_limit_s)
    )
    if outcome.values is None:
        return None
    return readback.read_cost(model, outcome.values)
