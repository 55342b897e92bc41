"""Warm chains: like problems solved one after another, each from the last one's basis.

A sweep's neighbouring points often build models of one shape: the same columns, rows and
matrix, with only bounds and costs moved (an agency ceiling, a nursing target, a cost).
A ``Chain`` solves such points in turn on one HiGHS object per model (the plan's, and the
do-nothing plan's), changed in place rather than built again: it undoes what the last
point's cost stage changed (the slacks' bounds, the added shortfall row), applies the new
point's bounds and costs, sets the last point's shortfall-stage basis and runs the same
stages as ``optimiser.solver`` (``two_stages``, with the plan's tie-break stage). Each gap
lever of an unreachable point is chained likewise (its shortfall stage alone), the first
time from the point's own basis, as a cold solve's levers start; after a point out of
reach, the levers start with the plan rather than after it (``Runs.levers_early``), a
lever new to the chain from the last point's plan.

A point whose model has another shape, or whose warm solve does not end optimal, is
solved cold (``highs_stages``, as ``optimiser.solve.solve`` does), and the chain starts
afresh from it. ``Chain.solve`` returns what ``optimiser.solve.solve`` returns.
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from optimiser import model as lp
from optimiser.levers import resolved_levers
from optimiser.problem import Problem
from optimiser.result import PlanResult, SolveStatus
from optimiser.solve import PLAN_STAGES, Runs
from optimiser.solve import solve as solve_cold
from optimiser.solver import (
    DUAL_SIMPLEX,
    PRIMAL_SIMPLEX,
    SolverRun,
    highs_stages,
    resolve_method,
    two_stages,
)

# The matrix and the layout: what two models must share for one to start from the other.
SHAPE = ("a_start", "a_index", "a_value")


def same_shape(one: lp.Model, other: lp.Model) -> bool:
    """Whether the two models have the same columns, rows and matrix (their bounds and
    costs may differ)."""
    return (
        one.layout.count == other.layout.count
        and one.num_rows == other.num_rows
        and np.array_equal(one.layout.slacks, other.layout.slacks)
        and all(np.array_equal(getattr(one, name), getattr(other, name)) for name in SHAPE)
    )


def _changed(before: lp.FloatArray, after: lp.FloatArray) -> lp.IntArray:
    return np.flatnonzero(before != after).astype(np.int32)


@dataclass
class WarmModel:
    """One model's warm state along a chain: the HiGHS object, the model it holds (before
    the cost stage's changes) and the basis its shortfall stage ended on."""

    threads: int = 1
    # How the cost stage goes on from the last point's cost basis (HiGHS's
    # simplex_strategy): see ``Chain``.
    cost_strategy: int = PRIMAL_SIMPLEX
    # Whether the cost stage starts from the last point's cost basis only when this
    # point's shortfall stage took no step (else from the shortfall stage's vertex).
    cost_basis_if_still: bool = False
    highs: Any = None
    model: lp.Model | None = None
    basis: Any = None
    cost_basis: tuple[Any, int] | None = None
    warm_points: int = 0  # points solved warm since the chain began (or began afresh)
    # Whether HiGHS stands where the last point's shortfall stage ended (a lever's run,
    # which stops there): its objective and basis need not be set again (on the 10 x 10
    # sweep a lever's warm run took 6.5 ms so against 7.2 ms).
    at_shortfall: bool = False

    def run(
        self, model: lp.Model, time_limit_s: float, *, stages: int = 2, basis: Any = None
    ) -> SolverRun:
        """The stages for ``model`` (``stages=1``: the shortfall stage alone): warm when it
        fits the last one, else cold, from ``basis`` when given (as ``run_highs``)."""
        started = time.perf_counter()
        if self.fits(model):
            outcome = self._warm(model, time_limit_s, stages)
            if outcome.status is SolveStatus.OPTIMAL:
                self.model, self.basis = model, outcome.basis
                self.cost_basis = outcome.cost_basis
                self.at_shortfall = stages == 1
                self.warm_points += 1
                return outcome
            time_limit_s = max(1e-3, time_limit_s - (time.perf_counter() - started))
        outcome, highs = highs_stages(
            model, time_limit_s=time_limit_s, threads=self.threads, stages=stages, basis=basis
        )
        if outcome.status is SolveStatus.OPTIMAL and outcome.basis is not None:
            self.highs, self.model, self.basis = highs, model, outcome.basis
            self.cost_basis = outcome.cost_basis
            self.at_shortfall = stages == 1
        else:
            self.highs = self.model = self.basis = self.cost_basis = None
            self.at_shortfall = False
        self.warm_points = 0
        return outcome

    def fits(self, model: lp.Model) -> bool:
        return (
            self.model is not None
            and resolve_method(model, "auto") == "simplex"
            and same_shape(self.model, model)
        )

    def _warm(self, model: lp.Model, time_limit_s: float, stages: int) -> SolverRun:
        assert self.model is not None
        started = time.perf_counter()
        highs, last = self.highs, self.model
        # Undo the cost stage: the shortfall row it added, the slacks it fixed at zero.
        added = highs.getNumRow() - model.num_rows
        if added > 0:
            highs.deleteRows(
                added, np.arange(model.num_rows, model.num_rows + added, dtype=np.int32)
            )
        cols = np.union1d(
            np.union1d(
                _changed(last.col_lower, model.col_lower), _changed(last.col_upper, model.col_upper)
            ),
            model.layout.slacks,
        ).astype(np.int32)
        if len(cols):
            highs.changeColsBounds(len(cols), cols, model.col_lower[cols], model.col_upper[cols])
        rows = np.union1d(
            _changed(last.row_lower, model.row_lower), _changed(last.row_upper, model.row_upper)
        ).astype(np.int32)
        if len(rows):
            highs.changeRowsBounds(len(rows), rows, model.row_lower[rows], model.row_upper[rows])
        if not self.at_shortfall:
            # The last run went on past the shortfall stage: its objective and basis back.
            everything = np.arange(model.layout.count, dtype=np.int32)
            highs.changeColsCost(model.layout.count, everything, model.shortfall_cost)
            highs.setBasis(self.basis)
        # The shortfall stage's objective is the same at every point, so the last point's
        # basis is still dual feasible: the dual simplex goes on from it (on the 5 x 4
        # sweep, 1,660 iterations over the plans' warm points against 2,038 by primal).
        highs.setOptionValue("simplex_strategy", DUAL_SIMPLEX)
        # HiGHS counts its run time over every run of the object: the limit is this point's.
        highs.setOptionValue("time_limit", highs.getRunTime() + max(1e-3, time_limit_s))
        return two_stages(
            highs,
            model,
            time_limit_s=time_limit_s,
            stages=stages,
            started=started,
            cost_basis=self.cost_basis,
            cost_strategy=self.cost_strategy,
            cost_basis_if_still=self.cost_basis_if_still,
        )


class Chain:
    """Points solved in turn, each from the last one's state; ``solve`` as
    ``optimiser.solve.solve`` (with HiGHS)."""

    plan: WarmModel
    do_nothing: WarmModel
    levers: dict[str, WarmModel]  # per re-solved gap lever
    short: bool  # whether the last point's targets were out of reach

    # From the last point's cost basis, the plan's cost stage is quicker by the primal
    # simplex and the do-nothing plan's by the dual (on four sweeps of the demo, the plan
    # took a median of 0 to 136 iterations by primal against 0 to 180 by dual, and at most
    # 196 against 450; the do-nothing plan at most 395 by dual against 1,098 by primal).
    # But when the do-nothing plan's shortfall stage had to move (its agency ceiling
    # moved, say), its cost stage is quicker from the shortfall stage's vertex by the
    # primal: on the 5 x 4 sweep a median of 58 iterations and 18 ms against 132 and 28
    # ms, the other sweeps unchanged. The plan's is not: there it took 255 iterations
    # against 71 on the 10 x 10 sweep.
    def __init__(self, *, threads: int = 1) -> None:
        self.threads = threads
        self.restart()

    def solve(self, problem: Problem, *, time_limit_s: float = 60.0) -> PlanResult:
        # The last point's plan, which a lever new to the chain starts from when it starts
        # before this point's plan has a basis.
        last_plan = (self.plan.model, self.plan.basis)

        def lever(subject: str, model: lp.Model, limit_s: float, basis: Any) -> SolverRun:
            warm = self.levers.setdefault(subject, WarmModel(threads=self.threads))
            if (
                basis is None
                and not warm.fits(model)
                and last_plan[0] is not None
                and same_shape(last_plan[0], model)
            ):
                basis = last_plan[1]
            return warm.run(model, limit_s, stages=1, basis=basis)

        result = solve_cold(
            problem,
            time_limit_s=time_limit_s,
            threads=self.threads,
            runs=Runs(
                plan=functools.partial(self.plan.run, stages=PLAN_STAGES),
                do_nothing=self.do_nothing.run,
                lever=lever,
                # The last point's levers were re-solved: this one's likely will be, and
                # they need not wait for the plan's basis: each goes on from its own last
                # state, or a lever new to the chain from the last point's plan.
                levers_early=(
                    frozenset(subject for _v, subject, *_ in resolved_levers(problem))
                    if self.short
                    else frozenset()
                ),
            ),
        )
        self.short = result.status is SolveStatus.TARGETS_UNREACHABLE
        return result

    @property
    def warm(self) -> bool:
        """Whether the last point's plan was solved warm."""
        return self.plan.warm_points > 0

    def restart(self) -> None:
        """Forget the warm state: the next point is solved cold."""
        self.plan = WarmModel(threads=self.threads)
        self.do_nothing = WarmModel(
            threads=self.threads, cost_strategy=DUAL_SIMPLEX, cost_basis_if_still=True
        )
        self.levers = {}
        self.short = False


# What makes two results the same plan; the allocations and projections may differ
# between tied optima (docs/optimiser.md).
SAME_PLAN_FIELDS = (
    "status",
    "objective",
    "cost",
    "do_nothing",
    "targets",
    "system",
    "gap_levers",
    "pool_shadow_prices",
    "pool_shortfall_prices",
)


def same_plan(one: PlanResult, other: PlanResult, *, rel: float = 1e-6) -> bool:
    """Whether two results are the same plan: the same status, objective, cost, do-nothing
    cost, targets, system, gap levers and prices, each number within ``rel`` (or within
    the 0.01 the results round to)."""
    first, second = one.to_dict(), other.to_dict()
    return all(_close(first.get(key), second.get(key), rel) for key in SAME_PLAN_FIELDS)


def _close(one: Any, other: Any, rel: float) -> bool:
    if isinstance(one, dict) and isinstance(other, dict):
        return one.keys() == other.keys() and all(_close(one[k], other[k], rel) for k in one)
    if isinstance(one, list) and isinstance(other, list):
        return len(one) == len(other) and all(
            _close(a, b, rel) for a, b in zip(one, other, strict=True)
        )
    numbers = (int, float, np.floating, np.integer)
    if (
        isinstance(one, numbers)
        and isinstance(other, numbers)
        and not isinstance(one, bool)
        and not isinstance(other, bool)
    ):
        return math.isclose(float(one), float(other), rel_tol=rel, abs_tol=0.01)
    return bool(one == other)
