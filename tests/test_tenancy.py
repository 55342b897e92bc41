"""Who may do what: every endpoint, walked with every kind of token.

The routes come from the app itself, so an endpoint added without an entry in ``TABLE``
fails ``test_every_route_is_in_the_table``. A token bound to RHM must never read RHU's
data nor anything of the whole system; system-wide scopes cannot be bound at all.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from alembic import command
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from app.tokens.models import ApiToken
from app.ui.security import COOKIE_NAME
from tests import test_migrations
from tests.conftest import ROOT, TokenFactory, alembic_config, bearer, line

KINDS = ("none", "read", "read@RHM", "returns:write@RHM", "plans:write", "admin")


def expect(*codes: str) -> dict[str, str]:
    """The answers of ``KINDS`` in order: "2xx", "3xx" or an exact status."""
    assert len(codes) == len(KINDS)
    return dict(zip(KINDS, codes, strict=True))


# What each kind of token may do. Columns: none, read, read@RHM, returns:write@RHM,
# plans:write, admin.
EVERYONE = expect("2xx", "2xx", "2xx", "2xx", "2xx", "2xx")
ANY_TOKEN = expect("401", "2xx", "2xx", "2xx", "2xx", "2xx")
REFERENCE = expect("401", "2xx", "2xx", "403", "403", "2xx")
ADMIN_ONLY = expect("401", "403", "403", "403", "403", "2xx")
SYSTEM_READ = expect("401", "2xx", "403", "403", "403", "2xx")
OWN_ORGANISATION = expect("401", "2xx", "2xx", "2xx", "403", "2xx")
OTHER_ORGANISATION = expect("401", "2xx", "403", "403", "403", "2xx")
PLAN_READ = expect("401", "2xx", "403", "403", "2xx", "2xx")
PLAN_WRITE = expect("401", "403", "403", "403", "2xx", "403")
RHM_WRITER = expect("401", "403", "403", "2xx", "403", "403")
NOBODY_WRITES_RHU = expect("401", "403", "403", "403", "403", "403")
# The browser: no cookie sends to the sign-in page; a bound token's dashboard is its
# organisation's page, a planner's the plans page.
UI_DASHBOARD = expect("3xx", "2xx", "3xx", "3xx", "3xx", "2xx")
UI_SYSTEM_READ = expect("3xx", "2xx", "403", "403", "403", "2xx")
UI_OWN_ORGANISATION = expect("3xx", "2xx", "2xx", "2xx", "403", "2xx")
UI_OTHER_ORGANISATION = expect("3xx", "2xx", "403", "403", "403", "2xx")
UI_PLAN_READ = expect("3xx", "2xx", "403", "403", "2xx", "2xx")
UI_PLAN_WRITE = expect("3xx", "403", "403", "403", "3xx", "403")
# The front door leads everyone to the pages, which then ask for a token.
TO_THE_PAGES = expect("3xx", "3xx", "3xx", "3xx", "3xx", "3xx")


@dataclass(frozen=True)
class Call:
    method: str
    route: str  # the route's path template, as the app declares it
    url: str  # with its parameters filled in (``{plan}``, ``{sweep}``, ``{token}``)
    expected: dict[str, str]
    json: Any = None
    form: dict[str, str] | None = None
    headers: dict[str, str] = field(default_factory=dict)


RETURN = {"lines": [line()]}
PLAN = {"start": "2024-03", "months": 1}
ASYNC = {"Prefer": "respond-async"}
SAME_ORIGIN = {"Origin": "http://testserver"}

TABLE: tuple[Call, ...] = (
    Call("GET", "/healthz", "/healthz", EVERYONE),
    Call("GET", "/readyz", "/readyz", EVERYONE),
    Call("GET", "/metrics", "/metrics", SYSTEM_READ),
    Call("GET", "/openapi.json", "/openapi.json", EVERYONE),
    Call("GET", "/docs", "/docs", EVERYONE),
    Call("GET", "/docs/oauth2-redirect", "/docs/oauth2-redirect", EVERYONE),
    Call("GET", "/redoc", "/redoc", EVERYONE),
    Call("GET", "/", "/", TO_THE_PAGES),
    # Reference data.
    Call("GET", "/v1/staff-groups", "/v1/staff-groups", ANY_TOKEN),
    Call("GET", "/v1/organisations", "/v1/organisations?place=Portsmouth", ANY_TOKEN),
    Call("GET", "/v1/organisations/{code}", "/v1/organisations/RHU", ANY_TOKEN),
    Call(
        "POST",
        "/v1/organisations",
        "/v1/organisations",
        ADMIN_ONLY,
        json={"code": "TST", "name": "Test", "kind": "acute", "place": "Southampton"},
    ),
    Call("PATCH", "/v1/organisations/{code}", "/v1/organisations/RHU", ADMIN_ONLY, json={}),
    Call("GET", "/v1/bank/pools", "/v1/bank/pools", REFERENCE),
    Call("GET", "/v1/bank/pools/{code}", "/v1/bank/pools/T-NURSE", REFERENCE),
    Call(
        "POST",
        "/v1/bank/pools",
        "/v1/bank/pools",
        ADMIN_ONLY,
        json={
            "code": "T-OTHER",
            "name": "Another",
            "home_place": "Portsmouth",
            "covers": ["NURSE"],
            "cost_per_wte_month": 100,
            "capacity_wte": 1,
        },
    ),
    Call(
        "PATCH",
        "/v1/bank/pools/{code}",
        "/v1/bank/pools/T-NURSE",
        ADMIN_ONLY,
        json={"name": "Renamed"},
    ),
    Call(
        "PUT",
        "/v1/bank/pools/{code}/capacity",
        "/v1/bank/pools/T-NURSE/capacity",
        ADMIN_ONLY,
        json={"2024-03": 12},
    ),
    Call("GET", "/v1/targets", "/v1/targets", REFERENCE),
    Call(
        "PUT",
        "/v1/targets/{code}",
        "/v1/targets/turnover_rate",
        ADMIN_ONLY,
        json={
            "name": "Turnover",
            "value": 0.12,
            "baseline_period": "2019-03",
            "target_period": "2024-03",
        },
    ),
    Call("GET", "/v1/targets/status", "/v1/targets/status?level=system", SYSTEM_READ),
    Call("GET", "/v1/targets/status", "/v1/targets/status?level=place", SYSTEM_READ),
    Call("GET", "/v1/targets/status", "/v1/targets/status?level=organisation", OWN_ORGANISATION),
    # Tokens.
    Call("GET", "/v1/tokens", "/v1/tokens", ADMIN_ONLY),
    Call(
        "POST",
        "/v1/tokens",
        "/v1/tokens",
        ADMIN_ONLY,
        json={"name": "feed", "scopes": ["returns:write"], "organisation": "RHU"},
    ),
    Call("DELETE", "/v1/tokens/{token_id}", "/v1/tokens/{token}", ADMIN_ONLY),
    # Returns: RHM's own, and RHU's.
    Call(
        "PUT",
        "/v1/organisations/{code}/returns/{period}",
        "/v1/organisations/RHM/returns/2024-04",
        RHM_WRITER,
        json=RETURN,
    ),
    Call(
        "PUT",
        "/v1/organisations/{code}/returns/{period}",
        "/v1/organisations/RHU/returns/2024-04",
        NOBODY_WRITES_RHU,
        json=RETURN,
    ),
    Call(
        "GET",
        "/v1/organisations/{code}/returns/{period}",
        "/v1/organisations/RHM/returns/2024-03",
        OWN_ORGANISATION,
    ),
    Call(
        "GET",
        "/v1/organisations/{code}/returns/{period}",
        "/v1/organisations/RHU/returns/2024-03",
        OTHER_ORGANISATION,
    ),
    Call(
        "GET",
        "/v1/organisations/{code}/returns/{period}/revisions",
        "/v1/organisations/RHM/returns/2024-03/revisions",
        OWN_ORGANISATION,
    ),
    Call(
        "GET",
        "/v1/organisations/{code}/returns/{period}/revisions",
        "/v1/organisations/RHU/returns/2024-03/revisions",
        OTHER_ORGANISATION,
    ),
    Call(
        "GET",
        "/v1/organisations/{code}/returns/{period}/revisions/{revision}",
        "/v1/organisations/RHM/returns/2024-03/revisions/1",
        OWN_ORGANISATION,
    ),
    Call(
        "GET",
        "/v1/organisations/{code}/returns/{period}/revisions/{revision}",
        "/v1/organisations/RHU/returns/2024-03/revisions/1",
        OTHER_ORGANISATION,
    ),
    Call("GET", "/v1/returns", "/v1/returns", OWN_ORGANISATION),
    Call("GET", "/v1/returns", "/v1/returns?format=csv", OWN_ORGANISATION),
    Call("GET", "/v1/returns", "/v1/returns?organisation=RHM", OWN_ORGANISATION),
    Call("GET", "/v1/returns", "/v1/returns?organisation=RHU", OTHER_ORGANISATION),
    Call("GET", "/v1/returns", "/v1/returns?organisation=RHU&format=csv", OTHER_ORGANISATION),
    # Metrics: the system and places are everyone's; a bound token sees its own only.
    Call("GET", "/v1/metrics", "/v1/metrics", SYSTEM_READ),
    Call("GET", "/v1/metrics", "/v1/metrics?level=place", SYSTEM_READ),
    Call("GET", "/v1/metrics", "/v1/metrics?level=organisation", OWN_ORGANISATION),
    Call("GET", "/v1/metrics", "/v1/metrics?level=organisation&code=RHM", OWN_ORGANISATION),
    Call("GET", "/v1/metrics", "/v1/metrics?level=organisation&code=RHU", OTHER_ORGANISATION),
    Call("GET", "/v1/metrics/series", "/v1/metrics/series?from=2024-02&to=2024-03", SYSTEM_READ),
    Call(
        "GET",
        "/v1/metrics/series",
        "/v1/metrics/series?from=2024-02&to=2024-03&level=place&code=Southampton",
        SYSTEM_READ,
    ),
    Call(
        "GET",
        "/v1/metrics/series",
        "/v1/metrics/series?from=2024-02&to=2024-03&level=organisation&code=RHM",
        OWN_ORGANISATION,
    ),
    Call(
        "GET",
        "/v1/metrics/series",
        "/v1/metrics/series?from=2024-02&to=2024-03&level=organisation&code=RHU&format=csv",
        OTHER_ORGANISATION,
    ),
    # Plans: system-wide, never for a bound token.
    Call("POST", "/v1/plans", "/v1/plans", PLAN_WRITE, json=PLAN, headers=ASYNC),
    Call("GET", "/v1/plans", "/v1/plans", PLAN_READ),
    Call("GET", "/v1/plans/{plan_id}", "/v1/plans/{plan}", PLAN_READ),
    Call("GET", "/v1/plans/{plan_id}/allocations", "/v1/plans/{plan}/allocations", PLAN_READ),
    Call(
        "GET",
        "/v1/plans/{plan_id}/allocations",
        "/v1/plans/{plan}/allocations?format=csv",
        PLAN_READ,
    ),
    Call("GET", "/v1/plans/{plan_id}/inputs", "/v1/plans/{plan}/inputs", PLAN_READ),
    Call("GET", "/v1/plans/{plan_id}/workbook", "/v1/plans/{plan}/workbook", PLAN_READ),
    Call("GET", "/v1/plans/{plan_id}/model.lp", "/v1/plans/{plan}/model.lp", PLAN_READ),
    Call(
        "POST",
        "/v1/plans/sweeps",
        "/v1/plans/sweeps",
        PLAN_WRITE,
        json={"base": PLAN, "grid": {"agency_reduction": [0.1]}},
    ),
    Call("GET", "/v1/plans/sweeps", "/v1/plans/sweeps", PLAN_READ),
    Call("GET", "/v1/plans/sweeps/{sweep_id}", "/v1/plans/sweeps/{sweep}", PLAN_READ),
    # The browser's pages, signed in by cookie.
    Call("GET", "/ui/sign-in", "/ui/sign-in", EVERYONE),
    Call("GET", "/ui/", "/ui/", UI_DASHBOARD),
    Call("GET", "/ui/places/{place}", "/ui/places/Southampton", UI_SYSTEM_READ),
    Call("GET", "/ui/organisations/{code}", "/ui/organisations/RHM", UI_OWN_ORGANISATION),
    Call("GET", "/ui/organisations/{code}", "/ui/organisations/RHU", UI_OTHER_ORGANISATION),
    Call("GET", "/ui/plans", "/ui/plans", UI_PLAN_READ),
    Call(
        "POST",
        "/ui/plans",
        "/ui/plans",
        UI_PLAN_WRITE,
        form={"start": "2024-03", "months": "1"},
        headers=SAME_ORIGIN,
    ),
    Call("GET", "/ui/plans/{plan_id}", "/ui/plans/{plan}", UI_PLAN_READ),
    Call(
        "GET",
        "/ui/plans/{plan_id}/allocations.csv",
        "/ui/plans/{plan}/allocations.csv",
        UI_PLAN_READ,
    ),
    Call(
        "GET", "/ui/plans/{plan_id}/workbook.xlsx", "/ui/plans/{plan}/workbook.xlsx", UI_PLAN_READ
    ),
    Call("GET", "/ui/compare", "/ui/compare?plan={plan}&plan={plan2}", UI_PLAN_READ),
    # Signing in with any valid token works (the pages then decide); it reads no data.
    Call(
        "POST",
        "/ui/sign-in",
        "/ui/sign-in",
        expect("401", "3xx", "3xx", "3xx", "3xx", "3xx"),
        headers=SAME_ORIGIN,
    ),
    Call("POST", "/ui/sign-out", "/ui/sign-out", expect(*["3xx"] * 6), headers=SAME_ORIGIN),
)


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path template) the app answers, through included routers too."""
    found: set[tuple[str, str]] = set()

    def walk(routes: Any, prefix: str) -> None:
        for route in routes:
            nested = getattr(route, "original_router", None)
            if nested is not None:  # FastAPI's included router
                walk(nested.routes, prefix + route.include_context.prefix)
            elif getattr(route, "methods", None):
                found.update((m, prefix + route.path) for m in route.methods if m != "HEAD")
            elif hasattr(route, "routes") and not hasattr(route, "app_path"):
                walk(route.routes, prefix + getattr(route, "path", ""))

    walk(app.routes, "")
    return found


def test_every_route_is_in_the_table(app: FastAPI) -> None:
    routes = app_routes(app)
    assert len(routes) > 40
    listed = {(call.method, call.route) for call in TABLE}
    assert routes - listed == set(), "routes with no entry in TABLE"
    assert listed - routes == set(), "entries in TABLE for no route"


@pytest.fixture
def tokens(make_token: TokenFactory) -> dict[str, str | None]:
    return {
        "none": None,
        "read": make_token("read", name="reader"),
        "read@RHM": make_token("read", organisation="RHM", name="RHM reader"),
        "returns:write@RHM": make_token("returns:write", organisation="RHM", name="RHM feed"),
        "plans:write": make_token("plans:write", name="planner"),
        "admin": make_token("admin", name="admin"),
    }


@pytest.fixture
def system(
    client: TestClient, make_token: TokenFactory, tokens: dict[str, str | None]
) -> dict[str, str]:
    """RHM and RHU with returns for two months, a nursing pool, two plans and a sweep;
    the values that fill the table's URLs."""
    writers = {org: bearer(make_token("returns:write", organisation=org)) for org in ("RHM", "RHU")}
    for org, headers in writers.items():
        for period in ("2024-02", "2024-03"):
            response = client.put(
                f"/v1/organisations/{org}/returns/{period}", json=RETURN, headers=headers
            )
            assert response.status_code == 201, response.text
    admin = bearer(str(tokens["admin"]))
    pool = {
        "code": "T-NURSE",
        "name": "Test nursing bank",
        "home_place": "Southampton",
        "covers": ["NURSE"],
        "cost_per_wte_month": 100,
        "capacity_wte": 12,
    }
    assert client.post("/v1/bank/pools", json=pool, headers=admin).status_code == 201
    planner = bearer(make_token("plans:write", "read"))
    plans = [client.post("/v1/plans", json=PLAN, headers=planner) for _ in range(2)]
    assert [p.status_code for p in plans] == [201, 201], [p.text for p in plans]
    sweep = client.post(
        "/v1/plans/sweeps", json={"base": PLAN, "grid": {"agency_reduction": [0]}}, headers=planner
    )
    assert sweep.status_code == 202, sweep.text
    return {
        "plan": plans[0].json()["id"],
        "plan2": plans[1].json()["id"],
        "sweep": sweep.json()["id"],
    }


def _status_class(status: int) -> str:
    return f"{status // 100}xx" if status < 400 else str(status)


def call(
    client: TestClient, entry: Call, token: str | None, values: dict[str, str]
) -> tuple[int, str]:
    url = entry.url.format(**values)
    headers = dict(entry.headers)
    client.cookies.clear()
    if entry.route.startswith("/ui/"):
        if token is not None:
            client.cookies.set(COOKIE_NAME, token, path="/ui")
    elif token is not None:
        headers.update(bearer(token))
    form = entry.form
    if entry.route == "/ui/sign-in" and entry.method == "POST":
        form = {"token": token or ""}
    response = client.request(
        entry.method,
        url,
        json=entry.json,
        data=form,
        headers=headers,
        follow_redirects=False,
    )
    return response.status_code, response.text


def test_each_kind_of_token_may_do_what_the_table_says(
    client: TestClient,
    make_token: TokenFactory,
    tokens: dict[str, str | None],
    system: dict[str, str],
) -> None:
    differences = []
    for entry in TABLE:
        for kind in KINDS:
            values = dict(system)
            if "{token}" in entry.url:
                values["token"] = _throwaway_token_id(client, tokens)
            status, body = call(client, entry, tokens[kind], values)
            expected = entry.expected[kind]
            if _status_class(status) != expected:
                differences.append(
                    f"{entry.method} {entry.url} as {kind}: {status}, expected {expected}: "
                    f"{body[:160]}"
                )
    assert differences == [], "\n".join(differences)


def _throwaway_token_id(client: TestClient, tokens: dict[str, str | None]) -> str:
    created = client.post(
        "/v1/tokens",
        json={"name": "to revoke", "scopes": ["read"]},
        headers=bearer(str(tokens["admin"])),
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


Headers = Callable[[str], dict[str, str]]


def test_a_bound_token_lists_its_own_organisation_only(
    client: TestClient, tokens: dict[str, str | None], system: dict[str, str]
) -> None:
    for kind in ("read@RHM", "returns:write@RHM"):
        headers = bearer(str(tokens[kind]))
        listed = client.get("/v1/returns", headers=headers).json()
        assert {item["organisation"] for item in listed["items"]} == {"RHM"}, kind
        exported = client.get("/v1/returns?format=csv", headers=headers).text.splitlines()
        assert len(exported) == 3
        assert all(row.startswith("RHM,") for row in exported[1:])
        metrics = client.get("/v1/metrics?level=organisation", headers=headers).json()
        assert {item["code"] for item in metrics["items"]} == {"RHM"}, kind
        status = client.get("/v1/targets/status?level=organisation", headers=headers).json()
        assert {item["code"] for item in status["items"]} == {"RHM"}, kind
        inputs = client.get(f"/v1/plans/{system['plan']}/inputs", headers=headers)
        assert inputs.status_code == 403
        assert "bound to organisation RHM" in inputs.json()["detail"]
        other = client.get("/v1/organisations/RHU/returns/2024-03", headers=headers)
        assert other.status_code == 403
        assert "RHU" in other.json()["detail"]
    # An unbound reader sees both.
    everyone = client.get("/v1/returns", headers=bearer(str(tokens["read"]))).json()
    assert {item["organisation"] for item in everyone["items"]} == {"RHM", "RHU"}


@pytest.mark.parametrize("scopes", [["admin"], ["plans:write"], ["read", "admin"]])
def test_system_wide_scopes_cannot_be_bound(
    client: TestClient, tokens: dict[str, str | None], scopes: list[str]
) -> None:
    response = client.post(
        "/v1/tokens",
        json={"name": "bound", "scopes": scopes, "organisation": "RHM"},
        headers=bearer(str(tokens["admin"])),
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "only returns:write and read" in response.text
    listed = client.get("/v1/tokens", headers=bearer(str(tokens["admin"]))).json()
    assert not [t for t in listed if t["name"] == "bound"]


def test_the_command_line_refuses_to_bind_system_wide_scopes(
    database_url: str, engine: object
) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "app",
            "token",
            "create",
            "--name",
            "bound admin",
            "--scopes",
            "admin,read",
            "--organisation",
            "RHM",
        ],
        cwd=ROOT,
        env={"DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0, result.stdout
    assert "only returns:write and read" in result.stderr
    assert "wf_" not in result.stdout


# --- the migration ------------------------------------------------------------------

# An empty database of the suite's kind, to run the migrations step by step on.
scratch_url = test_migrations.scratch_url


def test_the_migration_strips_system_wide_scopes_from_bound_tokens(scratch_url: str) -> None:
    """Bound tokens keep returns:write and read and lose admin and plans:write; one left
    with nothing is revoked; unbound tokens are untouched."""
    config = alembic_config(scratch_url)
    command.upgrade(config, "0007")
    engine = create_engine(scratch_url)
    rows = {
        "feed": ("admin returns:write", "RHM"),
        "reader": ("plans:write read", "RHM"),
        "bound admin": ("admin", "RHU"),
        "system": ("admin plans:write read", None),
    }
    with engine.begin() as connection:
        for code, place in (("RHM", "Southampton"), ("RHU", "Portsmouth")):
            connection.execute(
                text(
                    "INSERT INTO organisations (code, name, kind, place, created_at, updated_at) "
                    "VALUES (:code, :code, 'acute', :place, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"code": code, "place": place},
            )
        for name, (scopes, organisation) in rows.items():
            connection.execute(
                text(
                    "INSERT INTO api_tokens (id, name, token_hash, scopes, organisation_code, "
                    "created_at) VALUES (:id, :name, :hash, :scopes, :org, CURRENT_TIMESTAMP)"
                ),
                {"id": name[:8], "name": name, "hash": name, "scopes": scopes, "org": organisation},
            )
    command.upgrade(config, "head")
    with Session(engine) as session:
        after = {t.name: t for t in session.scalars(select(ApiToken))}
    engine.dispose()
    assert after["feed"].scopes == "returns:write"
    assert after["feed"].revoked_at is None
    assert after["reader"].scopes == "read"
    assert after["reader"].revoked_at is None
    assert after["bound admin"].scopes == ""
    assert after["bound admin"].revoked_at is not None
    assert after["system"].scopes == "admin plans:write read"
    assert after["system"].revoked_at is None
