from __future__ import annotations

from fastapi import APIRouter, status

from app.auth import AdminDep, PrincipalDep
from app.deps import SessionDep
from app.errors import (
    Conflict,
    Forbidden,
    NotFound,
    Unauthorised,
    ValidationFailed,
    problem_responses,
)
from app.organisations import service
from app.organisations.schemas import (
    OrganisationCreate,
    OrganisationKind,
    OrganisationRead,
    OrganisationUpdate,
    StaffGroupRead,
)

router = APIRouter(prefix="/v1", tags=["reference data"])
AUTH_ERRORS = (Unauthorised, ValidationFailed)


@router.get(
    "/staff-groups",
    operation_id="list_staff_groups",
    responses=problem_responses(*AUTH_ERRORS),
)
def list_staff_groups(session: SessionDep, _principal: PrincipalDep) -> list[StaffGroupRead]:
    """The staff groups returns are reported by; NURSE and MIDWIFE count as nursing."""
    return [StaffGroupRead.model_validate(g) for g in service.list_staff_groups(session)]


@router.get(
    "/organisations",
    operation_id="list_organisations",
    responses=problem_responses(*AUTH_ERRORS),
)
def list_organisations(
    session: SessionDep,
    _principal: PrincipalDep,
    place: str | None = None,
    kind: OrganisationKind | None = None,
) -> list[OrganisationRead]:
    """The organisations of the system, optionally of one place or kind."""
    rows = service.list_organisations(
        session, place=place, kind=kind.value if kind is not None else None
    )
    return [OrganisationRead.model_validate(o) for o in rows]


@router.get(
    "/organisations/{code}",
    operation_id="get_organisation",
    responses=problem_responses(*AUTH_ERRORS, NotFound),
)
def get_organisation(code: str, session: SessionDep, _principal: PrincipalDep) -> OrganisationRead:
    """One organisation by its code."""
    return OrganisationRead.model_validate(service.get_organisation(session, code=code))


@router.post(
    "/organisations",
    operation_id="create_organisation",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(*AUTH_ERRORS, Forbidden, Conflict),
)
def create_organisation(
    data: OrganisationCreate, session: SessionDep, _admin: AdminDep
) -> OrganisationRead:
    """Add an organisation (admin)."""
    return OrganisationRead.model_validate(service.create_organisation(session, data=data))


@router.patch(
    "/organisations/{code}",
    operation_id="update_organisation",
    responses=problem_responses(*AUTH_ERRORS, Forbidden, NotFound),
)
def update_organisation(
    code: str, data: OrganisationUpdate, session: SessionDep, _admin: AdminDep
) -> OrganisationRead:
    """Change an organisation's name, kind or place (admin)."""
    return OrganisationRead.model_validate(
        service.update_organisation(session, code=code, data=data)
    )
