"""Plans through HTTP: a system small enough to solve by hand, independent solves of
random systems, the 202 path, crashes, recovery, refusals, tenants and exports."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.main import create_app
from app.plans.models import Plan
from optimiser import Problem
from tests.conftest import bearer, line
from tests.optimiser import independent

Headers = Callable[[str], dict[str, str]]

# No target binds and turnover does not react to gaps: only coverage and the pool matter.
HAND_SCENARIO: dict[str, Any] = {
    "organisations": ["RHM", "RHU"],
    "pools": ["T-NURSE"],
    "nursing_capacity_growth": -0.5,
    "turnover_target": 1.0,
    "agency_reduction": None,
    "agency_cost_per_wte_month": {"NURSE": 200},
    "unfilled_penalty_per_wte_month": {"NURSE": 1000},
    "turnover_sensitivity": {"NURSE": 0},
    "travel_cost_per_wte_month": 50,
}


@pytest.fixture
def planner(make_token: Callable[..., str]) -> dict[str, str]:
    return bearer(make_token("plans:write", "read", name="planner"))


def post_return(
    client: TestClient, headers: dict[str, str], org: str, period: str, **values: Any
) -> None:
    response = client.put(
        f"/v1/organisations/{org}/returns/{period}",
        json={"lines": [line(**values)]},
        headers=headers,
    )
    assert response.status_code == 201, response.text


@pytest.fixture
def small_system(
    client: TestClient, writer_headers: Headers, admin_headers: dict[str, str]
) -> None:
    """RHM (Southampton) has 10 WTE of 100 nursing posts vacant, RHU (Portsmouth) 5 of 50;
    a Southampton pool has 12 WTE at £100."""
    for period in ("2024-02", "2024-03"):
        post_return(
            client,
            writer_headers("RHM"),
            "RHM",
            period,
            establishment_wte=100,
            staff_in_post_wte=90,
            starters_wte=1,
            leavers_wte=1,
            bank_wte=5,
            agency_wte=2,
        )
        post_return(
            client,
            writer_headers("RHU"),
            "RHU",
            period,
            establishment_wte=50,
            staff_in_post_wte=45,
            starters_wte=0.5,
            leavers_wte=0.5,
            bank_wte=2,
            agency_wte=1,
        )
    pool = {
        "code": "T-NURSE",
        "name": "Test nursing bank",
        "home_place": "Southampton",
        "covers": ["NURSE"],
        "cost_per_wte_month": 100,
        "capacity_wte": 12,
    }
    assert client.post("/v1/bank/pools", json=pool, headers=admin_headers).status_code == 201


def test_a_small_system_gets_the_plan_worked_out_by_hand(
    client: TestClient, planner: dict[str, str], small_system: None
) -> None:
    """The pool's 12 WTE go first to RHM in its own place (£100: 10 WTE, £1,000), then to
    RHU at £100 + £50 travel (2 WTE, £300); agency (£200) covers RHU's other 3 (£600).
    Total £1,900; with no bank all 15 WTE are agency: £3,000."""
    response = client.post(
        "/v1/plans",
        json={"start": "2024-03", "months": 1, "scenario": HAND_SCENARIO},
        headers=planner,
    )
    assert response.status_code == 201, response.text
    plan = response.json()
    assert plan["state"] == "finished"
    assert plan["status"] == "optimal"
    assert plan["cost"] == {
        "bank": 1200.0,
        "travel": 100.0,
        "agency": 600.0,
        "cash": 1900.0,
        "unfilled_penalty": 0.0,
        "unfilled_wte_months": 0.0,
        "total": 1900.0,
    }
    assert plan["do_nothing_cost"] == 3000.0
    assert plan["do_nothing"]["cash"] == 3000.0
    assert plan["versus_do_nothing"] == {
        "cash_difference": -1100.0,
        "unfilled_wte_months_avoided": 0.0,
        "penalty_avoided": 0.0,
    }
    assert plan["saving"] == 1100.0
    assert plan["prices_unit"] == "GBP"
    assert plan["pool_shortfall_prices"] == []
    assert plan["gap_levers"] == []
    allocations = {(a["organisation"], a["wte"], a["cost"]) for a in plan["allocations"]}
    assert allocations == {("RHM", 10.0, 1000.0), ("RHU", 2.0, 300.0)}
    assert plan["pool_shadow_prices"] == [{"pool": "T-NURSE", "period": "2024-03", "value": 50.0}]
    assert response.headers["location"] == f"/v1/plans/{plan['id']}"

    assert client.get(f"/v1/plans/{plan['id']}", headers=planner).json() == plan
    listed = client.get("/v1/plans", headers=planner).json()
    assert listed["items"][0]["id"] == plan["id"]
    assert listed["items"][0]["total_cost"] == 1900.0


def test_exports_show_the_same_figures(
    client: TestClient, planner: dict[str, str], small_system: None
) -> None:
    plan = client.post(
        "/v1/plans",
        json={"start": "2024-03", "months": 1, "scenario": HAND_SCENARIO},
        headers=planner,
    ).json()
    csv_text = client.get(f"/v1/plans/{plan['id']}/allocations?format=csv", headers=planner).text
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert sorted((r["organisation"], float(r["wte"])) for r in rows) == [
        ("RHM", 10.0),
        ("RHU", 2.0),
    ]
    as_json = client.get(f"/v1/plans/{plan['id']}/allocations", headers=planner).json()
    assert len(as_json) == 2

    response = client.get(f"/v1/plans/{plan['id']}/workbook", headers=planner)
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == [
        "About",
        "Summary",
        "Targets",
        "System by month",
        "Allocations",
        "Projections",
        "Pool prices",
    ]
    summary: dict[Any, Any] = {}
    for label, value, _meaning in book["Summary"].iter_rows(min_row=2, values_only=True):
        summary.setdefault(label, value)  # this plan's block comes before doing nothing's
    assert summary["Cash cost"] == 1900.0
    assert summary["Penalty on unfilled posts"] == 0.0
    assert summary["Model total"] == 1900.0
    assert book["Allocations"].max_row == 3  # a header and two rows

    inputs = client.get(f"/v1/plans/{plan['id']}/inputs", headers=planner).json()
    problem = Problem.from_dict(inputs["problem"])
    assert [u.organisation for u in problem.units] == ["RHM", "RHU"]
    assert problem.units[0].staff_in_post_wte == 90
    # 2 leavers over the 2 months present, mean staff 90: annualised 1·12/90.
    assert problem.units[0].turnover_rate == pytest.approx(12 / 90, abs=1e-6)
    assert inputs["base_period"] == "2024-03"


def post_random_returns(
    client: TestClient,
    writer_headers: Headers,
    rng: random.Random,
    *,
    organisations: list[str],
    groups: Callable[[], list[str]],
) -> None:
    """Three months of returns (2024-01 to 2024-03) drawn at random for each organisation,
    one line for each of ``groups()``'s staff groups."""
    for org in organisations:
        for period in ("2024-01", "2024-02", "2024-03"):
            lines = []
            for group in groups():
                establishment = round(rng.uniform(50, 500), 2)
                lines.append(
                    line(
                        group,
                        establishment_wte=establishment,
                        staff_in_post_wte=round(establishment * rng.uniform(0.8, 0.97), 2),
                        starters_wte=round(rng.uniform(0, 6), 2),
                        leavers_wte=round(rng.uniform(0, 6), 2),
                        bank_wte=round(rng.uniform(0, 20), 2),
                        agency_wte=round(rng.uniform(0, 10), 2),
                    )
                )
            response = client.put(
                f"/v1/organisations/{org}/returns/{period}",
                json={"lines": lines},
                headers=writer_headers(org),
            )
            assert response.status_code == 201, response.text


def test_random_systems_cost_what_an_independent_solve_says(
    client: TestClient, planner: dict[str, str], writer_headers: Headers
) -> None:
    rng = random.Random(42)
    organisations = ["RHM", "RHU", "RN5", "R1F"]
    post_random_returns(
        client,
        writer_headers,
        rng,
        organisations=organisations,
        groups=lambda: rng.sample(["NURSE", "MIDWIFE", "SUPPORT", "STT"], 2),
    )
    for scenario in (
        {"organisations": organisations},
        {"organisations": organisations, "agency_reduction": 0.2, "island_mainland_allowed": True},
    ):
        plan = client.post(
            "/v1/plans",
            json={"start": "2024-04", "months": 6, "scenario": scenario},
            headers=planner,
        ).json()
        assert plan.get("state") == "finished", plan.get("errors")
        inputs = client.get(f"/v1/plans/{plan['id']}/inputs", headers=planner).json()
        problem = Problem.from_dict(inputs["problem"])
        assert [m.month for m in problem.history] == [-2, -1, 0]
        # Held out: the independent lexicographic solve of what the plan was solved with.
        reference = independent.solve(problem)
        assert plan["objective"] == pytest.approx(reference.cost, rel=1e-4)
        shortfall = sum(t["shortfall_wte_months"] for t in plan["targets"].values())
        assert shortfall == pytest.approx(reference.shortfall, rel=1e-4, abs=0.01)
        assert inputs["base_period"] == "2024-03"


def test_allocations_never_add_up_to_more_than_a_pool_holds(
    client: TestClient, planner: dict[str, str], small_system: None
) -> None:
    """A pool of 12.009 WTE: 10 to RHM, 2.009 to RHU. Rounded each on its own, the rows
    would be 10.00 + 2.01 = 12.01, more than the pool holds; rounded within capacity they
    are 10.00 + 2.00."""
    scenario = {**HAND_SCENARIO, "pool_capacity_wte": {"T-NURSE": 12.009}}
    plan = client.post(
        "/v1/plans", json={"start": "2024-03", "months": 1, "scenario": scenario}, headers=planner
    ).json()
    rows = {a["organisation"]: a["wte"] for a in plan["allocations"]}
    assert rows == {"RHM": 10.0, "RHU": 2.0}
    assert sum(rows.values()) <= 12.009


def test_a_target_out_of_reach_is_explained_in_wte(
    client: TestClient, planner: dict[str, str], small_system: None
) -> None:
    """Nursing capacity today: RHM 90 + 5 + 2 and RHU 45 + 2 + 1, C0 = 145; 20% growth by
    the second month: R_N = 159.5 and 174. Agency is barred and nobody leaves or joins
    (one of each a month), so capacity is 135 in post plus the pool's 12: 147, short 12.5
    and 27 WTE. Each more pool WTE closes one WTE of shortfall in its month."""
    scenario = {
        **HAND_SCENARIO,
        "nursing_capacity_growth": 0.2,
        "agency_reduction": 0.999999,
        "unfilled_penalty_per_wte_month": {"NURSE": 1000},
    }
    response = client.post(
        "/v1/plans", json={"start": "2024-03", "months": 2, "scenario": scenario}, headers=planner
    )
    assert response.status_code == 201, response.text
    plan = response.json()
    assert plan["status"] == "targets_unreachable"
    assert [m["nursing_shortfall_wte"] for m in plan["system"]] == [12.5, 27.0]
    nursing = plan["targets"]["nursing_capacity"]
    assert nursing["months_short"] == ["2024-03", "2024-04"]
    assert nursing["shortfall"] == 27.0
    assert nursing["shortfall_wte_months"] == 39.5
    assert nursing["shadow_price"] is None
    assert nursing["shadow_price_unit"] == "GBP per percentage point"
    assert "by up to 27.00 WTE" in plan["message"]
    assert plan["prices_unit"] == "WTE"
    assert plan["pool_shadow_prices"] == []
    assert [p["value"] for p in plan["pool_shortfall_prices"]] == [1.0, 1.0]
    levers = {lever["lever"]: lever for lever in plan["gap_levers"]}
    assert levers["pool"]["subject"] == "T-NURSE"
    assert levers["pool"]["shortfall_closed_wte"] == 2.0
    assert {"pipeline", "target_month"} <= set(levers)
    # Cash apart from the penalty, against doing nothing.
    cost, nothing = plan["cost"], plan["do_nothing"]
    assert cost["cash"] == cost["bank"] + cost["travel"] + cost["agency"]
    assert plan["versus_do_nothing"]["cash_difference"] == round(cost["cash"] - nothing["cash"], 2)
    assert plan["versus_do_nothing"]["unfilled_wte_months_avoided"] == 24.0
    assert plan["versus_do_nothing"]["penalty_avoided"] == 24_000.0


def test_a_plans_inputs_reproduce_it(
    client: TestClient, planner: dict[str, str], small_system: None
) -> None:
    """The stored inputs carry the system's months before the horizon (leavers 1 + 0.5,
    staff 90 + 45 in each of 2024-02 and 2024-03), and solve to the same plan."""
    from optimiser import solve

    plan = client.post("/v1/plans", json={"start": "2024-03", "months": 3}, headers=planner).json()
    inputs = client.get(f"/v1/plans/{plan['id']}/inputs", headers=planner).json()
    assert inputs["problem"]["history"] == [
        {"month": -1, "leavers_wte": 1.5, "staff_in_post_wte": 135.0},
        {"month": 0, "leavers_wte": 1.5, "staff_in_post_wte": 135.0},
    ]
    again = solve(Problem.from_dict(inputs["problem"])).to_dict()
    for key in ("allocations", "system", "targets", "cost", "do_nothing"):
        assert again[key] == plan[key]


def test_a_plan_past_the_wait_budget_answers_202_and_can_be_polled(
    client: TestClient, planner: dict[str, str], small_system: None
) -> None:
    response = client.post(
        "/v1/plans",
        json={"start": "2024-03", "months": 1, "scenario": HAND_SCENARIO},
        headers={**planner, "Prefer": "respond-async"},
    )
    assert response.status_code == 202
    assert response.headers["preference-applied"] == "respond-async"
    assert response.json()["state"] in ("queued", "running")
    location = response.headers["location"]
    deadline = time.monotonic() + 60
    while (plan := client.get(location, headers=planner).json())["state"] not in (
        "finished",
        "failed",
    ):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert plan["status"] == "optimal"
    assert plan["cost"]["total"] == 1900.0


def test_a_worker_that_dies_fails_its_plan_and_the_service_carries_on(
    client: TestClient,
    planner: dict[str, str],
    small_system: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from app.plans import solving

    def crash(_inputs: object, **_options: object) -> None:
        os._exit(1)  # the worker process dies in the middle of the solve

    monkeypatch.setattr(solving, "solve_inputs", crash)
    response = client.post(
        "/v1/plans",
        json={"start": "2024-03", "months": 1, "scenario": HAND_SCENARIO},
        headers=planner,
    )
    assert response.status_code == 201
    failed = response.json()
    assert failed["state"] == "failed"
    assert failed["status"] == "error"
    assert "stopped unexpectedly" in failed["message"]
    assert client.get("/healthz").status_code == 200

    monkeypatch.undo()
    again = client.post(
        "/v1/plans",
        json={"start": "2024-03", "months": 1, "scenario": HAND_SCENARIO},
        headers=planner,
    )
    assert again.json()["status"] == "optimal"


def test_plans_left_by_a_dead_process_are_failed_or_requeued_at_start_up(
    settings: Settings,
    client: TestClient,
    planner: dict[str, str],
    small_system: None,
    sessions: sessionmaker[Session],
) -> None:
    plan = client.post(
        "/v1/plans",
        json={"start": "2024-03", "months": 1, "scenario": HAND_SCENARIO},
        headers=planner,
    ).json()
    template = None
    with sessions() as session:
        template = session.get(Plan, plan["id"])
        assert template is not None
        dead = "this-host-gone:999999"
        import socket

        dead = f"{socket.gethostname()}:999999"
        running = Plan(
            id="running-orphan",
            state="running",
            start="2024-03",
            months=1,
            request=template.request,
            inputs=template.inputs,
            requested_by="test",
            owner=dead,
            runner=dead,
        )
        queued = Plan(
            id="queued-orphan",
            state="queued",
            start="2024-03",
            months=1,
            request=template.request,
            inputs=template.inputs,
            requested_by="test",
            owner=dead,
        )
        session.add_all([running, queued])
        session.commit()

    with TestClient(create_app(settings)) as restarted:
        stranded = restarted.get("/v1/plans/running-orphan", headers=planner).json()
        assert stranded["state"] == "failed"
        assert "interrupted" in stranded["message"]
        deadline = time.monotonic() + 60
        while (again := restarted.get("/v1/plans/queued-orphan", headers=planner).json())[
            "state"
        ] != "finished":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert again["cost"]["total"] == 1900.0


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        (
            {"start": "2024-03", "months": 1, "scenario": {"organisations": ["XXX"]}},
            "/scenario/organisations/0",
        ),
        ({"start": "2024-03", "months": 1, "scenario": {"pools": ["NOPE"]}}, "/scenario/pools/0"),
        (
            {"start": "2024-03", "months": 1, "scenario": {"turnover_sensitivity": {"PORTERS": 1}}},
            "/scenario/turnover_sensitivity/PORTERS",
        ),
        ({"start": "2010-01", "months": 1}, "/start"),
        ({"start": "2024-03", "months": 121}, "/months"),
        ({"start": "2024-03", "months": 0}, "/months"),
        ({"start": "2024-13", "months": 1}, "/start"),
        (
            {"start": "2024-03", "months": 1, "scenario": {"turnover_target": 2}},
            "/scenario/turnover_target",
        ),
        (
            # before the start (after the horizon is allowed: the trajectory ends part-way)
            {"start": "2024-03", "months": 2, "scenario": {"target_period": "2024-01"}},
            "/scenario/target_period",
        ),
        ({"start": "2024-03", "months": 1, "scenario": {"colour": "blue"}}, "/scenario/colour"),
        (
            {"start": "2024-03", "months": 1, "scenario": {"pool_capacity_wte": {"T-NURSE": -1}}},
            "/scenario/pool_capacity_wte/T-NURSE",
        ),
    ],
)
def test_bad_requests_are_refused_naming_the_field(
    client: TestClient,
    planner: dict[str, str],
    small_system: None,
    body: dict[str, Any],
    pointer: str,
) -> None:
    response = client.post("/v1/plans", json=body, headers=planner)
    assert response.status_code == 422, response.text
    assert pointer in [e["pointer"] for e in response.json()["errors"]]


def test_missing_returns_are_carried_forward_and_reported(
    client: TestClient, planner: dict[str, str], small_system: None, writer_headers: Headers
) -> None:
    post_return(client, writer_headers("RHM"), "RHM", "2024-04", staff_in_post_wte=91)
    plan = client.post(
        "/v1/plans",
        json={"start": "2024-04", "months": 1, "scenario": HAND_SCENARIO},
        headers=planner,
    ).json()
    missing = [n for n in plan["data_notes"] if n["kind"] == "missing_return"]
    assert missing == [
        {
            "kind": "missing_return",
            "organisation": "RHU",
            "period": "2024-04",
            "filled_from": "2024-03",
            "message": "RHU has no return for 2024-04; carried forward from 2024-03.",
        }
    ]


def test_who_may_request_and_read_plans(
    client: TestClient,
    planner: dict[str, str],
    reader_headers: dict[str, str],
    writer_headers: Headers,
    small_system: None,
) -> None:
    body = {"start": "2024-03", "months": 1, "scenario": HAND_SCENARIO}
    assert client.post("/v1/plans", json=body, headers=writer_headers("RHM")).status_code == 403
    assert client.post("/v1/plans", json=body, headers=reader_headers).status_code == 403
    assert client.post("/v1/plans", json=body).status_code == 401
    plan = client.post("/v1/plans", json=body, headers=planner).json()
    assert client.get(f"/v1/plans/{plan['id']}", headers=reader_headers).status_code == 200
    assert client.get(f"/v1/plans/{plan['id']}", headers=writer_headers("RHM")).status_code == 403
    assert client.get("/v1/plans/nope", headers=reader_headers).status_code == 404


@pytest.fixture
def spawning_app(engine: object, settings: Settings) -> FastAPI:
    return create_app(
        settings.model_copy(update={"plan_start_method": "spawn", "plan_prewarm": True})
    )


def test_the_default_spawned_workers_solve_too(
    spawning_app: FastAPI, planner: dict[str, str], small_system: None
) -> None:
    with TestClient(spawning_app) as client:
        response = client.post(
            "/v1/plans",
            json={"start": "2024-03", "months": 1, "scenario": HAND_SCENARIO},
            headers=planner,
        )
        assert response.status_code == 201
        assert response.json()["cost"]["total"] == 1900.0


def test_the_command_line_plans_and_writes_csv_and_excel(
    database_url: str,
    small_system: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from app import cli
    from app.config import get_settings

    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps(HAND_SCENARIO))
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        code = cli.main(
            [
                "plan",
                "--start",
                "2024-03",
                "--months",
                "1",
                "--scenario",
                str(scenario),
                "--out",
                str(tmp_path / "out"),
            ]
        )
    finally:
        get_settings.cache_clear()
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "optimal" in captured.out
    cash = next(line for line in captured.out.splitlines() if "cash cost (GBP)" in line)
    assert cash.split()[3:] == ["1,900", "3,000", "-1,100"]
    assert "unfilled penalty (not money)" in captured.out
    assert "saving" not in captured.out.lower()
    assert "done in" in captured.err
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert len(files) == 2
    assert files[0].endswith("-allocations.csv")
    assert files[1].endswith(".xlsx")
