"""Sweeps: one base plan request over a grid of one or two scenario keys, a plan per point.

Each point is an ordinary plan row linked to its sweep (``sweep_id``, ``sweep_index``,
``sweep_point``), solved by whatever solves plans; the sweep's progress and table are read
from those rows, so they need no bookkeeping of their own. The points are handed out in
chains of neighbours (``chains``), each solved in turn by one worker from the last one's
solver state (``optimiser.chain``).
"""

from __future__ import annotations

import itertools
import math
import secrets
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth import Principal, Scope
from app.config import Settings
from app.errors import FieldError, NotFound, ValidationFailed, field_error
from app.plans import inputs as plan_inputs
from app.plans import limits, service
from app.plans.listing import sweep_state
from app.plans.models import Plan, PlanState, PlanSweep
from app.plans.schemas import (
    PlanRequest,
    Scenario,
    SweepPoint,
    SweepRange,
    SweepRead,
    SweepRequest,
)

# Scenario keys by staff group or pool: swept through a dotted key, `turnover_sensitivity.NURSE`.
BY_KEY_FIELDS = frozenset(
    {
        "establishment_growth",
        "agency_cost_per_wte_month",
        "unfilled_penalty_per_wte_month",
        "turnover_sensitivity",
        "pool_capacity_wte",
    }
)
# Keys that change which data a plan reads: not swept.
NOT_SWEPT = frozenset({"organisations", "pools"})
# Keys read while gathering the data (``app.plans.inputs.gather``): the data is gathered
# once per value of these, once in all for the other keys.
GATHERED = frozenset({"pool_capacity_wte", "target_period"})
NURSING_TARGET = "nursing_capacity"
# A chain is one worker's: longer ones are split, so that more workers share a sweep.
MAX_CHAIN_POINTS = 10
TABLE_FIELDS = (
    "plan_id",
    "state",
    "status",
    "cash_cost",
    "unfilled_wte_months",
    "cash_difference",
    "unfilled_wte_months_avoided",
    "penalty_avoided",
    "total_cost",
    "do_nothing_cost",
    "saving",
    "nursing_shadow_price",
)


def _grid_error(key: str, message: str, *at: str | int) -> FieldError:
    return field_error(("grid", key, *at), message)


def _check_key(key: str) -> str | None:
    """Why ``key`` cannot be swept, or None."""
    field, dot, sub = key.partition(".")
    if field not in Scenario.model_fields:
        known = ", ".join(sorted(set(Scenario.model_fields) - NOT_SWEPT))
        return f"'{field}' is not a scenario key; one of: {known}"
    if field in NOT_SWEPT:
        return f"'{field}' chooses the data a plan reads and cannot be swept"
    if field in BY_KEY_FIELDS and not (dot and sub):
        return f"'{field}' is given by staff group or pool: sweep '{field}.<code>'"
    if field not in BY_KEY_FIELDS and dot:
        return f"'{field}' has no keys of its own; sweep '{field}' itself"
    return None


def _with_values(scenario: dict[str, Any], point: dict[str, Any]) -> dict[str, Any]:
    """The base scenario with the point's values in place (dotted keys reach into dicts)."""
    merged = dict(scenario)
    for key, value in point.items():
        field, _, sub = key.partition(".")
        if sub:
            merged[field] = {**(merged.get(field) or {}), sub: value}
        else:
            merged[field] = value
    return merged


def expand(request: SweepRequest, *, max_points: int) -> tuple[list[str], list[list[Any]]]:
    """The grid's keys and each key's values, checked; ValidationFailed naming the field."""
    problems: list[FieldError] = []
    keys = list(request.grid)
    values: list[list[Any]] = []
    for key in keys:
        why = _check_key(key)
        if why is not None:
            problems.append(_grid_error(key, why))
        given = request.grid[key]
        values.append(given.values() if isinstance(given, SweepRange) else list(given))
    if problems:
        raise ValidationFailed(f"{len(problems)} problem(s) in the grid.", errors=problems)
    points = math.prod(len(v) for v in values)
    if points > max_points:
        sizes = " x ".join(str(len(v)) for v in values)
        raise ValidationFailed(
            f"The grid has {points} points ({sizes}); a sweep may have at most "
            f"{max_points}. Use fewer values or a coarser range.",
            errors=[
                field_error(("grid",), f"{points} points ({sizes}); at most {max_points} allowed")
            ],
        )
    base_scenario = request.base.scenario.model_dump(mode="json", exclude_unset=True)
    for key, key_values in zip(keys, values, strict=True):
        for index, value in enumerate(key_values):
            try:
                Scenario.model_validate(_with_values(base_scenario, {key: value}))
            except ValidationError as error:
                for detail in error.errors():
                    problems.append(_grid_error(key, f"{value!r}: {detail['msg']}", index))
    if problems:
        raise ValidationFailed(f"{len(problems)} problem(s) in the grid.", errors=problems)
    return keys, values


def _regrid(error: ValidationFailed, keys: Sequence[str]) -> ValidationFailed:
    """The data's verdict on a point, its pointers moved from the point's scenario to the
    grid key that set the value, or to the base request."""
    moved = []
    for problem in error.errors or []:
        pointer = problem.pointer
        for key in keys:
            if pointer == "/scenario/" + key.replace(".", "/"):
                moved.append(_grid_error(key, problem.message))
                break
        else:
            moved.append(
                FieldError(
                    pointer="/base" + pointer,
                    field="base." + problem.field,
                    message=problem.message,
                )
            )
    return ValidationFailed(error.detail, errors=moved)


def create_sweep(
    session: Session,
    *,
    request: SweepRequest,
    principal: Principal,
    settings: Settings,
    owner: str,
) -> tuple[PlanSweep, list[str]]:
    """Check the grid, store the sweep and one queued plan per point; returns the plans' ids
    in grid order. Flushes; the caller commits."""
    principal.require(Scope.PLANS_WRITE)
    keys, values = expand(request, max_points=settings.plan_max_sweep_points)
    problems = limits.request_problems(request.base, settings, at=("base",))
    for key, key_values in zip(keys, values, strict=True):
        if key == "time_limit_s":
            problems.extend(
                _grid_error(key, why, index)
                for index, value in enumerate(key_values)
                if (why := limits.over_time_limit(value, settings))
            )
    limits.refuse(problems)
    limits.check_pending(
        session, principal=principal, adding=math.prod(len(v) for v in values), settings=settings
    )
    base = request.base.model_dump(mode="json", exclude_unset=True)
    base_scenario = base.get("scenario", {})
    points = [
        dict(zip(keys, combination, strict=True)) for combination in itertools.product(*values)
    ]
    requests = [
        PlanRequest.model_validate({**base, "scenario": _with_values(base_scenario, point)})
        for point in points
    ]
    gathered_keys = [i for i, key in enumerate(keys) if key.partition(".")[0] in GATHERED]
    gathered: dict[tuple[Any, ...], plan_inputs.GatheredInputs] = {}
    targets = plan_inputs.stored_targets(session)
    sweep = PlanSweep(
        id=secrets.token_hex(8),
        request=request.model_dump(mode="json", by_alias=True, exclude_unset=True),
        keys=keys,
        values=values,
        total=len(points),
        requested_by=principal.label,
    )
    session.add(sweep)
    session.flush()
    plan_ids = []
    for index, (point, point_request) in enumerate(zip(points, requests, strict=True)):
        gather_key = tuple(point[keys[i]] for i in gathered_keys)
        try:
            if gather_key not in gathered:
                gathered[gather_key] = plan_inputs.gather(session, request=point_request)
            plan = service.create_plan(
                session,
                request=point_request,
                principal=principal,
                settings=settings,
                owner=owner,
                gathered=gathered[gather_key],
                targets=targets,
                sweep_id=sweep.id,
                sweep_index=index,
                sweep_point=point,
            )
        except ValidationFailed as error:
            raise _regrid(error, keys) from error
        plan_ids.append(plan.id)
    return sweep, plan_ids


def chains(sweep: PlanSweep, plan_ids: Sequence[str]) -> list[list[str]]:
    """The sweep's points (``plan_ids``, in grid order, the last key varying fastest) in
    chains of neighbours: one per value of the first key, each varying the last key a step
    at a time. A chain longer than ``MAX_CHAIN_POINTS`` is split evenly, and a sweep that
    would be one chain is split in two, so that two workers both get work."""
    width = len(sweep.values[-1]) if len(sweep.values) > 1 else len(plan_ids)
    rows = [list(plan_ids[i : i + width]) for i in range(0, len(plan_ids), width)]
    out = []
    for row in rows:
        parts = max(-(-len(row) // MAX_CHAIN_POINTS), 2 if len(rows) == 1 else 1)
        parts = min(parts, len(row))
        step, extra = divmod(len(row), parts)
        start = 0
        for part in range(parts):
            end = start + step + (part < extra)
            out.append(row[start:end])
            start = end
    return out


def get_sweep(session: Session, *, sweep_id: str) -> PlanSweep:
    sweep = session.get(PlanSweep, sweep_id)
    if sweep is None:
        raise NotFound(f"There is no sweep with id '{sweep_id}'.")
    return sweep


def _point(row: Any) -> SweepPoint:
    summary: dict[str, Any] = row.summary or {}
    targets: dict[str, dict[str, Any]] | None = summary.get("targets")
    return SweepPoint(
        index=row.sweep_index or 0,
        values=row.sweep_point or {},
        plan_id=row.id,
        state=row.state,
        status=row.status,
        total_cost=summary.get("total_cost"),
        do_nothing_cost=summary.get("do_nothing_cost"),
        saving=summary.get("saving"),
        cash_cost=summary.get("cash_cost"),
        unfilled_wte_months=summary.get("unfilled_wte_months"),
        cash_difference=summary.get("cash_difference"),
        unfilled_wte_months_avoided=summary.get("unfilled_wte_months_avoided"),
        penalty_avoided=summary.get("penalty_avoided"),
        targets_met=None if targets is None else {k: t["met"] for k, t in targets.items()},
        shortfalls=None if targets is None else {k: t["shortfall"] for k, t in targets.items()},
        nursing_shadow_price=(targets or {}).get(NURSING_TARGET, {}).get("shadow_price"),
    )


def to_read(session: Session, sweep: PlanSweep) -> SweepRead:
    # The summaries, not the results: a point's whole result is large (docs/plans.md).
    rows = session.execute(
        select(
            Plan.id,
            Plan.state,
            Plan.status,
            Plan.sweep_index,
            Plan.sweep_point,
            Plan.summary,
        )
        .where(Plan.sweep_id == sweep.id)
        .order_by(Plan.sweep_index)
    ).all()
    points = [_point(row) for row in rows]
    done = sum(p.state == PlanState.FINISHED for p in points)
    failed = sum(p.state == PlanState.FAILED for p in points)
    state = sweep_state(
        total=sweep.total,
        done=done,
        failed=failed,
        queued=sum(p.state == PlanState.QUEUED for p in points),
    )
    return SweepRead(
        id=sweep.id,
        state=state.value,
        total=sweep.total,
        done=done,
        failed=failed,
        keys=list(sweep.keys),
        base=sweep.request.get("base", {}),
        requested_by=sweep.requested_by,
        created_at=sweep.created_at,
        points=points,
    )


def table_fields(sweep: SweepRead) -> list[str]:
    """The CSV's columns: the point, each key, the figures, then each target's met/shortfall."""
    targets: list[str] = []
    for point in sweep.points:
        for name in point.targets_met or {}:
            if name not in targets:
                targets.append(name)
    return [
        "index",
        *sweep.keys,
        *TABLE_FIELDS,
        *(f"{name}_{what}" for name in targets for what in ("met", "shortfall")),
    ]


def table_rows(sweep: SweepRead) -> list[dict[str, Any]]:
    rows = []
    for point in sweep.points:
        row: dict[str, Any] = {"index": point.index, **point.values}
        row.update({field: getattr(point, field) for field in TABLE_FIELDS})
        for name, met in (point.targets_met or {}).items():
            row[f"{name}_met"] = "true" if met else "false"
            row[f"{name}_shortfall"] = (point.shortfalls or {}).get(name)
        rows.append(row)
    return rows
