"""Browser pages for workforce leads under ``/ui/``: the system, places and organisations
against the targets, plans, and plans side by side. Not part of the HTTP contract, so
left out of the OpenAPI document."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from app.auth import Principal, Scope
from app.deps import SessionDep, SettingsDep
from app.errors import AppError, Forbidden, Unauthorised, ValidationFailed, from_pydantic
from app.metrics import service as metrics_service
from app.metrics.service import SYSTEM_CODE
from app.organisations import service as organisations_service
from app.plans import export, listing
from app.plans import service as plans_service
from app.plans.engines import PlanEngineDep
from app.plans.models import PlanState
from app.plans.schemas import PlanRead, PlanRequest
from app.plans.submission import one_plan, submit_plans
from app.returns import csv_io
from app.ui import views
from app.ui.security import (
    COOKIE_NAME,
    SecurityHeadersMiddleware,
    SignInRequired,
    UiPrincipal,
    clear_token_cookie,
    read_form,
    require_same_origin,
    safe_next,
    set_token_cookie,
    verify_token,
)
from seed.synthetic import SYNTHETIC_LABEL

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.globals["fmt"] = views.fmt
templates.env.globals["target_name"] = views.plan_target_name
templates.env.globals["target_fmt"] = views.plan_target_fmt
templates.env.globals["synthetic_label"] = SYNTHETIC_LABEL
MAX_COMPARED = 4
PLAN_WAIT_S = 5.0


class UiRoute(APIRoute):
    """Errors of a page become pages: sign-in for the signed-out, HTML for the rest."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired as signed_out:
                target = request.url.path
                if request.url.query:
                    target += "?" + request.url.query
                response = RedirectResponse(
                    f"/ui/sign-in?next={quote(target, safe='/')}", status_code=303
                )
                if signed_out.clear_cookie:
                    clear_token_cookie(response, request)
                return response
            except AppError as error:
                return error_page(request, error)
            except RequestValidationError as invalid:
                return error_page(
                    request,
                    ValidationFailed(
                        "The address is not one this page understands: "
                        + "; ".join(str(e.get("msg")) for e in invalid.errors())
                    ),
                )

        return page_handler


router = APIRouter(prefix="/ui", include_in_schema=False, route_class=UiRoute)


def install(app: FastAPI) -> None:
    """The pages, their assets (served here: nothing is fetched from elsewhere), and the
    security headers of every response under /ui."""
    app.include_router(router)
    app.mount("/ui/static", StaticFiles(directory=HERE / "static"), name="ui-static")
    app.add_middleware(SecurityHeadersMiddleware)


def render(
    request: Request,
    template: str,
    *,
    principal: Principal | None,
    status_code: int = 200,
    **context: Any,
) -> Response:
    charts = context.pop("charts", [])
    return templates.TemplateResponse(
        request,
        template,
        {
            "principal": principal,
            "nav": navigation(principal),
            "charts": charts,
            "chart_data": views.chart_json(charts),
            **context,
        },
        status_code=status_code,
    )


def navigation(principal: Principal | None) -> list[tuple[str, str]]:
    if principal is None:
        return []
    links = []
    if principal.has(Scope.READ):
        links.append(("/ui/", "Dashboard"))
    elif principal.organisation is not None:
        links.append((f"/ui/organisations/{principal.organisation}", principal.organisation))
    if principal.has(Scope.READ) or principal.has(Scope.PLANS_WRITE):
        links.append(("/ui/plans", "Plans"))
    return links


def error_page(request: Request, error: AppError) -> Response:
    principal = getattr(request.state, "principal", None)
    return render(
        request,
        "error.html",
        principal=principal,
        status_code=error.status,
        title=error.title,
        detail=error.detail,
        errors=error.errors or [],
    )


# Signing in and out --------------------------------------------------------------------


@router.get("/sign-in")
def sign_in_form(request: Request, next: str | None = None) -> Response:
    """The sign-in form: paste an API token."""
    return render(request, "sign_in.html", principal=None, next=safe_next(next), problem=None)


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    """Check the token as the API does, and keep it in an HttpOnly, SameSite=Strict cookie."""
    require_same_origin(request)
    form = await read_form(request)
    token = (form.get("token") or [""])[0].strip()
    target = safe_next((form.get("next") or [""])[0])
    try:
        if not token:
            raise Unauthorised("Paste a token.")
        await run_in_threadpool(verify_token, request, token)
    except Unauthorised:
        return render(
            request,
            "sign_in.html",
            principal=None,
            status_code=401,
            next=target,
            problem="That token is unknown or has been revoked.",
        )
    response = RedirectResponse(target, status_code=303)
    set_token_cookie(response, request, token)
    return response


@router.post("/sign-out")
def sign_out(request: Request) -> Response:
    """Forget the token: the cookie is cleared."""
    require_same_origin(request)
    response = RedirectResponse("/ui/sign-in", status_code=303)
    clear_token_cookie(response, request)
    return response


# The system, places and organisations --------------------------------------------------


@router.get("/")
def dashboard(request: Request, session: SessionDep, principal: UiPrincipal) -> Response:
    """The system, each place and each organisation against the targets."""
    if not principal.has(Scope.READ):
        if principal.organisation is not None:
            return RedirectResponse(f"/ui/organisations/{principal.organisation}", 303)
        if principal.has(Scope.PLANS_WRITE):
            return RedirectResponse("/ui/plans", 303)
        raise Forbidden("This token has neither the 'read' scope nor an organisation.")
    status = metrics_service.data_status(session)
    system = views.unit_view(
        session,
        principal=principal,
        level="system",
        code=SYSTEM_CODE,
        name="Hampshire and Isle of Wight",
        status=status,
    )
    names = views.organisation_names(session)
    rated = status.latest_complete_period
    places = views.status_rows(
        views.target_status(session, principal=principal, level="place", period=rated),
        {},
        by_unit=True,
    )
    organisations = views.status_rows(
        views.target_status(session, principal=principal, level="organisation", period=rated),
        names,
        by_unit=True,
    )
    return render(
        request,
        "dashboard.html",
        principal=principal,
        unit=system,
        charts=system.charts,
        place_rows=places,
        organisation_rows=organisations,
        synthetic=system.synthetic or any(r.synthetic for r in places + organisations),
    )


@router.get("/places/{place}")
def place_page(
    place: str, request: Request, session: SessionDep, principal: UiPrincipal
) -> Response:
    """A place against the targets, month by month, with its organisations."""
    status = metrics_service.data_status(session)
    unit = views.unit_view(
        session, principal=principal, level="place", code=place, name=place, status=status
    )
    names = views.organisation_names(session)
    members = {o.code for o in organisations_service.list_organisations(session, place=place)}
    organisations = views.status_rows(
        [
            item
            for item in views.target_status(
                session,
                principal=principal,
                level="organisation",
                period=status.latest_complete_period,
            )
            if item.code in members
        ],
        names,
        by_unit=True,
    )
    return render(
        request,
        "unit.html",
        principal=principal,
        unit=unit,
        charts=unit.charts,
        organisation_rows=organisations,
        synthetic=unit.synthetic,
    )


@router.get("/organisations/{code}")
def organisation_page(
    code: str, request: Request, session: SessionDep, principal: UiPrincipal
) -> Response:
    """An organisation against the targets, month by month."""
    principal.require_read_organisation(code)
    organisation = organisations_service.get_organisation(session, code=code)
    unit = views.unit_view(
        session, principal=principal, level="organisation", code=code, name=organisation.name
    )
    return render(
        request,
        "unit.html",
        principal=principal,
        unit=unit,
        charts=unit.charts,
        organisation_rows=[],
        place=organisation.place,
        place_link=principal.has(Scope.READ),
        synthetic=unit.synthetic,
    )


# Plans ---------------------------------------------------------------------------------

PLAN_FORM_NUMBERS = (
    "nursing_capacity_growth",
    "turnover_target",
    "min_fill_rate",
    "temporary_staffing_cap",
    "pipeline_factor",
    "travel_cost_per_wte_month",
    "time_limit_s",
)
PLAN_FORM_DEFAULTS = {"start": "2024-04", "months": "24"}


def _plans_page(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    form: dict[str, str] | None = None,
    problems: list[Any] | None = None,
    status_code: int = 200,
) -> Response:
    plans_service.require_plan_reader(principal)
    rows, total = listing.list_plans(session, limit=100, offset=0)
    return render(
        request,
        "plans.html",
        principal=principal,
        plans=[listing.to_summary(plan) for plan in rows],
        synthetic=any(plan.inputs.get("synthetic_data") for plan in rows),
        total=total,
        can_request=principal.has(Scope.PLANS_WRITE),
        form=form or dict(PLAN_FORM_DEFAULTS),
        problems=problems or [],
        status_code=status_code,
    )


@router.get("/plans")
def plans_page(request: Request, session: SessionDep, principal: UiPrincipal) -> Response:
    """Plans, newest first; pick two to four to compare, or request one."""
    return _plans_page(request, session, principal)


def plan_request_from_form(form: dict[str, list[str]]) -> tuple[dict[str, str], PlanRequest]:
    """The form's fields as a plan request; empty fields keep the model's defaults."""
    values = {key: (items[0] if items else "").strip() for key, items in form.items()}
    scenario: dict[str, Any] = {}
    advanced = values.get("scenario_json", "")
    if advanced:
        try:
            parsed = json.loads(advanced)
        except json.JSONDecodeError as error:
            raise ValidationFailed(f"The scenario JSON does not parse: {error.msg}.") from error
        if not isinstance(parsed, dict):
            raise ValidationFailed("The scenario JSON must be an object.")
        scenario.update(parsed)
    for key in PLAN_FORM_NUMBERS:
        if values.get(key):
            scenario[key] = values[key]
    agency = values.get("agency_reduction", "")
    if agency == "none":
        scenario["agency_reduction"] = None
    elif agency:
        scenario["agency_reduction"] = agency
    island = values.get("island_mainland_allowed", "")
    if island in ("yes", "no"):
        scenario["island_mainland_allowed"] = island == "yes"
    try:
        request = PlanRequest.model_validate(
            {
                "start": values.get("start", ""),
                "months": values.get("months", ""),
                "scenario": scenario,
                **({"label": values["label"]} if values.get("label") else {}),
            }
        )
    except ValidationError as error:
        raise ValidationFailed(
            "The plan request is not valid.", errors=from_pydantic(error.errors())
        ) from error
    return values, request


@router.post("/plans")
async def request_plan(
    request: Request,
    session: SessionDep,
    principal: UiPrincipal,
    engine: PlanEngineDep,
    settings: SettingsDep,
) -> Response:
    """Request a plan from the form, as POST /v1/plans would, and show it."""
    require_same_origin(request)
    principal.require(Scope.PLANS_WRITE)
    form = await read_form(request)
    values = {key: (items[0] if items else "") for key, items in form.items()}
    try:
        values, plan_request = plan_request_from_form(form)
        # Most plans solve in a second or two: show the finished plan rather than "queued".
        batch = await submit_plans(
            session,
            engine=engine,
            create=one_plan(plan_request, principal=principal, settings=settings),
            wait_s=PLAN_WAIT_S,
        )
    except ValidationFailed as invalid:
        return await run_in_threadpool(
            _plans_page,
            request,
            session,
            principal,
            form=values,
            problems=[invalid.detail, *[f"{e.field}: {e.message}" for e in invalid.errors or []]],
            status_code=422,
        )
    return RedirectResponse(f"/ui/plans/{batch.plan_ids[0]}", status_code=303)


def _plan(session: Session, principal: Principal, plan_id: str) -> PlanRead:
    plans_service.require_plan_reader(principal)
    return plans_service.to_read(plans_service.get_plan(session, plan_id=plan_id))


@router.get("/plans/{plan_id}")
def plan_page(
    plan_id: str, request: Request, session: SessionDep, principal: UiPrincipal
) -> Response:
    """A plan: trajectories against targets, bank allocation, cost, and pool prices."""
    plan = _plan(session, principal, plan_id)
    names = views.organisation_names(session)
    places = views.organisation_places(session)
    finished = plan.state == PlanState.FINISHED.value
    view = views.plan_view(session, plan)
    return render(
        request,
        "plan.html",
        principal=principal,
        plan=plan,
        view=view,
        finished=finished,
        pending=plan.state in (PlanState.QUEUED.value, PlanState.RUNNING.value),
        scenario=views.scenario_rows(plan),
        breakdowns=views.allocation_breakdowns(plan, names=names, places=places),
        charts=views.plan_charts(plan, view.brief, places=places) if plan.system else [],
        synthetic=plan.synthetic_data,
    )


@router.get("/plans/{plan_id}/allocations.csv")
def plan_allocations_csv(plan_id: str, session: SessionDep, principal: UiPrincipal) -> Response:
    """The plan's allocation rows as CSV, for the signed-in browser."""
    plans_service.require_plan_reader(principal)
    rows = plans_service.allocation_rows(plans_service.get_plan(session, plan_id=plan_id))
    body = "".join(csv_io.render(rows, fields=plans_service.ALLOCATION_FIELDS))
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="plan-{plan_id}-allocations.csv"'},
    )


@router.get("/plans/{plan_id}/workbook.xlsx")
def plan_workbook(plan_id: str, session: SessionDep, principal: UiPrincipal) -> Response:
    """The plan as an Excel workbook, for the signed-in browser."""
    plans_service.require_plan_reader(principal)
    return Response(
        export.plan_workbook(session, plans_service.get_plan(session, plan_id=plan_id)),
        media_type=export.XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="plan-{plan_id}.xlsx"'},
    )


@router.get("/compare")
def compare_page(
    request: Request,
    session: SessionDep,
    principal: UiPrincipal,
    plan: Annotated[list[str] | None, Query()] = None,
) -> Response:
    """Two to four plans side by side, and what differs in their scenarios."""
    plans_service.require_plan_reader(principal)
    ids = list(dict.fromkeys(plan or []))
    if not 2 <= len(ids) <= MAX_COMPARED:
        raise ValidationFailed(
            f"Pick two to four plans to compare ({len(ids)} picked); tick them on the plans page."
        )
    plans = [_plan(session, principal, plan_id) for plan_id in ids]
    differ, same = views.scenario_differences(plans)
    briefs = views.plan_briefs(session, plans)
    names = views.organisation_names(session)
    places = views.organisation_places(session)
    by_place = [
        {
            row.key: row
            for row in views.allocation_breakdowns(p, names=names, places=places)["place"]
        }
        for p in plans
    ]
    return render(
        request,
        "compare.html",
        principal=principal,
        plans=plans,
        differ=differ,
        same=same,
        places=sorted({place for breakdown in by_place for place in breakdown}),
        by_place=by_place,
        briefs=briefs,
        costs=views.comparison_rows(briefs),
        charts=views.comparison_charts(plans, briefs),
        synthetic=any(p.synthetic_data for p in plans),
    )


__all__ = ["COOKIE_NAME", "install", "router"]
