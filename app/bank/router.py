from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, status

from app.auth import AdminDep, ReaderDep
from app.bank import service
from app.bank.schemas import PoolCreate, PoolRead, PoolUpdate
from app.deps import SessionDep
from app.errors import (
    Conflict,
    Forbidden,
    NotFound,
    Unauthorised,
    ValidationFailed,
    problem_responses,
)
from app.returns.schemas import Wte

router = APIRouter(prefix="/v1/bank", tags=["bank pools"])
ERRORS = (Unauthorised, Forbidden, ValidationFailed)


@router.get("/pools", operation_id="list_bank_pools", responses=problem_responses(*ERRORS))
def list_pools(session: SessionDep, _reader: ReaderDep) -> list[PoolRead]:
    """The bank pools of the system-wide staff bank."""
    return [service.to_read(pool) for pool in service.list_pools(session)]


@router.post(
    "/pools",
    operation_id="create_bank_pool",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(*ERRORS, Conflict),
)
def create_pool(data: PoolCreate, session: SessionDep, _admin: AdminDep) -> PoolRead:
    """Add a bank pool (admin)."""
    return service.to_read(service.create_pool(session, data=data))


@router.get(
    "/pools/{code}", operation_id="get_bank_pool", responses=problem_responses(*ERRORS, NotFound)
)
def get_pool(code: str, session: SessionDep, _reader: ReaderDep) -> PoolRead:
    """One bank pool with its explicit monthly capacities."""
    return service.to_read(service.get_pool(session, code=code))


@router.patch(
    "/pools/{code}",
    operation_id="update_bank_pool",
    responses=problem_responses(*ERRORS, NotFound),
)
def update_pool(code: str, data: PoolUpdate, session: SessionDep, _admin: AdminDep) -> PoolRead:
    """Change a bank pool's name, place, covers, cost or capacity (admin)."""
    return service.to_read(service.update_pool(session, code=code, data=data))


@router.put(
    "/pools/{code}/capacity",
    operation_id="set_bank_pool_capacity",
    responses=problem_responses(*ERRORS, NotFound),
)
def set_capacity(
    code: str,
    capacities: Annotated[
        dict[str, Wte],
        Body(
            description="WTE by month, YYYY-MM; replaces the pool's explicit capacities",
            examples=[{"2024-04": 120.5, "2024-05": 125}],
        ),
    ],
    session: SessionDep,
    _admin: AdminDep,
) -> PoolRead:
    """Set the pool's capacity month by month (admin); months not given follow the formula."""
    return service.to_read(service.set_capacities(session, code=code, capacities=capacities))
