"""The solver bridge: a built model to HiGHS (or CBC) and back, in two stages (and for a
plan on HiGHS a tie-break: ``weighted_cost``, ``_check_cost``, ``_break_ties``).

The plan is the lexicographic optimum of ``docs/model.md``: first the least total target
shortfall ``Σ_t (sN[t] + sT[t])`` (the *shortfall stage*), then the least cost among
plans with that shortfall (the *cost stage*). Both stages solve the same HiGHS model,
changed in place between them: the objective becomes the cost, and the shortfall is held
at its least, either by fixing every slack at zero (when the targets are all reachable)
or by one extra row ``Σ slack <= best·(1 + 1e-9) + 1e-7``. HiGHS keeps its simplex
basis across the change, so the cost stage starts from the shortfall stage's vertex.

By simplex, the shortfall stage alone is slow to solve from scratch: its objective
prices only the slacks, so most vertices tie and the simplex wanders among them. So the
model is first solved with a weighted objective, ``cost + M·Σ slack`` (``WARM_START_
WEIGHT`` times the dearest cost), whose vertex is close to a least-shortfall one; both
stages then go on from it by the primal simplex, and usually finish at once. The
starting solve is only a starting point: the two stages that follow are exact whatever
its objective, so the plan does not depend on it. On large models the start is the cost
alone, solved by interior point (HiPO), whose crossover gives the vertex the stages start
from. Priced, the slacks tie every unit together through the system-wide target rows:
HiPO needed 71 iterations rather than 38 on a 158,000-column plan, and at England's size
it stalled. The shortfall stage then goes on from the cost's vertex by the primal simplex
(``docs/optimiser.md``, "How it is built and solved"). From ``FACE_FROM`` columns that is
too far for the simplex (at England it had not finished in 40 minutes), and the start is
a vertex of the cost on the shortfall stage's optimal face, found by two interior-point
solves (``_face_start``); at England the stages then took 8,000 iterations.
Solution values and the duals of both stages are returned; ``solve`` reads them back.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

import highspy
import numpy as np
import pulp

from optimiser import model as lp
from optimiser.result import SolveStatus

FloatArray = lp.FloatArray
# Relative and absolute room given to the least shortfall in the cost stage: solvers keep
# their rows to about 1e-7, so the cost stage must not be asked for more.
SHORTFALL_RELATIVE_ROOM = 1e-9
SHORTFALL_ABSOLUTE_ROOM = 1e-7
# A least shortfall this small (WTE-months, per WTE of nursing capacity today) is zero:
# the cost stage then fixes every slack at 0.
ZERO_SHORTFALL_PER_WTE = 1e-9

# From this many columns HiGHS solves the start (then the cost alone) by its HiPO interior
# point rather than by dual simplex, crossing over to a vertex from which both stages go
# on by the primal simplex. The measurements behind the threshold are in docs/optimiser.md.
INTERIOR_POINT_FROM = 60_000
METHODS = ("simplex", "ipm", "hipo")
# From this many columns a plan solved by interior point starts on the shortfall stage's
# optimal face (``_face_start``) rather than from the cost alone: at England's size the
# shortfall stage from the cost's vertex did not finish in 40 minutes.
FACE_FROM = 1_000_000
# A reduced cost or price of the shortfall stage (WTE-months per unit) above this holds
# its column or row at a bound on that stage's optimal face.
SHORTFALL_FACE_TOLERANCE = 1e-6
WARM_START_WEIGHT = 100.0
PRIMAL_SIMPLEX = 4  # HiGHS's simplex_strategy for the primal simplex
DUAL_SIMPLEX = 1  # HiGHS's simplex_strategy for the dual simplex
# The tie-break stage (``stages=3``, on models the simplex solves: below
# ``INTERIOR_POINT_FROM``) keeps to the cost stage's optimal face: the columns whose
# reduced cost, and the rows whose price, is above this (GBP per WTE-month) are held
# where they are. Smaller, solver noise in the prices let a column or two move and the
# face differ between two solves of one problem (1 of 165 points on the demo's sweeps at
# 1e-4 and 1e-5); at 1e-3 none did, and the cost stayed the least to 1e-12.
FACE_TOLERANCE = 1e-3
TIE_BREAK_SEED = 20261206
# How much of the tie-break weights (``tie_break_cost``, between 1 and 2) a plan's cost
# stage adds to the cost, GBP per WTE-month: at most 0.2p against costs of pounds to
# thousands of pounds a WTE-month, so the stage ends, nearly always, on the least cost
# plan that is also the least of the weights (checked after it: ``_check_cost``).
TIE_BREAK_WEIGHT = 1e-3
# The relative room within which the weighted cost stage's plan counts as of least cost:
# the steps of no cost that the simplex can take among tied plans moved it by at most
# 1e-14 on the demo's sweeps.
COST_ROOM = 1e-12


@dataclass(kw_only=True)
class SolverRun:
    """What a solver found, stage by stage."""

    status: SolveStatus
    values: FloatArray | None = None
    shortfall: float | None = None  # the shortfall stage's optimum, WTE-months
    objective: float | None = None  # the cost stage's optimum, GBP
    shortfall_duals: FloatArray | None = None  # row duals of the shortfall stage
    cost_duals: FloatArray | None = None  # row duals of the cost stage
    solve_s: float = 0.0
    solver: str = ""
    reason: str = ""
    # HiGHS's simplex and interior-point iterations over both stages: which method ran.
    iterations: tuple[int, int] = (0, 0)
    # The simplex basis at the end of the shortfall stage, to start a like model from.
    basis: Any = None
    # The basis at the end of the cost stage and its number of rows (with the held
    # shortfall's row or without), likewise.
    cost_basis: tuple[Any, int] | None = None


@functools.cache
def highs_version() -> str:
    return f"HiGHS {version('highspy')} (highspy)"


def zero_shortfall(model: lp.Model) -> float:
    """The least shortfall (WTE-months) below which every target counts as reachable."""
    return ZERO_SHORTFALL_PER_WTE * (1.0 + model.data.baseline_nursing_capacity) + 1e-7


def shortfall_ceiling(best: float) -> float:
    return best * (1 + SHORTFALL_RELATIVE_ROOM) + SHORTFALL_ABSOLUTE_ROOM


def resolve_method(model: lp.Model, method: str) -> str:
    """``method``, or for ``auto`` HiPO from ``INTERIOR_POINT_FROM`` columns and simplex
    below."""
    if method == "auto":
        method = "hipo" if model.layout.count >= INTERIOR_POINT_FROM else "simplex"
    if method not in METHODS:
        raise ValueError(f"unknown method '{method}': one of {', '.join(METHODS)} or auto")
    return method


def warm_start_cost(model: lp.Model, method: str) -> FloatArray:
    """The starting solve's objective: by the simplex ``cost + M·Σ slack``, M
    ``WARM_START_WEIGHT`` times the dearest cost; by an interior point the cost alone."""
    if method != "simplex":
        return model.cost
    weight = WARM_START_WEIGHT * max(1.0, float(model.cost.max(initial=0.0)))
    return model.cost + weight * model.shortfall_cost


def _highs(
    model: lp.Model, *, time_limit_s: float, threads: int, method: str, cost: FloatArray
) -> Any:
    """A HiGHS object holding the model with objective ``cost``, or None when HiGHS
    refuses it. ``method`` is one of ``METHODS``."""
    highs = highspy.Highs()  # type: ignore[no-untyped-call]
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("time_limit", max(1e-3, float(time_limit_s)))
    highs.setOptionValue("threads", int(threads))
    highs.setOptionValue("solver", method)
    # Devex pricing: faster than HiGHS's default on these LPs (docs/optimiser.md); it is
    # the simplex of the cost stage too when the shortfall stage ran an interior point.
    highs.setOptionValue("simplex_dual_edge_weight_strategy", 1)
    num_col, num_row = model.layout.count, model.num_rows
    status = highs.passModel(
        num_col,
        num_row,
        model.nonzeros,
        1,  # column-wise matrix
        1,  # minimise
        0.0,
        cost,
        model.col_lower,
        model.col_upper,
        model.row_lower,
        model.row_upper,
        model.a_start[:-1],
        model.a_index,
        model.a_value,
        np.zeros(num_col, dtype=np.int32),
    )
    return None if status == highspy.HighsStatus.kError else highs


def run_highs(
    model: lp.Model,
    *,
    time_limit_s: float,
    threads: int,
    method: str = "auto",
    stages: int = 2,
    basis: Any = None,
) -> SolverRun:
    """Both stages on one HiGHS object, from the model's arrays in one ``passModel`` call
    (no files); ``stages=1`` stops after the shortfall stage. The time limit is for the
    whole (HiGHS counts its run time over every run of the same object). ``method`` is
    how the start (``warm_start_cost``; by an interior point from ``FACE_FROM`` columns,
    ``_face_start``) is solved; both stages go on from its vertex by the simplex.
    ``basis``, from an earlier run of a model of the same shape, starts the shortfall
    stage by the simplex in place of the starting solve."""
    run, _highs_object = highs_stages(
        model, time_limit_s=time_limit_s, threads=threads, method=method, stages=stages, basis=basis
    )
    return run


def highs_stages(
    model: lp.Model,
    *,
    time_limit_s: float,
    threads: int,
    method: str = "auto",
    stages: int = 2,
    basis: Any = None,
) -> tuple[SolverRun, Any]:
    """``run_highs``, and the HiGHS object it ran on (None when HiGHS refused the model),
    for a caller that goes on changing the model in place (``optimiser.chain``)."""
    started = time.perf_counter()
    method = resolve_method(model, method)
    warm = basis is None
    face = warm and method != "simplex" and model.layout.count >= FACE_FROM
    highs = _highs(
        model,
        time_limit_s=time_limit_s,
        threads=threads,
        method=method,
        cost=warm_start_cost(model, method) if warm and not face else model.shortfall_cost,
    )
    if highs is None:
        refused = SolverRun(
            status=SolveStatus.ERROR, solver=highs_version(), reason="HiGHS refused the model"
        )
        return refused, None
    warm_iterations = (0, 0)
    everything = np.arange(model.layout.count, dtype=np.int32)
    if basis is not None:
        highs.setOptionValue("solver", "simplex")
        highs.setBasis(basis)
    if face:
        face, warm_iterations = _face_start(highs, model)
        if not face:  # an interior point failed on the way: the cost alone, as below
            highs.changeColsCost(model.layout.count, everything, warm_start_cost(model, method))
    if warm and not face:
        highs.run()
        info = highs.getInfo()
        warm_iterations = (
            warm_iterations[0] + info.simplex_iteration_count,
            warm_iterations[1] + info.ipm_iteration_count,
        )
    if warm:
        highs.changeColsCost(model.layout.count, everything, model.shortfall_cost)
        # An interior point's crossover has left a vertex: the simplex goes on from it.
        highs.setOptionValue("solver", "simplex")
        _primal(highs)
    run = two_stages(
        highs,
        model,
        time_limit_s=time_limit_s,
        stages=stages,
        started=started,
        before=warm_iterations,
    )
    return run, highs


def two_stages(
    highs: Any,
    model: lp.Model,
    *,
    time_limit_s: float,
    stages: int,
    started: float,
    before: tuple[int, int] = (0, 0),
    cost_basis: tuple[Any, int] | None = None,
    cost_strategy: int = PRIMAL_SIMPLEX,
    cost_basis_if_still: bool = False,
) -> SolverRun:
    """The shortfall stage on ``highs`` as it stands (objective ``Σ slack``), then the cost
    stage, then with ``stages=3`` the tie-break stage (``_break_ties``); ``before`` is the
    iterations already spent on the way. The first two stages' bases are returned, to
    start a like model from. ``cost_basis``, the cost stage's basis of a like
    model, starts the cost stage by ``cost_strategy`` (HiGHS's ``simplex_strategy``) when
    the shortfall is held the same way (with a row, or without), and with
    ``cost_basis_if_still`` only when the shortfall stage took no step; else the cost
    stage goes on from the shortfall stage's vertex by the primal simplex."""
    everything = np.arange(model.layout.count, dtype=np.int32)
    highs.run()
    # The shortfall stage's values stand in when the cost stage finds none; its duals are
    # the plan's (what one more bank WTE would close), not the do-nothing plan's or a
    # lever's.
    first = _read(highs, model, time_limit_s, values=stages >= 2, duals=stages >= 3)
    first.iterations = (first.iterations[0] + before[0], first.iterations[1] + before[1])
    first.shortfall, first.shortfall_duals = first.objective, first.cost_duals
    first.objective = first.cost_duals = None
    if first.status is SolveStatus.OPTIMAL:
        first.basis = highs.getBasis()
    if first.status is not SolveStatus.OPTIMAL or stages == 1:
        first.solve_s = time.perf_counter() - started
        if first.values is not None and first.shortfall is not None:
            first.objective = float(model.cost @ first.values)
        return first
    assert first.shortfall is not None
    _hold_shortfall(highs, model, first.shortfall)
    tie_break = stages >= 3 and model.layout.count < INTERIOR_POINT_FROM
    highs.changeColsCost(
        model.layout.count, everything, weighted_cost(model) if tie_break else model.cost
    )
    # An interior point cannot solve the cost stage (held at its least, the shortfall
    # leaves the feasible set no interior): it is the simplex's, from the shortfall
    # stage's vertex.
    highs.setOptionValue("solver", "simplex")
    moved = first.iterations[0] > before[0]  # whether the shortfall stage took a step
    if (
        cost_basis is not None
        and cost_basis[1] == highs.getNumRow()
        and not (moved and cost_basis_if_still)
    ):
        highs.setBasis(cost_basis[0])
        highs.setOptionValue("simplex_strategy", cost_strategy)
    else:
        _primal(highs)
    highs.run()
    # The weighted cost stage's prices are read by ``_check_cost``, from the cost alone.
    second = _read(highs, model, time_limit_s, duals=not tie_break)
    tied = False  # whether the plan is already the tie-break stage's
    if second.status is SolveStatus.OPTIMAL:
        second.cost_basis = (highs.getBasis(), highs.getNumRow())
        if tie_break:
            second, tied = _check_cost(highs, model, second, time_limit_s)
    second.solve_s = time.perf_counter() - started
    second.shortfall, second.shortfall_duals = first.shortfall, first.shortfall_duals
    second.basis = first.basis
    second.iterations = (
        first.iterations[0] + second.iterations[0],
        first.iterations[1] + second.iterations[1],
    )
    if second.cost_duals is not None:
        second.cost_duals = second.cost_duals[: model.num_rows]
    if second.values is None:  # stopped before any cost-stage plan: the first stage's
        second.status = SolveStatus.TIME_LIMIT
        second.values = first.values
        second.objective = float(model.cost @ first.values) if first.values is not None else None
    elif tie_break and not tied and second.status is SolveStatus.OPTIMAL:
        _break_ties(highs, model, second, time_limit_s)
        second.solve_s = time.perf_counter() - started
    return second


def tie_break_cost(model: lp.Model) -> FloatArray:
    """The tie-break stage's objective: a fixed pseudo-random weight between 1 and 2 on
    each column of bank sent and received and of agency, none elsewhere. Random, because
    weights in a pattern can cancel round the cycles in which tied plans differ (weights
    rising by a fixed step along the columns did, on the demo's sweeps)."""
    layout = model.layout
    columns = np.concatenate([layout.sent.ravel(), layout.bank.ravel(), layout.agency.ravel()])
    weights = np.zeros(layout.count)
    weights[columns] = np.random.default_rng(TIE_BREAK_SEED).uniform(1.0, 2.0, len(columns))
    return weights


def weighted_cost(model: lp.Model) -> FloatArray:
    """A plan's cost stage objective: the cost and ``TIE_BREAK_WEIGHT`` times the
    tie-break weights."""
    return model.cost + TIE_BREAK_WEIGHT * tie_break_cost(model)


def _check_cost(
    highs: Any, model: lp.Model, weighted: SolverRun, time_limit_s: float
) -> tuple[SolverRun, bool]:
    """From the vertex of the weighted cost stage (``weighted_cost``), the cost alone: the
    least cost, the prices, and whether the weighted vertex is the tie-break stage's plan.

    Of all the plans of least cost, the weighted vertex has the least weight: any with
    less would have had a smaller weighted cost (its cost is no more). So it is the
    tie-break plan when its own cost is the least, to ``COST_ROOM``: when the simplex,
    given the cost alone, takes no step from it, or steps only to other vertices of the
    same cost (a reduced cost of -1e-7 among ties is enough for a step). On four of the
    demo's sweeps it was so in all 340 solves (in 3 of them after a step of no cost),
    which so skip the tie-break stage's 100 to 200 iterations."""
    assert weighted.values is not None
    highs.changeColsCost(
        model.layout.count, np.arange(model.layout.count, dtype=np.int32), model.cost
    )
    _primal(highs)
    highs.run()
    plan = _read(highs, model, time_limit_s)
    plan.iterations = (
        weighted.iterations[0] + plan.iterations[0],
        weighted.iterations[1] + plan.iterations[1],
    )
    plan.cost_basis = weighted.cost_basis
    if plan.status is not SolveStatus.OPTIMAL or plan.objective is None:
        return plan, False
    cost = float(model.cost @ weighted.values)
    if cost > plan.objective + COST_ROOM * max(1.0, abs(plan.objective)):
        return plan, False
    plan.values, plan.objective = weighted.values, cost
    return plan, True


def _break_ties(highs: Any, model: lp.Model, plan: SolverRun, time_limit_s: float) -> None:
    """The tie-break stage, on ``plan`` (the cost stage's, optimal) when ``_check_cost``
    found the weighted cost stage's vertex was not already it: among the plans of least
    shortfall and least cost, the least of ``weighted_cost`` (on those plans the cost is
    the same, so the least of ``tie_break_cost``). The cost stage has many optima (two
    organisations of a place and group can swap bank for agency at no cost, and so can
    groups round a cycle of pools and places), and a simplex started elsewhere ends at
    another; this stage's optimum is one plan, whatever the start, and the one the
    weighted cost stage ends on when that is of least cost. The optimal face is kept by
    complementary slackness rather than by a row holding the cost (a dense row that HiGHS
    could not always solve with): every column with a reduced cost stays at its bound,
    every row with a price at its activity. The plan's prices stay the cost stage's.
    When the stage does not end optimal, the cost stage's plan stands."""
    assert plan.values is not None
    solution = highs.getSolution()
    lp_now = highs.getLp()
    col_lower, col_upper = np.asarray(lp_now.col_lower_), np.asarray(lp_now.col_upper_)
    row_lower, row_upper = np.asarray(lp_now.row_lower_), np.asarray(lp_now.row_upper_)
    # The cost stage's optimal face: every column with a reduced cost held where it is,
    # every row with a price held at its activity.
    cols = np.flatnonzero(np.abs(np.asarray(solution.col_dual)) > FACE_TOLERANCE).astype(np.int32)
    rows = np.flatnonzero(np.abs(np.asarray(solution.row_dual)) > FACE_TOLERANCE).astype(np.int32)
    x = np.asarray(solution.col_value)[cols]
    activity = np.asarray(solution.row_value)[rows]
    highs.changeColsBounds(len(cols), cols, x, x)
    highs.changeRowsBounds(len(rows), rows, activity, activity)
    everything = np.arange(model.layout.count, dtype=np.int32)
    highs.changeColsCost(model.layout.count, everything, weighted_cost(model))
    _primal(highs)
    highs.run()
    third = _read(highs, model, time_limit_s)
    highs.changeColsBounds(len(cols), cols, col_lower[cols], col_upper[cols])
    highs.changeRowsBounds(len(rows), rows, row_lower[rows], row_upper[rows])
    plan.iterations = (plan.iterations[0] + third.iterations[0], plan.iterations[1])
    if third.status is SolveStatus.OPTIMAL and third.values is not None:
        plan.values = third.values
    plan.objective = float(model.cost @ plan.values)


def _face_start(highs: Any, model: lp.Model) -> tuple[bool, tuple[int, int]]:
    """Leave ``highs`` at a vertex of the plan's cost on the shortfall stage's optimal
    face, its bounds the model's; or, when an interior point fails on the way, only its
    bounds the model's again (and False). And the iterations spent.

    The shortfall stage is solved first by interior point, without a crossover, with
    every unfilled post at most its establishment and every slack bounded (bounds of this
    solve only: with nothing priced but the slacks, the unfilled posts are free to grow
    and the interior point diverges). Its point lies in the relative interior of the
    optimal face, so its prices say which columns and rows that face holds at a bound: a
    column whose reduced cost exceeds ``SHORTFALL_FACE_TOLERANCE``, a row whose price
    does. Held there, the cost is solved by interior point with a crossover, on a face
    that has an interior (where the cost stage, its shortfall held by one row, has none).
    The bounds are then the model's again, and both stages go on from that vertex:
    exact, whatever the face's tolerance."""
    n, m = model.layout.count, model.num_rows
    columns, rows = np.arange(n, dtype=np.int32), np.arange(m, dtype=np.int32)
    upper = model.col_upper.copy()
    unfilled = model.layout.unfilled.ravel()
    upper[unfilled] = np.minimum(upper[unfilled], model.data.establishment.ravel())
    if len(model.layout.nursing_slack):  # none when no unit counts as nursing
        upper[model.layout.nursing_slack] = model.data.nursing_trajectory
    upper[model.layout.turnover_slack] = max(1.0, float(model.data.staff_in_post.sum()))
    highs.changeColsBounds(n, columns, model.col_lower, upper)
    highs.setOptionValue("run_crossover", "off")
    highs.run()
    info = highs.getInfo()
    spent = (info.simplex_iteration_count, info.ipm_iteration_count)
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        highs.changeColsBounds(n, columns, model.col_lower, model.col_upper)
        highs.setOptionValue("run_crossover", "on")
        return False, spent
    solution = highs.getSolution()
    col_face = _Held(model.col_lower, model.col_upper, np.asarray(solution.col_dual))
    row_face = _Held(model.row_lower, model.row_upper, np.asarray(solution.row_dual))
    highs.changeColsBounds(n, columns, col_face.lower, col_face.upper)
    highs.changeRowsBounds(m, rows, row_face.lower, row_face.upper)
    highs.changeColsCost(n, columns, model.cost)
    highs.setOptionValue("run_crossover", "on")
    highs.run()
    info = highs.getInfo()
    spent = (spent[0] + info.simplex_iteration_count, spent[1] + info.ipm_iteration_count)
    optimal = highs.getModelStatus() == highspy.HighsModelStatus.kOptimal
    vertex = highs.getBasis() if optimal else None
    highs.changeColsBounds(n, columns, model.col_lower, model.col_upper)
    highs.changeRowsBounds(m, rows, model.row_lower, model.row_upper)
    if vertex is None or not vertex.valid:
        return False, spent
    vertex.col_status = col_face.nonbasic_at_bound(vertex.col_status)
    vertex.row_status = row_face.nonbasic_at_bound(vertex.row_status)
    highs.setBasis(vertex)
    return True, spent


class _Held:
    """Columns (or rows) held at a bound on the shortfall stage's optimal face: at the
    lower where the price (reduced cost) exceeds ``SHORTFALL_FACE_TOLERANCE``, at the
    upper where it is below minus that; ``lower`` and ``upper`` are the face's bounds."""

    def __init__(self, lower: FloatArray, upper: FloatArray, price: FloatArray) -> None:
        self.at_lower = (price > SHORTFALL_FACE_TOLERANCE) & np.isfinite(lower)
        self.at_upper = (price < -SHORTFALL_FACE_TOLERANCE) & np.isfinite(upper)
        self.lower, self.upper = lower.copy(), upper.copy()
        self.upper[self.at_lower] = lower[self.at_lower]
        self.lower[self.at_upper] = upper[self.at_upper]

    def nonbasic_at_bound(self, status: list[Any]) -> list[Any]:
        """A vertex's basis statuses on the face, for the model's own bounds: what the
        face held and the vertex left nonbasic is at that bound."""
        Status = highspy.HighsBasisStatus
        status = list(status)
        for j in np.flatnonzero(self.at_lower | self.at_upper).tolist():
            if status[j] != Status.kBasic:
                status[j] = Status.kLower if self.at_lower[j] else Status.kUpper
        return status


def _primal(highs: Any) -> None:
    """After a change of objective the basis is still primal feasible (and with the
    shortfall held, still so: the held row is met), so the primal simplex goes on from it
    where the dual simplex would first have to regain dual feasibility: on the demo plan
    0.04 s for both stages against 4.5 s."""
    highs.setOptionValue("simplex_strategy", PRIMAL_SIMPLEX)


def _hold_shortfall(highs: Any, model: lp.Model, best: float) -> None:
    """Keep the shortfall at its least for the cost stage."""
    slacks = model.layout.slacks.astype(np.int32)
    if not len(slacks):
        return
    if best <= zero_shortfall(model):
        zeros = np.zeros(len(slacks))
        highs.changeColsBounds(len(slacks), slacks, zeros, zeros)
    else:
        highs.addRow(-np.inf, shortfall_ceiling(best), len(slacks), slacks, np.ones(len(slacks)))


def _read(
    highs: Any, model: lp.Model, time_limit_s: float, *, values: bool = True, duals: bool = True
) -> SolverRun:
    """What a finished HiGHS run found; ``objective`` and ``cost_duals`` hold this run's
    objective and row duals, whichever stage it was. Without ``values`` or ``duals`` of an
    optimal run, those are left None: reading them from HiGHS costs about 0.5 ms each on
    the demo's plan, and a run whose only use is its status and objective (a lever's, the
    weighted cost stage's) need not pay it."""
    info = highs.getInfo()
    model_status = highs.getModelStatus()
    Status = highspy.HighsModelStatus
    run = SolverRun(
        status=SolveStatus.ERROR,
        solver=highs_version(),
        iterations=(info.simplex_iteration_count, info.ipm_iteration_count),
    )
    if model_status == Status.kOptimal:
        solution = highs.getSolution()
        run.status = SolveStatus.OPTIMAL
        run.values = np.asarray(solution.col_value) if values else None
        run.cost_duals = np.asarray(solution.row_dual) if duals else None
        run.objective = info.objective_function_value
    elif model_status in (Status.kInfeasible, Status.kUnboundedOrInfeasible):
        run.status = SolveStatus.INFEASIBLE
    elif model_status in (Status.kTimeLimit, Status.kIterationLimit):
        run.status = SolveStatus.TIME_LIMIT
        run.reason = f"stopped at the time limit of {time_limit_s:g} s"
        if info.primal_solution_status == 2:  # feasible
            run.values = np.asarray(highs.getSolution().col_value)
            run.objective = info.objective_function_value
    else:
        run.reason = f"HiGHS ended with '{highs.modelStatusToString(model_status)}'"
    return run


def run_cbc(model: lp.Model, *, time_limit_s: float, threads: int) -> SolverRun:
    """The fallback: the model's PuLP mirror solved by CBC, in the same two stages (two
    solves)."""
    started = time.perf_counter()
    label = f"CBC (PuLP {pulp.__version__})"
    shortfall_stage(model)
    first = _cbc_stage(model, time_limit_s, threads, label)
    first.shortfall, first.shortfall_duals = first.objective, first.cost_duals
    if first.status is not SolveStatus.OPTIMAL or first.shortfall is None:
        first.solve_s = time.perf_counter() - started
        return first
    cost_stage(model, first.shortfall)
    remaining = max(1.0, time_limit_s - (time.perf_counter() - started))
    second = _cbc_stage(model, remaining, threads, label)
    second.shortfall, second.shortfall_duals = first.shortfall, first.shortfall_duals
    second.solve_s = time.perf_counter() - started
    if second.values is None:
        second.status, second.values = SolveStatus.TIME_LIMIT, first.values
    return second


def shortfall_stage(model: lp.Model) -> pulp.LpProblem:
    """The model's PuLP mirror set to the shortfall stage: the least ``Σ slack``."""
    problem = lp.pulp_problem(model)
    problem.setObjective(pulp.lpSum(model.variables[j] for j in model.layout.slacks.tolist()))
    return problem


def cost_stage(model: lp.Model, least_shortfall: float) -> pulp.LpProblem:
    """The model's PuLP mirror set to the cost stage: the least cost, with the shortfall
    held at ``least_shortfall`` as HiGHS holds it (every slack at zero when it is nil,
    else one row ``Σ slack <= ceiling``)."""
    problem = lp.pulp_problem(model)
    slacks = [model.variables[j] for j in model.layout.slacks.tolist()]
    if least_shortfall <= zero_shortfall(model):
        for variable in slacks:
            variable.upBound = 0
    elif slacks:
        problem.addConstraint(
            pulp.lpSum(slacks) <= shortfall_ceiling(least_shortfall), "shortfall_ceiling"
        )
    nonzero = np.nonzero(model.cost)[0].tolist()
    problem.setObjective(
        pulp.LpAffineExpression([(model.variables[j], float(model.cost[j])) for j in nonzero])
    )
    return problem


def _cbc_stage(model: lp.Model, time_limit_s: float, threads: int, label: str) -> SolverRun:
    assert model.lp is not None  # set to its stage by shortfall_stage or cost_stage
    solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s, threads=threads)
    model.lp.solve(solver)
    status = pulp.LpStatus[model.lp.status]
    if status == "Optimal":
        timed_out = model.lp.sol_status == pulp.LpSolutionIntegerFeasible
        return SolverRun(
            status=SolveStatus.TIME_LIMIT if timed_out else SolveStatus.OPTIMAL,
            values=np.array([v.varValue or 0.0 for v in model.variables]),
            cost_duals=None
            if timed_out
            else np.array([c.pi or 0.0 for c in model.constraints], dtype=float),
            objective=float(pulp.value(model.lp.objective) or 0.0),
            solver=label,
        )
    if status == "Infeasible":
        return SolverRun(status=SolveStatus.INFEASIBLE, solver=label)
    return SolverRun(status=SolveStatus.ERROR, solver=label, reason=f"CBC ended '{status}'")


def run(
    model: lp.Model, *, solver: str, time_limit_s: float, threads: int, stages: int = 2
) -> SolverRun:
    """Both stages by ``solver``: ``highs`` from the model's arrays, ``cbc`` from its PuLP
    mirror (made for it)."""
    if solver == "highs":
        return run_highs(model, time_limit_s=time_limit_s, threads=threads, stages=stages)
    if solver == "cbc":
        return run_cbc(model, time_limit_s=time_limit_s, threads=threads)
    raise ValueError(f"unknown solver '{solver}': highs or cbc")
