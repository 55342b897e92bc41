"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import text

from app.auth import SystemReaderDep
from app.config import ROOT
from app.errors import Forbidden, Unauthorised, problem_responses

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    database: str
    schema_revision: str | None
    expected_revision: str


@lru_cache
def expected_revision() -> str:
    config = Config(str(Path(ROOT) / "alembic.ini"))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


@router.get("/healthz", operation_id="healthz")
def healthz() -> Health:
    """The process is up."""
    return Health(status="ok")


@router.get(
    "/readyz",
    operation_id="readyz",
    responses={503: {"model": Readiness, "description": "Not ready"}},
)
def readyz(request: Request) -> JSONResponse:
    """The database answers and its schema is at the latest migration."""
    expected = expected_revision()
    try:
        with request.app.state.engine.connect() as connection:
            current = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
            connection.rollback()
    except Exception as error:
        body = Readiness(
            status="unavailable",
            database=f"unreachable or not migrated: {type(error).__name__}",
            schema_revision=None,
            expected_revision=expected,
        )
        return JSONResponse(body.model_dump(), status_code=503)
    ready = current == expected
    body = Readiness(
        status="ready" if ready else "unavailable",
        database="ok",
        schema_revision=current,
        expected_revision=expected,
    )
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


@router.get(
    "/metrics",
    operation_id="metrics",
    response_class=PlainTextResponse,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}}},
        **problem_responses(Unauthorised, Forbidden),
    },
)
def metrics(request: Request, _reader: SystemReaderDep) -> PlainTextResponse:
    """Request counts and latencies, returns accepted and refused, plan solve times."""
    return PlainTextResponse(
        generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST
    )
