"""Solve a problem: build, hand the arrays to HiGHS in one call, read the answer back.

``solve`` also solves the do-nothing plan (every pool at zero capacity) for the saving,
and, when no plan is possible, finds the constraint family to blame by relaxing each in
turn. Solution values and duals are written back onto the PuLP model, so that it is the
solved model whichever solver ran.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

import highspy
import numpy as np
import pulp

from optimiser import model as lp
from optimiser.periods import add_months
from optimiser.problem import Problem, validate
from optimiser.result import Cost, PlanResult, SolveFigures, SolveStatus, TargetOutcome

SLACK_TOLERANCE = 1e-6
ZERO_WTE = 0.005  # allocations below half a hundredth of a WTE are left out


@dataclass
class Outcome:
    status: SolveStatus
    values: np.ndarray[Any, np.dtype[np.float64]] | None
    row_duals: np.ndarray[Any, np.dtype[np.float64]] | None
    objective: float | None
    solve_s: float
    solver: str
    reason: str = ""
    # HiGHS's simplex and interior-point iterations: which method really ran.
    iterations: tuple[int, int] = (0, 0)


def highs_version() -> str:
    return f"HiGHS {version('highspy')} (highspy)"


# From this many columns HiGHS solves by its HiPO interior point rather than by dual
# simplex, and stops at the interior optimum without a crossover to a vertex: the duals
# are then those of the interior solution, still optimal duals of the same LP. Measured
# on generated instances (CPU seconds): 29,000 columns (HIOW), 0.7 s by dual simplex and
# 1.4 s by HiPO; 49,000, 4.1 s and 4.4 s; 79,000, 11.6 s and 7.4 s; the region
# (346,000), 366 s by dual simplex (default pricing), 67 to 74 s by IPX (HiGHS's other
# interior point) and 46 s by HiPO; England (2.1 M) does not finish by IPX in 1,500 s and
# takes 427 s by HiPO. HiPO's crossover was unreliable at England size: one of two runs
# spent the rest of 900 s in the dual simplex that cleans up after it.
INTERIOR_POINT_FROM = 60_000
METHODS = ("simplex", "ipm", "hipo")


def run_highs(
    model: lp.Model, *, time_limit_s: float, threads: int, method: str = "auto"
) -> Outcome:
    """The arrays of ``model`` to HiGHS in one ``passModel`` call; no files. ``method`` is
    one of ``METHODS`` or ``auto`` (HiPO from ``INTERIOR_POINT_FROM`` columns, simplex
    below)."""
    started = time.perf_counter()
    highs = highspy.Highs()  # type: ignore[no-untyped-call]
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("time_limit", float(time_limit_s))
    highs.setOptionValue("threads", int(threads))
    if method == "auto":
        method = "hipo" if model.layout.count >= INTERIOR_POINT_FROM else "simplex"
    if method not in METHODS:
        raise ValueError(f"unknown method '{method}': one of {', '.join(METHODS)} or auto")
    highs.setOptionValue("solver", method)
    if method == "hipo":
        highs.setOptionValue("run_crossover", "off")
    if method == "simplex":
        # Devex pricing: 20 to 60% less time than HiGHS's default on these LPs (demo plan
        # 0.32 s against 0.41; three generated HIOW instances 0.65-0.69 s against 1.0-1.7).
        highs.setOptionValue("simplex_dual_edge_weight_strategy", 1)
    num_col, num_row = model.layout.count, model.num_rows
    status = highs.passModel(
        num_col,
        num_row,
        model.nonzeros,
        1,  # column-wise matrix
        1,  # minimise
        0.0,
        model.cost,
        model.col_lower,
        model.col_upper,
        model.row_lower,
        model.row_upper,
        model.a_start[:-1],
        model.a_index,
        model.a_value,
        np.zeros(num_col, dtype=np.int32),
    )
    if status == highspy.HighsStatus.kError:
        return Outcome(
            SolveStatus.ERROR, None, None, None, 0.0, highs_version(), "HiGHS refused the model"
        )
    highs.run()
    info = highs.getInfo()
    outcome = _outcome(highs, info, model, time.perf_counter() - started, time_limit_s)
    outcome.iterations = (info.simplex_iteration_count, info.ipm_iteration_count)
    return outcome


def _outcome(
    highs: Any, info: Any, model: lp.Model, elapsed: float, time_limit_s: float
) -> Outcome:
    """What a finished HiGHS run found."""
    model_status = highs.getModelStatus()
    has_solution = info.primal_solution_status == 2  # feasible
    Status = highspy.HighsModelStatus
    if model_status == Status.kOptimal:
        solution = highs.getSolution()
        return Outcome(
            SolveStatus.OPTIMAL,
            np.asarray(solution.col_value),
            np.asarray(solution.row_dual),
            info.objective_function_value,
            elapsed,
            highs_version(),
        )
    if model_status in (Status.kInfeasible, Status.kUnboundedOrInfeasible):
        return Outcome(SolveStatus.INFEASIBLE, None, None, None, elapsed, highs_version())
    if model_status in (Status.kTimeLimit, Status.kIterationLimit):
        if has_solution:
            solution = highs.getSolution()
            return Outcome(
                SolveStatus.TIME_LIMIT,
                np.asarray(solution.col_value),
                None,
                info.objective_function_value,
                elapsed,
                highs_version(),
                f"stopped at the time limit of {time_limit_s:g} s",
            )
        fallback = simulate_without_bank(model)
        return Outcome(
            SolveStatus.TIME_LIMIT if fallback is not None else SolveStatus.ERROR,
            fallback,
            None,
            float(model.cost @ fallback) if fallback is not None else None,
            elapsed,
            highs_version(),
            f"stopped at the time limit of {time_limit_s:g} s before finding a better plan "
            "than using no bank at all, which is shown"
            if fallback is not None
            else f"the time limit of {time_limit_s:g} s passed before any feasible plan was found",
        )
    return Outcome(
        SolveStatus.ERROR,
        None,
        None,
        None,
        elapsed,
        highs_version(),
        f"HiGHS ended with '{highs.modelStatusToString(model_status)}'",
    )


def run_cbc(model: lp.Model, *, time_limit_s: float, threads: int) -> Outcome:
    """The fallback: the PuLP model solved by CBC."""
    assert model.lp is not None
    started = time.perf_counter()
    solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s, threads=threads)
    model.lp.solve(solver)
    elapsed = time.perf_counter() - started
    status = pulp.LpStatus[model.lp.status]
    label = f"CBC (PuLP {pulp.__version__})"
    if status == "Optimal":
        values = np.array([v.varValue or 0.0 for v in model.variables])
        duals = np.array([c.pi or 0.0 for c in model.constraints])
        objective = float(pulp.value(model.lp.objective))
        timed_out = model.lp.sol_status == pulp.LpSolutionIntegerFeasible
        return Outcome(
            SolveStatus.TIME_LIMIT if timed_out else SolveStatus.OPTIMAL,
            values,
            None if timed_out else duals,
            objective,
            elapsed,
            label,
        )
    if status == "Infeasible":
        return Outcome(SolveStatus.INFEASIBLE, None, None, None, elapsed, label)
    return Outcome(SolveStatus.ERROR, None, None, None, elapsed, label, f"CBC ended '{status}'")


def run(model: lp.Model, *, solver: str, time_limit_s: float, threads: int) -> Outcome:
    if solver == "highs":
        outcome = run_highs(model, time_limit_s=time_limit_s, threads=threads)
        if model.lp is not None and outcome.values is not None:
            _write_back(model, outcome)
        return outcome
    if solver == "cbc":
        return run_cbc(model, time_limit_s=time_limit_s, threads=threads)
    raise ValueError(f"unknown solver '{solver}': highs or cbc")


def _write_back(model: lp.Model, outcome: Outcome) -> None:
    assert outcome.values is not None
    for variable, value in zip(model.variables, outcome.values.tolist(), strict=True):
        variable.varValue = value
    if outcome.row_duals is not None:
        for constraint, dual in zip(model.constraints, outcome.row_duals.tolist(), strict=True):
            constraint.pi = dual


def solve(
    problem: Problem,
    *,
    time_limit_s: float = 60.0,
    threads: int = 1,
    solver: str = "highs",
    do_nothing: bool = True,
) -> PlanResult:
    """The plan for ``problem``. Raises ``ProblemError`` naming each bad field first.

    The do-nothing plan, needed only for the saving, is solved on a second thread while
    this one builds and solves the plan: HiGHS lets go of the interpreter while it solves,
    so on two cores the plan takes the time of the longer of the two solves, not the sum.
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
            )
            if do_nothing
            else None
        )
        result = _solve(problem, time_limit_s=time_limit_s, threads=threads, solver=solver)
        if baseline is not None and result.status not in (
            SolveStatus.INFEASIBLE,
            SolveStatus.ERROR,
        ):
            result.do_nothing_cost = baseline.result()
    return result


def _solve(problem: Problem, *, time_limit_s: float, threads: int, solver: str) -> PlanResult:
    started = time.perf_counter()
    model = lp.build(problem)
    build_s = time.perf_counter() - started
    outcome = run(model, solver=solver, time_limit_s=time_limit_s, threads=threads)
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
        return PlanResult(SolveStatus.INFEASIBLE, message, solve=figures, blamed_families=blamed)
    if outcome.values is None:
        return PlanResult(SolveStatus.ERROR, outcome.reason or "the solve failed", solve=figures)

    if outcome.status is SolveStatus.OPTIMAL and solver == "highs":
        outcome = _prices_at_reachable_targets(model, outcome, time_limit_s, threads)
    result = report(model, outcome)
    result.solve = figures
    return result


def _prices_at_reachable_targets(
    model: lp.Model, outcome: Outcome, time_limit_s: float, threads: int
) -> Outcome:
    """When a target is out of reach its slack's huge penalty leaks into every dual. Solve
    once more with each such target lowered to what is reachable and its slack fixed at
    zero: the plan is the same, and the duals are prices in pounds again."""
    assert outcome.values is not None
    layout = model.layout
    slacks = {
        "nursing_target": layout.s_nursing,
        "turnover_target": layout.s_turnover,
    }
    short = {
        family: float(outcome.values[column])
        for family, column in slacks.items()
        if column >= 0 and outcome.values[column] > SLACK_TOLERANCE
    }
    if not short:
        return outcome
    for family, slack in short.items():
        row = model.family_rows[family][0]
        if family == "nursing_target":
            model.row_lower[row] -= slack
        else:
            model.row_upper[row] += slack
        model.col_upper[slacks[family]] = 0.0
    try:
        repriced = run_highs(model, time_limit_s=time_limit_s, threads=threads)
    finally:
        for family, slack in short.items():
            row = model.family_rows[family][0]
            if family == "nursing_target":
                model.row_lower[row] += slack
            else:
                model.row_upper[row] -= slack
            model.col_upper[slacks[family]] = np.inf
    if repriced.status is not SolveStatus.OPTIMAL or repriced.row_duals is None:
        return Outcome(
            outcome.status, outcome.values, None, outcome.objective, outcome.solve_s, outcome.solver
        )
    return Outcome(
        outcome.status,
        outcome.values,
        repriced.row_duals,
        outcome.objective,
        outcome.solve_s + repriced.solve_s,
        outcome.solver,
    )


def simulate_without_bank(model: lp.Model) -> np.ndarray[Any, np.dtype[np.float64]] | None:
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
    if layout.s_nursing >= 0:
        begin = model.family_rows["nursing_target"][0]
        capacity = staff[data.nursing, model.problem.target_month - 1].sum()
        values[layout.s_nursing] = max(0.0, model.row_lower[begin] - capacity)
    if layout.s_turnover >= 0:
        window = list(lp.turnover_window(h))
        tau = model.problem.targets.turnover_target
        excess = leavers[:, window].sum() - tau / 12 * staff[:, window].sum()
        values[layout.s_turnover] = max(0.0, excess)
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
        relaxed = lp.build(problem, without=frozenset({family}), with_pulp=solver != "highs")
        outcome = run(relaxed, solver=solver, time_limit_s=time_limit_s, threads=threads)
        if outcome.status is not SolveStatus.INFEASIBLE:
            blamed.append(family)
    return blamed


def do_nothing_cost(
    problem: Problem, *, solver: str, time_limit_s: float, threads: int
) -> float | None:
    """The cost of the same system with no bank (every pool at zero capacity)."""
    model = lp.build(problem, pool_capacity_zero=True, with_pulp=solver != "highs")
    outcome = run(model, solver=solver, time_limit_s=time_limit_s, threads=threads)
    if outcome.values is None:
        return None
    return round(_cost(model, outcome.values).total, 2)


def _cost(model: lp.Model, values: np.ndarray[Any, np.dtype[np.float64]]) -> Cost:
    layout, data = model.layout, model.data
    h = layout.months
    y = values[layout.sent]
    travel = float((data.route_travel[:, None] * y).sum())
    bank_and_travel = float((data.route_cost[:, None] * y).sum())
    return Cost(
        bank=round(bank_and_travel - travel, 2),
        travel=round(travel, 2),
        agency=round(
            float((np.repeat(data.agency_cost, h) * values[layout.agency].ravel()).sum()), 2
        ),
        unfilled_penalty=round(
            float((np.repeat(data.penalty, h) * values[layout.unfilled].ravel()).sum()), 2
        ),
    )


def _r(value: float) -> float:
    return round(float(value), 2)


def report(model: lp.Model, outcome: Outcome) -> PlanResult:
    """Everything a plan reports, read from the solution arrays."""
    assert outcome.values is not None
    problem, layout, data = model.problem, model.layout, model.data
    values, duals = outcome.values, outcome.row_duals
    h = layout.months
    periods = [add_months(problem.start, t) for t in range(h)]
    staff = values[layout.staff]
    leavers = values[layout.leavers]
    agency = values[layout.agency]
    unfilled = values[layout.unfilled]
    sent = values[layout.sent]
    bank = np.zeros_like(staff)
    bank[layout.served] = values[layout.bank]
    pools = [p.code for p in problem.pools]

    allocations = []
    route, unit, month, wte = lp.split_bank(layout, values)
    keep = wte > ZERO_WTE
    route_pool = layout.route_pool.tolist()
    for r, u, t, x in zip(
        route[keep].tolist(),
        unit[keep].tolist(),
        month[keep].tolist(),
        wte[keep].tolist(),
        strict=True,
    ):
        organisation, group = layout.units[u]
        allocations.append(
            {
                "pool": pools[route_pool[r]],
                "organisation": organisation,
                "staff_group": group,
                "period": periods[t],
                "wte": _r(x),
                "cost": _r(x * data.route_cost[r]),
            }
        )
    allocations.sort(key=lambda a: (a["pool"], a["organisation"], a["staff_group"], a["period"]))

    gap = data.establishment - staff
    projections = []
    for u, (organisation, group) in enumerate(layout.units):
        for t in range(h):
            filled = bank[u, t] + agency[u, t]
            projections.append(
                {
                    "organisation": organisation,
                    "staff_group": group,
                    "period": periods[t],
                    "staff_in_post_wte": _r(staff[u, t]),
                    "bank_wte": _r(bank[u, t]),
                    "agency_wte": _r(agency[u, t]),
                    "unfilled_wte": _r(unfilled[u, t]),
                    "leavers_wte": _r(leavers[u, t]),
                    "fill_rate": round(min(1.0, filled / gap[u, t]), 4)
                    if gap[u, t] > 0.005
                    else None,
                }
            )

    targets = problem.targets
    gamma, tau = targets.nursing_capacity_growth, targets.turnover_target
    t_star = problem.target_month
    c0 = data.baseline_nursing_capacity
    nursing_capacity = (staff + bank + agency)[data.nursing].sum(axis=0)
    system = []
    for t in range(h):
        window = slice(max(0, t - 11), t + 1)
        staff_window = staff[:, window].sum()
        if t_star <= 1:
            trajectory = (1 + gamma) * c0
        else:
            trajectory = c0 + gamma * c0 * min(t, t_star - 1) / (t_star - 1)
        system.append(
            {
                "period": periods[t],
                "nursing_capacity_wte": _r(nursing_capacity[t]),
                "nursing_capacity_trajectory_wte": _r(trajectory),
                "turnover_rate_12m": round(float(leavers[:, window].sum() / staff_window * 12), 4)
                if staff_window > 0
                else None,
                "turnover_target": tau,
                "agency_wte": _r(agency[:, t].sum()),
                "agency_baseline_wte": _r(data.agency0.sum()),
                "bank_wte": _r(sent[:, t].sum()),
                "bank_capacity_wte": _r(data.capacity[:, t].sum()),
            }
        )

    def dual_of(family: str) -> np.ndarray[Any, np.dtype[np.float64]] | None:
        if duals is None or family not in model.family_rows:
            return None
        begin, end = model.family_rows[family]
        return duals[begin:end]

    outcomes: dict[str, TargetOutcome] = {}
    shortfalls = []
    if layout.s_nursing >= 0:
        slack = float(values[layout.s_nursing])
        row = dual_of("nursing_target")
        unreachable = slack > SLACK_TOLERANCE
        outcomes["nursing_capacity"] = TargetOutcome(
            required=_r((1 + gamma) * c0),
            achieved=_r(nursing_capacity[t_star - 1]),
            shortfall=_r(slack),
            shadow_price=None if row is None or unreachable else _r(max(0.0, row[0]) * 0.01 * c0),
            met=not unreachable,
        )
        if unreachable:
            shortfalls.append(f"nursing capacity is {slack:,.2f} WTE short of its target")
    if layout.s_turnover >= 0:
        last_months = list(lp.turnover_window(h))
        staff_w = float(staff[:, last_months].sum())
        slack = float(values[layout.s_turnover])
        row = dual_of("turnover_target")
        unreachable = slack > SLACK_TOLERANCE
        achieved = float(leavers[:, last_months].sum()) / staff_w * 12 if staff_w > 0 else 0.0
        outcomes["turnover"] = TargetOutcome(
            required=tau,
            achieved=round(achieved, 4),
            shortfall=round(max(0.0, achieved - tau), 4),
            shadow_price=None
            if row is None or unreachable
            else _r(max(0.0, -row[0]) * 0.01 * staff_w / 12),
            met=not unreachable,
        )
        if unreachable:
            shortfalls.append(
                f"turnover stays {100 * (achieved - tau):.2f} points above its target"
            )
    if targets.agency_reduction is not None and "agency_ceiling" in model.family_rows:
        rows = dual_of("agency_ceiling")
        baseline = float(data.agency0.sum())
        present = sorted(set(data.group_of_unit.tolist()))
        per_group = np.array([data.agency0[data.group_of_unit == g].sum() for g in present])
        price = None
        if rows is not None:
            price = _r(float((np.maximum(0.0, -rows) * np.repeat(per_group, h)).sum()) * 0.01)
        outcomes["agency_reduction"] = TargetOutcome(
            required=_r((1 - targets.agency_reduction) * baseline),
            achieved=_r(agency.sum(axis=0).max()),
            shortfall=0.0,
            shadow_price=price,
            met=True,
        )

    capacity_duals = dual_of("pool_capacity")
    pool_prices = []
    if capacity_duals is not None:
        prices = np.maximum(0.0, -capacity_duals).reshape(len(pools), h)
        pool_prices = [
            {"pool": pools[p], "period": periods[t], "value": _r(prices[p, t])}
            for p in range(len(pools))
            for t in range(h)
        ]

    status = outcome.status
    if status is SolveStatus.OPTIMAL and shortfalls:
        status = SolveStatus.TARGETS_UNREACHABLE
    message = {
        SolveStatus.OPTIMAL: "Optimal: every target is met at the lowest cost.",
        SolveStatus.TARGETS_UNREACHABLE: "Optimal, but "
        + "; ".join(shortfalls)
        + " even with every pool and agency used as allowed.",
        SolveStatus.TIME_LIMIT: f"Best plan found before the solver {outcome.reason}; "
        "it may not be optimal, and shadow prices are not available.",
    }.get(status, outcome.reason)
    return PlanResult(
        status=status,
        message=message,
        objective=outcome.objective,
        cost=_cost(model, values),
        targets=outcomes,
        allocations=allocations,
        projections=projections,
        system=system,
        pool_shadow_prices=pool_prices,
    )
