"""Targets, and how each unit stands against them (RAG)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth import Principal
from app.errors import FieldError, NotFound, ValidationFailed, field_error
from app.metrics import service as metrics
from app.metrics.schemas import Level, MetricItem
from app.organisations.models import StaffGroup
from app.periods import month_index
from app.returns.models import Return
from app.targets.models import Target
from app.targets.schemas import TargetRead, TargetStatus, TargetWrite

# How each target is measured, and which way is better.
MEASURES = {
    "nursing_capacity_growth": ("nursing_capacity_wte", "increase"),
    "turnover_rate": ("turnover_rate_12m", "decrease"),
    "agency_reduction": ("agency_wte", "decrease"),
}
AMBER_MARGIN = 0.10  # within 10% of the trajectory
VALUE_RANGE = {
    "nursing_capacity_growth": (-0.5, 1.0),
    "turnover_rate": (0.0, 1.0),
    "agency_reduction": (0.0, 1.0),
}


def to_read(target: Target) -> TargetRead:
    measure, direction = MEASURES[target.code]
    return TargetRead(
        code=target.code,
        name=target.name,
        value=float(target.value),
        baseline_period=target.baseline_period,
        target_period=target.target_period,
        direction="increase" if direction == "increase" else "decrease",
        measure=measure,
    )


def list_targets(session: Session) -> Sequence[Target]:
    return session.scalars(select(Target).order_by(Target.code)).all()


def put_target(
    session: Session, *, code: str, data: TargetWrite, updated_by: str
) -> tuple[Target, bool]:
    """Create or replace a target; returns it and whether it was created."""
    problems: list[FieldError] = []
    if code not in MEASURES:
        problems.append(
            field_error(("code",), f"unknown target '{code}'; known: {', '.join(MEASURES)}")
        )
    low, high = VALUE_RANGE.get(code, (-1.0, 1.0))
    if not low <= data.value <= high:
        problems.append(field_error(("value",), f"must be from {low} to {high} for {code}"))
    if data.target_period <= data.baseline_period:
        problems.append(field_error(("target_period",), "must be after the baseline period"))
    if problems:
        raise ValidationFailed("The target is invalid.", errors=problems)
    target = session.get(Target, code)
    created = target is None
    if target is None:
        target = Target(code=code)
        session.add(target)
    target.name = data.name
    target.value = Decimal(str(data.value))
    target.baseline_period = data.baseline_period
    target.target_period = data.target_period
    target.updated_by = updated_by
    session.flush()
    return target, created


def get_target(session: Session, *, code: str) -> Target:
    target = session.get(Target, code)
    if target is None:
        raise NotFound(f"There is no target '{code}'.")
    return target


def _progress(target: Target, baseline_period: str, now: str) -> float:
    span = month_index(target.target_period) - month_index(baseline_period)
    if span <= 0:
        return 1.0
    return min(1.0, max(0.0, (month_index(now) - month_index(baseline_period)) / span))


def _rate(
    target: Target, baseline: float | None, latest: float | None, progress: float
) -> tuple[float | None, float | None, str]:
    """(target value, required value by now, RAG) in the measure's own units."""
    if baseline is None or latest is None:
        return None, None, "unknown"
    value = float(target.value)
    if target.code == "nursing_capacity_growth":
        goal = baseline * (1 + value)
        required_growth = value * progress
        required = baseline * (1 + required_growth)
        achieved_growth = latest / baseline - 1 if baseline else 0.0
        if achieved_growth >= required_growth:
            return goal, required, "green"
        if achieved_growth >= required_growth * (1 - AMBER_MARGIN):
            return goal, required, "amber"
        return goal, required, "red"
    if target.code == "turnover_rate":
        goal = value
        required = baseline + (value - baseline) * progress
    else:  # agency_reduction
        goal = baseline * (1 - value)
        required = baseline * (1 - value * progress)
    if latest <= required:
        return goal, required, "green"
    if latest <= required * (1 + AMBER_MARGIN):
        return goal, required, "amber"
    return goal, required, "red"


def _nursing_establishment(session: Session, items: list[MetricItem]) -> dict[str, float]:
    """Each unit's establishment in the nursing groups, from its by-group items."""
    nursing = set(
        session.scalars(select(StaffGroup.code).where(StaffGroup.counts_as_nursing.is_(True)))
    )
    establishment: dict[str, float] = {}
    for item in items:
        if item.staff_group in nursing and item.establishment_wte is not None:
            establishment[item.code] = establishment.get(item.code, 0.0) + item.establishment_wte
    return establishment


def _baseline_period(session: Session, target: Target) -> str:
    """The target's baseline month, or the first month with returns after it."""
    return (
        session.scalar(
            select(func.min(Return.period)).where(
                Return.period >= target.baseline_period, Return.latest_revision > 0
            )
        )
        or target.baseline_period
    )


def status(
    session: Session, *, principal: Principal, level: Level, period: str | None = None
) -> list[TargetStatus]:
    """Each target for each unit: baseline, latest, the trajectory's value now, RAG; rated
    in ``period`` (default: the latest month in which every expected organisation
    returned, so that a month only some have returned for is never rated as the whole)."""
    latest_period = period or metrics.latest_complete_period(session)
    items: list[TargetStatus] = []
    if latest_period is None:
        return items
    latest_items = metrics.metrics(
        session, principal=principal, level=level, period=latest_period, staff_group=None
    )
    latest = _by_code(latest_items)
    nursing_establishment = _nursing_establishment(session, latest_items)
    for target in list_targets(session):
        measure, _direction = MEASURES[target.code]
        baseline_period = _baseline_period(session, target)
        baseline = _by_code(
            metrics.metrics(
                session,
                principal=principal,
                level=level,
                period=baseline_period,
                staff_group=None,
            )
        )
        progress = _progress(target, baseline_period, latest_period)
        for code in sorted(set(latest) | set(baseline)):
            base_value = _value(baseline.get(code), measure)
            latest_value = _value(latest.get(code), measure)
            goal, required, rag = _rate(target, base_value, latest_value, progress)
            note = _unknown_note(baseline.get(code), latest.get(code), baseline_period)
            establishment = (
                nursing_establishment.get(code, 0.0)
                if target.code == "nursing_capacity_growth"
                else _value(latest.get(code), "establishment_wte")
            )
            if latest_value is not None and not establishment:
                groups = "nursing groups" if target.code == "nursing_capacity_growth" else "groups"
                rag = "not_applicable"
                goal = required = None
                note = f"{code} has no establishment in the {groups} in {latest_period}"
            items.append(
                TargetStatus(
                    target=target.code,
                    level=level,
                    code=code,
                    measure=measure,
                    baseline_period=baseline_period,
                    baseline=_round(base_value, measure),
                    latest_period=latest_period,
                    latest=_round(latest_value, measure),
                    target_value=_round(goal, measure),
                    required=_round(required, measure),
                    rag=rag,
                    note=note if rag in ("unknown", "not_applicable") else None,
                    synthetic=any(
                        item.synthetic
                        for item in (baseline.get(code), latest.get(code))
                        if item is not None
                    ),
                )
            )
    return items


def _unknown_note(
    baseline: MetricItem | None, latest: MetricItem | None, baseline_period: str
) -> str | None:
    """Why a unit has no figure to rate: its own coverage note, or no returns at all."""
    for item in (latest, baseline):
        if item is not None and item.coverage_note is not None and item.organisations_covered == 0:
            return item.coverage_note
    if baseline is None:
        return f"no returns in the baseline month {baseline_period}"
    return None


def _by_code(items: list[MetricItem]) -> dict[str, MetricItem]:
    return {item.code: item for item in items if item.staff_group is None}


def _value(item: MetricItem | None, measure: str) -> float | None:
    if item is None:
        return None
    value = getattr(item, measure)
    return None if value is None else float(value)


def _round(value: float | None, measure: str) -> float | None:
    if value is None:
        return None
    return round(value, 4 if measure.endswith("rate_12m") else 2)
