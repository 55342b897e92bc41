from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session

from app.auth import PrincipalDep
from app.clock import TodayDep
from app.deps import SessionDep
from app.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    Unauthorised,
    UnsupportedMediaType,
    ValidationFailed,
    field_error,
    from_pydantic,
    problem_responses,
)
from app.inputs import MAX_INT
from app.periods import PERIOD_PATTERN, period_problem
from app.returns import csv_io, service
from app.returns.models import ReturnRevision
from app.returns.schemas import (
    LINE_FIELDS,
    ReturnLineRead,
    ReturnPage,
    ReturnRead,
    ReturnSubmission,
    ReturnSubmitted,
)

router = APIRouter(prefix="/v1", tags=["returns"])

# The handler checks the pattern itself, to report it beside the body's problems.
PeriodPath = Annotated[
    str,
    Path(
        description="The month, YYYY-MM",
        examples=["2024-04"],
        json_schema_extra={"pattern": PERIOD_PATTERN},
    ),
]
PeriodQuery = Annotated[str | None, Query(pattern=PERIOD_PATTERN, examples=["2024-04"])]

SUBMISSION_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The return as JSON, or its lines as CSV with a header row "
        f"({', '.join(LINE_FIELDS)}); with CSV, `source`, `amendment_reason` and "
        "`replace_all` go in the query.",
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/ReturnSubmission"}},
            "text/csv": {"schema": {"type": "string"}},
        },
    }
}
EXTRA_SCHEMAS = (ReturnSubmission,)


def to_read(revision: ReturnRevision, *, latest: int | None = None) -> ReturnRead:
    return ReturnRead(
        organisation=revision.return_.organisation_code,
        period=revision.return_.period,
        revision=revision.revision,
        latest_revision=latest if latest is not None else revision.return_.latest_revision,
        source=revision.source,
        amendment_reason=revision.amendment_reason,
        submitted_by=revision.submitted_by,
        submitted_at=revision.submitted_at,
        synthetic=revision.synthetic,
        lines=[ReturnLineRead.model_validate(line) for line in revision.lines],
    )


def _csv_note(path: tuple[str | int, ...]) -> str:
    if len(path) >= 2 and path[0] == "lines" and isinstance(path[1], int):
        return f"CSV row {path[1] + 2}: "
    return ""


async def read_submission(
    request: Request, source: str | None, amendment_reason: str | None, replace_all: bool = False
) -> ReturnSubmission:
    """The body as a ``ReturnSubmission``, from JSON or CSV."""
    media_type = request.headers.get("content-type", "application/json").split(";")[0].strip()
    body = await request.body()
    if media_type in ("text/csv", "application/csv"):
        data: Any = {
            "source": source,
            "amendment_reason": amendment_reason,
            "replace_all": replace_all,
            "lines": csv_io.parse_lines(body),
        }
        note = _csv_note
    elif media_type == "application/json" or media_type.endswith("+json"):
        try:
            data = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise BadRequest(f"The body is not valid JSON: {error}.") from error
        if isinstance(data, dict):
            data.setdefault("source", source)
            data.setdefault("amendment_reason", amendment_reason)
            if replace_all:
                data.setdefault("replace_all", True)
        note = None
    else:
        raise UnsupportedMediaType(
            f"Send the return as application/json or text/csv, not {media_type}."
        )
    try:
        return ReturnSubmission.model_validate(data)
    except ValidationError as error:
        errors = from_pydantic(error.errors(), note=note)
        raise ValidationFailed(f"{len(errors)} problem(s) in the return.", errors=errors) from error


def _submit_and_commit(session: Session, **kwargs: Any) -> service.Submitted:
    """Submit and end the transaction in the same worker thread.

    The write holds the return's lock; ending it in the session dependency would need
    another worker thread, and under load every thread may be waiting for this lock.
    """
    try:
        result = service.submit_return(session, **kwargs)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return result


@router.put(
    "/organisations/{code}/returns/{period}",
    operation_id="submit_return",
    response_model=ReturnSubmitted,
    responses={
        201: {"model": ReturnSubmitted, "description": "The period's first revision"},
        **problem_responses(
            BadRequest,
            Unauthorised,
            Forbidden,
            NotFound,
            Conflict,
            PreconditionFailed,
            PayloadTooLarge,
            UnsupportedMediaType,
            ValidationFailed,
        ),
    },
    openapi_extra=SUBMISSION_BODY,
)
async def submit_return(
    request: Request,
    response: Response,
    code: str,
    period: PeriodPath,
    session: SessionDep,
    principal: PrincipalDep,
    today: TodayDep,
    source: Annotated[str | None, Query(max_length=200)] = None,
    amendment_reason: Annotated[str | None, Query(max_length=2000)] = None,
    replace_all: Annotated[
        bool,
        Query(
            description="The lines replace the whole return: an amendment may leave out "
            "staff groups of the revision it amends (for CSV; JSON may say it in the body)"
        ),
    ] = False,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    if_match: Annotated[str | None, Header()] = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> ReturnSubmitted:
    """Submit or amend an organisation's return for a month that has ended (returns:write,
    own organisation).

    The first submission answers 201 with revision 1; different content later is an
    amendment (it needs `amendment_reason`, and the lines of every staff group the
    amended revision has unless `replace_all`) and answers 200 with the next revision.
    Identical content, or a repeated `Idempotency-Key`, changes nothing. The current month
    and later are refused (422) until they have ended. `warnings` lists what is legal
    but unusual.
    """
    metrics = request.app.state.metrics
    try:
        try:
            submission = await read_submission(request, source, amendment_reason, replace_all)
        except ValidationFailed as error:
            # Report a bad period with the body's problems, not in a second round trip.
            if (why := period_problem(period, today=today)) is not None:
                error.errors = [
                    field_error(("period",), f"{why} (in the path)"),
                    *(error.errors or []),
                ]
            raise
        result = await run_in_threadpool(
            _submit_and_commit,
            session,
            principal=principal,
            organisation=code,
            period=period,
            submission=submission,
            idempotency_key=idempotency_key,
            if_match=if_match,
            if_none_match=if_none_match,
            today=today,
        )
    except Exception:
        metrics.returns_refused.inc()
        raise
    if result.changed:
        metrics.returns_accepted.inc()
    response.status_code = result.status_code
    response.headers["ETag"] = service.etag(result.revision.revision)
    if result.status_code == 201:
        response.headers["Location"] = f"/v1/organisations/{code}/returns/{period}"
    read = to_read(result.revision, latest=result.latest_revision)
    return ReturnSubmitted(**dict(read), warnings=result.warnings)


READ_ERRORS = problem_responses(Unauthorised, Forbidden, NotFound, ValidationFailed)


@router.get(
    "/organisations/{code}/returns/{period}",
    operation_id="get_return",
    responses=READ_ERRORS,
)
def get_return(
    response: Response, code: str, period: PeriodPath, session: SessionDep, principal: PrincipalDep
) -> ReturnRead:
    """The latest revision of a return, with its `ETag`."""
    revision = service.latest_revision(
        session, principal=principal, organisation=code, period=period
    )
    response.headers["ETag"] = service.etag(revision.revision)
    return to_read(revision)


@router.get(
    "/organisations/{code}/returns/{period}/revisions",
    operation_id="list_return_revisions",
    responses=READ_ERRORS,
)
def list_revisions(
    code: str, period: PeriodPath, session: SessionDep, principal: PrincipalDep
) -> list[ReturnRead]:
    """Every revision of a return, oldest first, with who submitted each and why."""
    rows = service.revisions(session, principal=principal, organisation=code, period=period)
    return [to_read(r) for r in rows]


@router.get(
    "/organisations/{code}/returns/{period}/revisions/{revision}",
    operation_id="get_return_revision",
    responses=READ_ERRORS,
)
def get_revision(
    code: str,
    period: PeriodPath,
    revision: Annotated[int, Path(ge=1, le=MAX_INT)],
    session: SessionDep,
    principal: PrincipalDep,
) -> ReturnRead:
    """One revision of a return."""
    return to_read(
        service.revision(
            session, principal=principal, organisation=code, period=period, number=revision
        )
    )


def _export_rows(
    revisions: Sequence[ReturnRevision], staff_group: str | None
) -> Iterator[dict[str, Any]]:
    for revision in revisions:
        for line in revision.lines:
            if staff_group is not None and line.staff_group != staff_group:
                continue
            yield {
                "organisation": revision.return_.organisation_code,
                "period": revision.return_.period,
                "revision": revision.revision,
                "synthetic": str(revision.synthetic).lower(),
                **{field: getattr(line, field) for field in LINE_FIELDS},
            }


@router.get(
    "/returns",
    operation_id="list_returns",
    response_model=ReturnPage,
    responses={
        200: {
            "description": "A page of latest revisions, or with `format=csv` all matching lines",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **READ_ERRORS,
    },
)
def list_returns(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    organisation: str | None = None,
    staff_group: str | None = None,
    from_: Annotated[PeriodQuery, Query(alias="from")] = None,
    to: PeriodQuery = None,
    format: Literal["json", "csv"] = "json",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
) -> Any:
    """Latest revisions of returns, filtered; paginated as JSON, or every line as CSV.

    A token bound to an organisation without the `read` scope sees its own returns only.
    With `staff_group`, only returns with that group are listed, and only its lines.
    """
    if format == "csv":
        revisions, _ = service.list_latest(
            session,
            principal=principal,
            organisation=organisation,
            staff_group=staff_group,
            first=from_,
            last=to,
            limit=None,
            offset=0,
        )
        return StreamingResponse(
            csv_io.render(_export_rows(revisions, staff_group)),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="returns.csv"'},
        )
    revisions, total = service.list_latest(
        session,
        principal=principal,
        organisation=organisation,
        staff_group=staff_group,
        first=from_,
        last=to,
        limit=limit,
        offset=offset,
    )
    items = []
    for revision in revisions:
        read = to_read(revision)
        if staff_group is not None:
            read.lines = [line for line in read.lines if line.staff_group == staff_group]
        items.append(read)
    next_url = None
    if offset + limit < total:
        next_url = str(request.url.include_query_params(offset=offset + limit))
    return ReturnPage(items=items, total=total, limit=limit, offset=offset, next=next_url)
