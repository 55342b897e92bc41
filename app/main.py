"""The ASGI app: ``app.main:app``."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi_offline import FastAPIOffline
from sqlalchemy import exc as sql_errors
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import health
from app.admission import (
    AdmissionLimit,
    capacity,
    document_unavailable,
    engine_options,
    size_thread_pool,
)
from app.bank.router import router as bank_router
from app.conditional import MeasureCache, document_conditional
from app.config import Settings, get_settings
from app.db import make_engine, make_sessionmaker, session_scope, unavailable
from app.errors import (
    PROBLEM_MEDIA_TYPE,
    AppError,
    BadRequest,
    MethodNotAllowed,
    NotFound,
    Problem,
    ValidationFailed,
    document_problems,
    from_pydantic,
)
from app.inputs import JsonDepthLimit, document_text_parameters, refuse_control_characters
from app.metrics.router import router as metrics_router
from app.observability import Metrics, ObservabilityMiddleware, configure_logging
from app.organisations.router import router as organisations_router
from app.plans.engines import make_plan_engine
from app.plans.observe import observe_solve_times
from app.plans.router import router as plans_router
from app.plans.sweeps_router import router as sweeps_router
from app.returns.router import EXTRA_SCHEMAS
from app.returns.router import router as returns_router
from app.targets.router import router as targets_router
from app.tokens.router import router as tokens_router
from app.tokens.service import ensure_environment_admin
from app.ui.router import install as install_ui

log = logging.getLogger("app")
DOCS_ASSETS = "/docs-assets"

DESCRIPTION = """Workforce planning for the Hampshire and Isle of Wight integrated care system.

HR systems post monthly workforce returns; workforce leads read the measures and ask for
allocation plans of the system-wide staff bank. Authenticate with `Authorization: Bearer <token>`.
"""


def problem_response(error: AppError, request: Request) -> JSONResponse:
    return JSONResponse(
        error.problem(instance=request.url.path).model_dump(mode="json", exclude_none=True),
        status_code=error.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=error.headers,
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(request: Request, error: AppError) -> JSONResponse:
        return problem_response(error, request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, error: RequestValidationError) -> JSONResponse:
        raw = list(error.errors())
        if any(e.get("type") == "json_invalid" for e in raw):
            return problem_response(BadRequest("The body is not valid JSON."), request)
        # FastAPI's locations start with where the value came from: body, query, path, header.
        errors = [
            {
                **e,
                "loc": tuple(e.get("loc", ()))[1:]
                if e.get("loc", ("",))[0] == "body"
                else e.get("loc", ()),
            }
            for e in raw
        ]
        fields = from_pydantic(errors)
        return problem_response(
            ValidationFailed(f"{len(fields)} problem(s) in the request.", errors=fields), request
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 404:
            return problem_response(NotFound(f"No route {request.url.path}."), request)
        if error.status_code == 405:
            allowed = allowed_methods(request)
            return problem_response(
                MethodNotAllowed(
                    f"{request.method} is not allowed here; allowed: {', '.join(allowed)}.",
                    headers={"Allow": ", ".join(allowed)},
                ),
                request,
            )
        problem = Problem(
            type="about:blank",
            title=str(error.detail),
            status=error.status_code,
            detail=str(error.detail),
            instance=request.url.path,
        )
        return JSONResponse(
            problem.model_dump(exclude_none=True),
            status_code=error.status_code,
            media_type=PROBLEM_MEDIA_TYPE,
            headers=getattr(error, "headers", None),
        )

    @app.exception_handler(sql_errors.DBAPIError)
    @app.exception_handler(sql_errors.TimeoutError)
    async def _database(request: Request, error: Exception) -> JSONResponse:
        return problem_response(problem_for(error, request.url.path), request)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        return problem_response(problem_for(error, request.url.path), request)


def problem_for(error: BaseException, path: str) -> AppError:
    """503 when the database cannot serve now; else a logged 500."""
    busy = unavailable(error)
    if busy is not None:
        log.warning(
            "database unavailable",
            extra={"fields": {"path": path, "error": type(error).__name__}},
        )
        return busy
    log.error("unhandled error", exc_info=error, extra={"fields": {"path": path}})
    return AppError("An unexpected error; nothing was stored.")


def _leaf_routes(routes: list[Any]) -> Iterator[Any]:
    """The app's routes, those of included routers in their place."""
    for route in routes:
        nested = getattr(route, "original_router", None)
        if nested is not None:
            yield from _leaf_routes(nested.routes)
        else:
            yield route


def allowed_methods(request: Request) -> list[str]:
    """The methods of the path the request names: of every route with the same template as
    the first route whose template matches (Starlette's 405 names that route's only)."""
    path = request.url.path
    leaves = [r for r in _leaf_routes(request.app.router.routes) if hasattr(r, "path_regex")]
    template = next((r.path for r in leaves if r.path_regex.match(path)), None)
    methods: set[str] = set()
    for route in leaves:
        if route.path == template:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods - {"HEAD"})


def _literal_paths(app: Any) -> dict[str, list[str]]:
    """The app's parameterless paths and their methods, worked out once."""
    found: dict[str, list[str]] | None = getattr(app.state, "literal_paths", None)
    if found is None:
        methods: dict[str, set[str]] = {}
        for route in _leaf_routes(app.router.routes):
            if "{" not in getattr(route, "path", "{") and getattr(route, "methods", None):
                methods.setdefault(route.path, set()).update(route.methods)
        found = {path: sorted(m - {"HEAD"}) for path, m in methods.items()}
        app.state.literal_paths = found
    return found


def refuse_shadowed_methods(request: Request) -> None:
    """``PUT /v1/targets/status`` names the status resource, which has no PUT: answer 405
    rather than let ``PUT /v1/targets/{code}`` take "status" for a target's code."""
    path = request.url.path
    allowed = _literal_paths(request.app).get(path)
    route = request.scope.get("route")
    if allowed is not None and getattr(route, "path", path) != path:
        raise MethodNotAllowed(
            f"{request.method} is not allowed here; allowed: {', '.join(allowed)}.",
            headers={"Allow": ", ".join(allowed)},
        )


class ContainErrors:
    """Answer an unhandled error with a problem and keep the connection.

    Starlette answers it too, but then raises it on to the server, which closes the
    client's keep-alive connection; here it stops. An error after the response has begun
    still goes on (the response is broken and the connection must close).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as error:
            if started:
                raise
            problem = problem_for(error, scope["path"])
            body = problem.problem(instance=scope["path"]).model_dump_json(exclude_none=True)
            response = Response(body, status_code=problem.status, media_type=PROBLEM_MEDIA_TYPE)
            response.headers.update(problem.headers)
            await response(scope, receive, send)


def settle_heap() -> None:
    """Move the objects made at start-up (modules, models, the ORM's registries) out of
    the garbage collector's sight: a large response allocates enough to trigger full
    collections, which would otherwise scan them all each time (on an organisation-level
    metrics page of 10,000 items, about a third of its time)."""
    gc.collect()
    gc.freeze()


def _plan_source(app: FastAPI) -> tuple[sessionmaker[Session], str] | None:
    """The sessions and the plan engine's identity, once the app has started."""
    engine = getattr(app.state, "plan_engine", None)
    if engine is None:
        return None
    return app.state.sessionmaker, engine.identity


def install_middleware(app: FastAPI, settings: Settings) -> None:
    """The middleware, innermost first: each add_middleware wraps what was added before."""
    app.add_middleware(ContainErrors)
    app.add_middleware(MeasureCache, max_bytes=settings.measure_cache_mb * 1024 * 1024)
    app.add_middleware(
        AdmissionLimit,
        limit=capacity(settings).requests,
        queue=settings.max_queued_requests,
        wait_s=settings.request_queue_timeout_s,
    )
    # Inside the size limit below: a JSON body is bounded in size, then in depth.
    app.add_middleware(JsonDepthLimit)
    app.add_middleware(
        ObservabilityMiddleware,
        metrics=app.state.metrics,
        max_body_bytes=settings.max_body_bytes,
        log=settings.log_requests,
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        size_thread_pool(settings)
        engine = make_engine(settings.database_url, **engine_options(settings))
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        if settings.admin_token is not None:
            try:
                for session in session_scope(app.state.sessionmaker):
                    ensure_environment_admin(
                        session, value=settings.admin_token.get_secret_value(), settings=settings
                    )
            except Exception:
                log.exception("could not install WORKFORCE_ADMIN_TOKEN; is the database migrated?")
        plan_engine = make_plan_engine(settings, sessions=app.state.sessionmaker)
        app.state.plan_engine = plan_engine
        try:
            plan_engine.recover()
        except Exception:
            log.exception("could not recover plans; is the database migrated?")
        if settings.plan_prewarm:
            plan_engine.prewarm()
        settle_heap()
        try:
            yield
        finally:
            plan_engine.shutdown()
            engine.dispose()

    # /docs and /redoc from Swagger UI's and ReDoc's files shipped in fastapi-offline,
    # served here: the docs work with no network, as the pages do.
    app = FastAPIOffline(
        title="HIOW workforce planning",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        static_url=DOCS_ASSETS,
        # Before any handler: no method that a parameterless path lacks (405), no control
        # characters in any text (422, naming the field).
        dependencies=[Depends(refuse_shadowed_methods), Depends(refuse_control_characters)],
    )
    app.state.settings = settings
    app.state.metrics = Metrics()
    observe_solve_times(app.state.metrics, source=lambda: _plan_source(app))
    install_error_handlers(app)
    install_middleware(app, settings)
    app.include_router(health.router)
    app.include_router(organisations_router)
    app.include_router(tokens_router)
    app.include_router(returns_router)
    app.include_router(bank_router)
    # Before the plans' routes, so that /v1/plans/sweeps is not read as a plan's id.
    app.include_router(sweeps_router)
    app.include_router(plans_router)
    app.include_router(metrics_router)
    app.include_router(targets_router)
    install_ui(app)

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        """The service's front door: the pages."""
        return RedirectResponse("/ui/", status_code=307)

    install_openapi(app)
    return app


def install_openapi(app: FastAPI) -> None:
    """The OpenAPI document, with the schemas that routes take as raw bodies."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for model in EXTRA_SCHEMAS:
                model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
                components.update(model_schema.pop("$defs", {}))
                components[model.__name__] = model_schema
            document_unavailable(schema)
            document_conditional(schema)
            app.openapi_schema = document_problems(document_text_parameters(schema))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


app = create_app()
