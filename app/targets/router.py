from __future__ import annotations

from typing import Annotated, get_args

from fastapi import APIRouter, Path, Response

from app.auth import AdminDep, PrincipalDep, ReaderDep
from app.deps import SessionDep
from app.errors import Forbidden, NotFound, Unauthorised, ValidationFailed, problem_responses
from app.metrics import service as metrics_service
from app.metrics.schemas import Level
from app.targets import service
from app.targets.schemas import TargetCode, TargetRead, TargetStatusPage, TargetWrite

router = APIRouter(prefix="/v1/targets", tags=["targets"])
# The service refuses another code (422) naming the known ones; the document lists them.
TargetCodePath = Annotated[str, Path(json_schema_extra={"enum": list(get_args(TargetCode))})]
ERRORS = (Unauthorised, Forbidden, ValidationFailed)


@router.get("", operation_id="list_targets", responses=problem_responses(*ERRORS))
def list_targets(session: SessionDep, _reader: ReaderDep) -> list[TargetRead]:
    """The system's workforce commitments."""
    return [service.to_read(t) for t in service.list_targets(session)]


@router.get(
    "/status",
    operation_id="get_target_status",
    responses=problem_responses(*ERRORS, NotFound),
)
def get_status(
    session: SessionDep, principal: PrincipalDep, level: Level = "system"
) -> TargetStatusPage:
    """Each target for each unit of a level: baseline, latest value, the value the
    trajectory needs by now, and a rating (green on or ahead of the trajectory, amber
    within 10% of it, red otherwise; not_applicable for a unit with no establishment in
    the target's staff groups), in the latest month every expected organisation returned."""
    status = metrics_service.data_status(session)
    items = service.status(
        session, principal=principal, level=level, period=status.latest_complete_period
    )
    fields = metrics_service.page_fields(session, period=None, status=status)
    return TargetStatusPage(
        items=items,
        period=status.latest_complete_period,
        latest_partial_period=fields["latest_partial_period"],
        latest_partial=fields["latest_partial"],
    )


@router.put(
    "/{code}",
    operation_id="put_target",
    responses={201: {"model": TargetRead}, **problem_responses(*ERRORS)},
)
def put_target(
    code: TargetCodePath,
    data: TargetWrite,
    response: Response,
    session: SessionDep,
    admin: AdminDep,
) -> TargetRead:
    """Set a target (admin): nursing_capacity_growth, turnover_rate or agency_reduction."""
    target, created = service.put_target(session, code=code, data=data, updated_by=admin.label)
    if created:
        response.status_code = 201
    return service.to_read(target)
