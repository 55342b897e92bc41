"""What would close the gap when a target is out of reach, biggest first.

Each lever is measured in WTE-months of total shortfall ``Σ_t (sN[t] + sT[t])`` closed:

- a pool: one more bank WTE in every month, from the shortfall stage's duals (the sum of
  the pool's monthly prices). A pool's capacity is a right-hand side, so its dual is the
  exact rate of change for a small enough step (exact for one WTE unless a price changes
  within that WTE, when it is the rate at the start of the step);
- the recruitment pipeline (10% more starters), the agency ceiling (one point less
  reduction) and the target month (six months later): by solving the shortfall stage
  again with the lever moved. The target month moves coefficients, not only right-hand
  sides, and the other two are steps too large for a dual, so these are exact re-solves.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from optimiser import model as lp
from optimiser.problem import Problem
from optimiser.readback import _rows_of
from optimiser.result import SolveStatus
from optimiser.solver import SolverRun, resolve_method, run_highs

PIPELINE_STEP = 1.1
AGENCY_STEP = 0.01
TARGET_MONTH_STEP = 6
BASIS_SHARE = 0.25
LEVER_THREADS = 3  # the levers' re-solves at once: all of them
# How a lever's model is solved (shortfall stage alone), given the lever, the time left and
# the point's basis: from that basis by default; a chain (``optimiser.chain``) passes its own.
LeverRun = Callable[[str, lp.Model, float, Any], SolverRun]


def gap_levers(
    model: lp.Model,
    outcome: SolverRun,
    *,
    deadline: float,
    threads: int,
    run_lever: LeverRun | None = None,
    moved: dict[str, SolverRun | None] | None = None,
) -> list[dict[str, Any]]:
    """The levers, biggest first; a lever whose re-solve does not finish by ``deadline``
    (a ``time.perf_counter()`` value) is left out. ``moved``: re-solves already made
    (``lever_runs``); the others are made here, from the plan's basis."""
    assert outcome.shortfall is not None
    levers = _pool_levers(model, outcome.shortfall_duals)
    resolved = resolved_levers(model.problem)
    moved = dict(moved or {})
    missing = [subject for _v, subject, *_ in resolved if subject not in moved]
    if missing:
        moved |= lever_runs(
            model,
            outcome.basis,
            plan_solve_s=outcome.solve_s,
            deadline=deadline,
            threads=threads,
            run_lever=run_lever,
            subjects=missing,
        )
    for _variant, subject, description, step in resolved:
        lever = moved[subject]
        if lever is None or lever.status is not SolveStatus.OPTIMAL or lever.shortfall is None:
            continue
        closed = max(0.0, outcome.shortfall - lever.shortfall)
        levers.append(
            {
                "lever": subject,
                "subject": None,
                "description": description.format(closed=closed),
                "shortfall_closed_wte": round(closed, 2),
                "step": step,
            }
        )
    levers.sort(key=lambda x: (-x["shortfall_closed_wte"], x["lever"], x["subject"] or ""))
    return levers


def lever_runs(
    model: lp.Model,
    basis: Any,
    *,
    plan_solve_s: float,
    deadline: float,
    threads: int,
    run_lever: LeverRun | None = None,
    subjects: Collection[str] | None = None,
) -> dict[str, SolverRun | None]:
    """The shortfall stage of each of ``resolved_levers`` (those of ``subjects`` only,
    when given), by lever, from ``basis`` (the plan's; None for a chain's levers started
    before the plan is solved); None for a lever not begun by ``deadline``."""

    def move(lever: tuple[Problem, str, str, str]) -> SolverRun | None:
        variant, subject, _description, _step = lever
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            return None
        return _resolve(
            lp.build(variant),
            subject,
            basis,
            plan_solve_s,
            remaining=remaining,
            threads=threads,
            run_lever=run_lever,
        )

    chosen = [
        lever
        for lever in resolved_levers(model.problem)
        if subjects is None or lever[1] in subjects
    ]
    # HiGHS lets go of the interpreter while it solves: the levers share the cores.
    with ThreadPoolExecutor(max_workers=LEVER_THREADS) as pool:
        return {lever[1]: run for lever, run in zip(chosen, pool.map(move, chosen), strict=True)}


def _resolve(
    model: lp.Model,
    subject: str,
    basis: Any,
    plan_solve_s: float,
    *,
    remaining: float,
    threads: int,
    run_lever: LeverRun | None,
) -> SolverRun:
    """A lever's shortfall stage, from the plan's basis. On a model solved by interior
    point (``INTERIOR_POINT_FROM``), a step that moves many right-hand sides can take the
    simplex longer from that basis than a fresh start: 10% more starters on the region
    instance, over 300 s against 128 s. So there the basis has ``BASIS_SHARE`` of the
    plan's own solve time, and the lever then starts afresh."""
    fresh = resolve_method(model, "auto") != "simplex"
    started = time.perf_counter()
    limit = min(remaining, max(1.0, BASIS_SHARE * plan_solve_s)) if fresh else remaining
    moved = (
        run_highs(model, time_limit_s=limit, threads=threads, stages=1, basis=basis)
        if run_lever is None
        else run_lever(subject, model, limit, basis)
    )
    left = remaining - (time.perf_counter() - started)
    if fresh and moved.status is SolveStatus.TIME_LIMIT and left > 0:
        moved = run_highs(model, time_limit_s=left, threads=threads, stages=1)
    return moved


def _pool_levers(model: lp.Model, duals: lp.FloatArray | None) -> list[dict[str, Any]]:
    rows = _rows_of(model, duals, "pool_capacity")
    if rows is None:
        return []
    pools = model.problem.pools
    per_pool = np.maximum(0.0, -rows).reshape(len(pools), model.layout.months).sum(axis=1)
    return [
        {
            "lever": "pool",
            "subject": pool.code,
            "description": f"One more bank WTE in pool {pool.code} ({pool.home_place}) in every "
            f"month would close about {closed:,.2f} WTE-months of shortfall.",
            "shortfall_closed_wte": round(float(closed), 2),
            "step": "one more bank WTE in every month",
        }
        for pool, closed in zip(pools, per_pool.tolist(), strict=True)
        if closed > 0.005
    ]


def resolved_levers(problem: Problem) -> list[tuple[Problem, str, str, str]]:
    """(problem with the lever moved, lever, description template, step)."""
    levers = []
    pipeline = round(problem.pipeline_factor * PIPELINE_STEP, 6)
    levers.append(
        (
            dataclasses.replace(problem, pipeline_factor=pipeline),
            "pipeline",
            f"Recruiting 10% more starters (pipeline factor {pipeline:g}) would close "
            "{closed:,.2f} WTE-months of shortfall.",
            "10% more starters",
        )
    )
    targets = problem.targets
    alpha = targets.agency_reduction
    if alpha is not None and alpha > 0:
        eased = round(max(0.0, alpha - AGENCY_STEP), 6)
        levers.append(
            (
                dataclasses.replace(
                    problem, targets=dataclasses.replace(targets, agency_reduction=eased)
                ),
                "agency_ceiling",
                f"Cutting agency by {100 * eased:g}% rather than {100 * alpha:g}% would close "
                "{closed:,.2f} WTE-months of shortfall.",
                "1 point less agency reduction",
            )
        )
    later = problem.target_month + TARGET_MONTH_STEP
    levers.append(
        (
            dataclasses.replace(problem, targets=dataclasses.replace(targets, target_month=later)),
            "target_month",
            f"Reaching the targets {TARGET_MONTH_STEP} months later (month {later} rather than "
            f"{problem.target_month}) would close {{closed:,.2f}} WTE-months of shortfall.",
            f"target {TARGET_MONTH_STEP} months later",
        )
    )
    return levers
