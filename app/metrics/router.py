from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from app.auth import PrincipalDep
from app.deps import SessionDep
from app.errors import (
    Forbidden,
    NotFound,
    Unauthorised,
    ValidationFailed,
    field_error,
    problem_responses,
)
from app.metrics import service
from app.metrics.schemas import Level, MetricItem, MetricPage
from app.periods import (
    EARLIEST_PERIOD,
    PERIOD_FROM_EARLIEST_PATTERN,
    PERIOD_PATTERN,
    month_index,
)
from app.returns import csv_io

router = APIRouter(prefix="/v1/metrics", tags=["metrics"])
ERRORS = problem_responses(Unauthorised, Forbidden, NotFound, ValidationFailed)
# Months before EARLIEST_PERIOD are refused (422) by _check_periods; the document says so.
FROM_EARLIEST = {"pattern": PERIOD_FROM_EARLIEST_PATTERN}
Period = Annotated[
    str, Query(pattern=PERIOD_PATTERN, examples=["2024-03"], json_schema_extra=FROM_EARLIEST)
]
METRIC_FIELDS = tuple(MetricItem.model_fields)
MAX_SERIES_MONTHS = 240


def _check_periods(**periods: str | None) -> None:
    """Months before the first a return may have are refused, not computed on."""
    problems = [
        field_error((name,), f"{value} is before {EARLIEST_PERIOD}")
        for name, value in periods.items()
        if value is not None and value < EARLIEST_PERIOD
    ]
    if problems:
        raise ValidationFailed("A month is out of range.", errors=problems)


def _csv(items: list[MetricItem], name: str) -> StreamingResponse:
    rows = (
        {**item.model_dump(), "missing_periods": " ".join(item.missing_periods)} for item in items
    )
    return StreamingResponse(
        csv_io.render(rows, fields=METRIC_FIELDS),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


@router.get("", operation_id="get_metrics", response_model=MetricPage, responses=ERRORS)
def get_metrics(
    session: SessionDep,
    principal: PrincipalDep,
    level: Level = "system",
    period: Annotated[
        str | None, Query(pattern=PERIOD_PATTERN, json_schema_extra=FROM_EARLIEST)
    ] = None,
    staff_group: str | None = None,
    code: Annotated[str | None, Query(description="one unit only")] = None,
) -> Any:
    """The measures of every unit of a level (or of `code`) in a month (default: the latest
    month in which every expected organisation returned), by staff group and for all
    groups (`staff_group` null); says how complete the month is, and which later month
    is partial."""
    _check_periods(period=period)
    service.check_staff_group(session, staff_group)
    status = service.data_status(session)
    period = period or status.latest_complete_period
    items = service.metrics(
        session,
        principal=principal,
        level=level,
        period=period,
        staff_group=staff_group,
        code=code,
    )
    return MetricPage(items=items, **service.page_fields(session, period=period, status=status))


@router.get(
    "/series",
    operation_id="get_metric_series",
    response_model=MetricPage,
    responses={
        200: {
            "description": "The unit's measures month by month, or with `format=csv` as CSV",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **ERRORS,
    },
)
def get_series(
    session: SessionDep,
    principal: PrincipalDep,
    from_: Annotated[
        str, Query(alias="from", pattern=PERIOD_PATTERN, json_schema_extra=FROM_EARLIEST)
    ],
    to: Period,
    level: Level = "system",
    code: str = service.SYSTEM_CODE,
    staff_group: str | None = None,
    format: Literal["json", "csv"] = "json",
) -> Any:
    """One unit's measures month by month from `from` to `to` (at most 240 months); a
    month without returns has null figures and a `coverage_note`, a partial month says
    so (`complete` false)."""
    _check_periods(**{"from": from_, "to": to})
    if to < from_:
        raise ValidationFailed(
            "`to` is before `from`.", errors=[field_error(("to",), "must not be before from")]
        )
    if month_index(to) - month_index(from_) >= MAX_SERIES_MONTHS:
        raise ValidationFailed(
            "At most 240 months.", errors=[field_error(("to",), "at most 240 months after from")]
        )
    service.check_staff_group(session, staff_group)
    items = service.series(
        session,
        principal=principal,
        level=level,
        code=code,
        staff_group=staff_group,
        first=from_,
        last=to,
    )
    if format == "csv":
        return _csv(items, f"metrics-{level}-{code}")
    return MetricPage(items=items, **service.page_fields(session, period=None))
