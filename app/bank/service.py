"""Bank pools: reading, creating and editing them, with their covers and capacities."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.bank.models import BankPool, BankPoolCapacity, BankPoolCover
from app.bank.schemas import PoolCreate, PoolRead, PoolUpdate
from app.errors import Conflict, FieldError, NotFound, ValidationFailed, field_error
from app.organisations.models import Organisation
from app.organisations.service import staff_group_codes
from app.periods import is_period


def to_read(pool: BankPool) -> PoolRead:
    return PoolRead(
        code=pool.code,
        name=pool.name,
        home_place=pool.home_place,
        covers=sorted(cover.staff_group for cover in pool.covers),
        cost_per_wte_month=pool.cost_per_wte_month,
        capacity_wte=pool.capacity_wte,
        monthly_growth_rate=pool.monthly_growth_rate,
        capacity_by_period={
            c.period: c.wte for c in sorted(pool.capacities, key=lambda c: c.period)
        },
    )


def list_pools(session: Session) -> Sequence[BankPool]:
    return session.scalars(select(BankPool).order_by(BankPool.code)).all()


def get_pool(session: Session, *, code: str) -> BankPool:
    pool = session.get(BankPool, code)
    if pool is None:
        raise NotFound(f"There is no bank pool with code '{code}'.")
    return pool


def known_places(session: Session) -> set[str]:
    return set(session.scalars(select(Organisation.place).distinct()))


def _check(session: Session, *, home_place: str | None, covers: list[str] | None) -> None:
    problems: list[FieldError] = []
    if home_place is not None:
        places = known_places(session)
        if home_place not in places:
            problems.append(
                field_error(
                    ("home_place",),
                    f"unknown place '{home_place}'; known: {', '.join(sorted(places))}",
                )
            )
    if covers is not None:
        groups = staff_group_codes(session)
        seen: set[str] = set()
        for index, group in enumerate(covers):
            if group not in groups:
                problems.append(field_error(("covers", index), f"unknown staff group '{group}'"))
            elif group in seen:
                problems.append(field_error(("covers", index), f"'{group}' is repeated"))
            seen.add(group)
    if problems:
        raise ValidationFailed(f"{len(problems)} problem(s) in the pool.", errors=problems)


def create_pool(session: Session, *, data: PoolCreate) -> BankPool:
    _check(session, home_place=data.home_place, covers=data.covers)
    if session.get(BankPool, data.code) is not None:
        raise Conflict(f"A bank pool with code '{data.code}' exists already.")
    pool = BankPool(
        code=data.code,
        name=data.name,
        home_place=data.home_place,
        cost_per_wte_month=data.cost_per_wte_month,
        capacity_wte=data.capacity_wte,
        monthly_growth_rate=data.monthly_growth_rate,
        covers=[BankPoolCover(staff_group=group) for group in data.covers],
        capacities=[],
    )
    session.add(pool)
    session.flush()
    return pool


def update_pool(session: Session, *, code: str, data: PoolUpdate) -> BankPool:
    pool = get_pool(session, code=code)
    changes = data.model_dump(exclude_unset=True)
    _check(session, home_place=changes.get("home_place"), covers=changes.get("covers"))
    for field in ("name", "home_place", "cost_per_wte_month", "capacity_wte"):
        if changes.get(field) is not None:
            setattr(pool, field, changes[field])
    if "monthly_growth_rate" in changes:
        pool.monthly_growth_rate = changes["monthly_growth_rate"]
    if changes.get("covers") is not None:
        pool.covers = [BankPoolCover(staff_group=group) for group in changes["covers"]]
    session.flush()
    return pool


def set_capacities(session: Session, *, code: str, capacities: Mapping[str, Decimal]) -> BankPool:
    """Replace the pool's explicit per-month capacities."""
    pool = get_pool(session, code=code)
    problems = [
        field_error((period,), f"'{period}' is not a month written YYYY-MM")
        for period in capacities
        if not is_period(period)
    ]
    if problems:
        raise ValidationFailed("Capacities are keyed by month, YYYY-MM.", errors=problems)
    pool.capacities = [
        BankPoolCapacity(period=period, wte=wte) for period, wte in sorted(capacities.items())
    ]
    session.flush()
    return pool
