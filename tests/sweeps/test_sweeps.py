"""Sweeps with the embedded runner: the grid's checks, the table and its CSV."""

from __future__ import annotations

import csv
import io
import time
from typing import Any, cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.errors import ServiceUnavailable
from app.plans.models import Plan, PlanSweep
from app.plans.worker import summarise
from tests.plans import constructed
from tests.plans.test_plans import HAND_SCENARIO

BASE: dict[str, Any] = {"start": "2024-03", "months": 1, "scenario": HAND_SCENARIO}
CASH_FIELDS = (
    "cash_cost",
    "unfilled_wte_months",
    "cash_difference",
    "unfilled_wte_months_avoided",
    "penalty_avoided",
)


def wait_for_sweep(client: TestClient, headers: dict[str, str], sweep_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while (sweep := client.get(f"/v1/plans/sweeps/{sweep_id}", headers=headers).json())[
        "state"
    ] in ("queued", "running"):
        assert time.monotonic() < deadline, sweep
        time.sleep(0.1)
    assert isinstance(sweep, dict)
    return sweep


def test_a_sweep_of_two_keys_tabulates_each_point_as_worked_out_by_hand(
    client: TestClient, planner: dict[str, str], small_system: None
) -> None:
    """With the pool's 12 WTE, a move to RHU at £50 travel beats agency (£1,900); at £100
    it ties with agency (£2,000); with no bank everything is agency (£3,000)."""
    response = client.post(
        "/v1/plans/sweeps",
        json={
            "base": BASE,
            "grid": {
                "pool_capacity_wte.T-NURSE": [12, 0],
                "travel_cost_per_wte_month": {"from": 50, "to": 100, "steps": 2},
            },
        },
        headers=planner,
    )
    assert response.status_code == 202, response.text
    created = response.json()
    assert response.headers["location"] == f"/v1/plans/sweeps/{created['id']}"
    assert created["total"] == 4
    assert created["keys"] == ["pool_capacity_wte.T-NURSE", "travel_cost_per_wte_month"]

    sweep = wait_for_sweep(client, planner, created["id"])
    assert (sweep["state"], sweep["done"], sweep["failed"]) == ("finished", 4, 0)
    table = {
        (p["values"]["pool_capacity_wte.T-NURSE"], p["values"]["travel_cost_per_wte_month"]): p
        for p in sweep["points"]
    }
    assert {key: p["total_cost"] for key, p in table.items()} == {
        (12, 50.0): 1900.0,
        (12, 100.0): 2000.0,
        (0, 50.0): 3000.0,
        (0, 100.0): 3000.0,
    }
    assert {key: p["saving"] for key, p in table.items()} == {
        (12, 50.0): 1100.0,
        (12, 100.0): 1000.0,
        (0, 50.0): 0.0,
        (0, 100.0): 0.0,
    }
    assert [p["index"] for p in sweep["points"]] == [0, 1, 2, 3]
    for point in sweep["points"]:
        assert point["status"] == "optimal"
        assert point["do_nothing_cost"] == 3000.0
        assert point["targets_met"]
        assert all(point["targets_met"].values())
        assert point["shortfalls"]
        assert set(point["shortfalls"].values()) == {0.0}
        assert point["nursing_shadow_price"] in (0.0, None)
        # Each point is an ordinary plan, with the point's values in its scenario.
        plan = client.get(f"/v1/plans/{point['plan_id']}", headers=planner).json()
        assert plan["cost"]["total"] == point["total_cost"]
        assert plan["scenario"]["pool_capacity_wte"] == {
            "T-NURSE": point["values"]["pool_capacity_wte.T-NURSE"]
        }
        assert (
            plan["scenario"]["travel_cost_per_wte_month"]
            == (point["values"]["travel_cost_per_wte_month"])
        )

    exported = client.get(f"/v1/plans/sweeps/{created['id']}?format=csv", headers=planner)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == 4
    assert list(rows[0])[:5] == [
        "index",
        "pool_capacity_wte.T-NURSE",
        "travel_cost_per_wte_month",
        "plan_id",
        "state",
    ]
    assert "nursing_capacity_met" in rows[0]
    assert "nursing_capacity_shortfall" in rows[0]
    assert {r["nursing_capacity_met"] for r in rows} == {"true"}
    assert [float(r["total_cost"]) for r in rows] == [1900.0, 2000.0, 3000.0, 3000.0]
    assert [r["plan_id"] for r in rows] == [p["plan_id"] for p in sweep["points"]]
    # Cash apart from the penalty (none here: every post is covered).
    assert [float(r["cash_cost"]) for r in rows] == [1900.0, 2000.0, 3000.0, 3000.0]
    assert {float(r["unfilled_wte_months"]) for r in rows} == {0.0}


def test_the_sweep_table_shows_cash_unfilled_posts_and_penalty_against_doing_nothing(
    client: TestClient, planner: dict[str, str], session: Session
) -> None:
    """Points whose results are stored in the shape that reports cash apart from penalty
    (written by hand, as the worker would have stored them), and one older point."""
    sweep = PlanSweep(
        id="s" * 16,
        request={"base": BASE, "grid": {"agency_reduction": [0.1, 0.2]}},
        keys=["agency_reduction"],
        values=[[0.1, 0.2]],
        total=2,
        requested_by="workforce lead",
    )
    session.add(sweep)
    session.flush()
    for index, result in enumerate(
        (constructed.v2_result(reachable=False), constructed.v1_result(reachable=True))
    ):
        plan = session.get(Plan, constructed.insert_plan(session, result))
        assert plan is not None
        plan.sweep_id, plan.sweep_index = sweep.id, index
        plan.sweep_point = {"agency_reduction": [0.1, 0.2][index]}
        plan.summary = summarise(result)
    session.commit()

    points = client.get(f"/v1/plans/sweeps/{sweep.id}", headers=planner).json()["points"]
    assert {k: points[0][k] for k in CASH_FIELDS} == {
        "cash_cost": 34_620_000.0,
        "unfilled_wte_months": 360.0,
        "cash_difference": 3_620_000.0,
        "unfilled_wte_months_avoided": 1_480.0,
        "penalty_avoided": 7_400_000.0,
    }
    # The older result: cash from its parts, unfilled posts from its projections, and no
    # comparison with doing nothing, which it did not report apart.
    assert {k: points[1][k] for k in CASH_FIELDS} == {
        "cash_cost": 34_620_000.0,
        "unfilled_wte_months": 360.0,
        "cash_difference": None,
        "unfilled_wte_months_avoided": None,
        "penalty_avoided": None,
    }
    exported = client.get(f"/v1/plans/sweeps/{sweep.id}?format=csv", headers=planner).text
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert [rows[0][k] for k in CASH_FIELDS] == [
        "34620000.0",
        "360.0",
        "3620000.0",
        "1480.0",
        "7400000.0",
    ]
    assert [rows[1][k] for k in CASH_FIELDS[2:]] == ["", "", ""]


def test_a_dotted_key_sweeps_one_group_keeping_the_base_scenario_others(
    client: TestClient, planner: dict[str, str], small_system: None
) -> None:
    base = {
        **BASE,
        "scenario": {**HAND_SCENARIO, "turnover_sensitivity": {"NURSE": 0, "DOCTOR": 1}},
    }
    response = client.post(
        "/v1/plans/sweeps",
        json={"base": base, "grid": {"turnover_sensitivity.NURSE": [0.0, 0.5]}},
        headers=planner,
    )
    assert response.status_code == 202, response.text
    sweep = wait_for_sweep(client, planner, response.json()["id"])
    assert sweep["done"] == 2
    for point in sweep["points"]:
        inputs = client.get(f"/v1/plans/{point['plan_id']}", headers=planner).json()
        assert inputs["scenario"]["turnover_sensitivity"] == {
            "NURSE": point["values"]["turnover_sensitivity.NURSE"],
            "DOCTOR": 1,
        }


def test_a_grid_of_more_points_than_allowed_is_refused_before_anything_is_stored(
    client: TestClient, planner: dict[str, str], small_system: None, sessions: sessionmaker[Session]
) -> None:
    response = client.post(
        "/v1/plans/sweeps",
        json={
            "base": BASE,
            "grid": {
                "turnover_sensitivity.NURSE": {"from": 0, "to": 1, "steps": 17},
                "agency_reduction": {"from": 0, "to": 0.3, "steps": 3},
            },
        },
        headers=planner,
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    # WORKFORCE_PLAN_MAX_SWEEP_POINTS, 50 by default.
    assert "51 points (17 x 3)" in problem["detail"]
    assert "at most 50" in problem["detail"]
    assert problem["errors"][0]["pointer"] == "/grid"
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(PlanSweep)) == 0
        assert session.scalar(select(func.count()).select_from(Plan)) == 0


@pytest.mark.parametrize(
    ("grid", "pointer", "words"),
    [
        ({"colour": [1, 2]}, "/grid/colour", "not a scenario key"),
        ({"organisations": [1]}, "/grid/organisations", "cannot be swept"),
        ({"turnover_sensitivity": [0.5]}, "/grid/turnover_sensitivity", "turnover_sensitivity."),
        ({"agency_reduction.NURSE": [0.5]}, "/grid/agency_reduction.NURSE", "no keys"),
        ({"agency_reduction": [0.1, 1.5]}, "/grid/agency_reduction/1", "1.5"),
        ({"agency_reduction": ["lots"]}, "/grid/agency_reduction/0", "lots"),
        ({"turnover_sensitivity.NURSE": [9]}, "/grid/turnover_sensitivity.NURSE/0", "9"),
        ({"turnover_sensitivity.PORTERS": [1]}, "/grid/turnover_sensitivity.PORTERS", "PORTERS"),
        ({"target_period": ["2023-09"]}, "/grid/target_period", "2023"),  # before the start
        ({"agency_reduction": []}, "/grid/agency_reduction", ""),
        ({}, "/grid", ""),
        ({"agency_reduction": [0], "pipeline_factor": [1], "min_fill_rate": [0]}, "/grid", ""),
        ({"agency_reduction": {"from": 0, "to": 1, "steps": 0}}, "/grid/agency_reduction", ""),
    ],
)
def test_bad_grids_are_refused_naming_the_key_and_value(
    client: TestClient,
    planner: dict[str, str],
    small_system: None,
    grid: dict[str, Any],
    pointer: str,
    words: str,
) -> None:
    response = client.post("/v1/plans/sweeps", json={"base": BASE, "grid": grid}, headers=planner)
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert any(e["pointer"].startswith(pointer) and words in e["message"] for e in errors), errors


def test_a_bad_base_request_is_refused_naming_the_base(
    client: TestClient, planner: dict[str, str], small_system: None
) -> None:
    response = client.post(
        "/v1/plans/sweeps",
        json={
            "base": {**BASE, "scenario": {"organisations": ["XXX"]}},
            "grid": {"agency_reduction": [0.1]},
        },
        headers=planner,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/base/scenario/organisations/0"


def test_who_may_sweep_and_read_sweeps(
    client: TestClient,
    planner: dict[str, str],
    reader_headers: dict[str, str],
    small_system: None,
) -> None:
    body = {"base": BASE, "grid": {"agency_reduction": [0.1]}}
    assert client.post("/v1/plans/sweeps", json=body).status_code == 401
    assert client.post("/v1/plans/sweeps", json=body, headers=reader_headers).status_code == 403
    created = client.post("/v1/plans/sweeps", json=body, headers=planner).json()
    # Let it end: a solve left running would write while the next test empties the tables.
    wait_for_sweep(client, planner, created["id"])
    assert (
        client.get(f"/v1/plans/sweeps/{created['id']}", headers=reader_headers).status_code == 200
    )
    missing = client.get("/v1/plans/sweeps/nope", headers=reader_headers)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


def test_a_sweep_whose_points_all_fail_ends_failed_with_the_reason_on_each_plan(
    client: TestClient,
    planner: dict[str, str],
    small_system: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from app.plans import solving

    def broken(_inputs: object, **_options: object) -> None:
        raise RuntimeError("solver licence expired")

    monkeypatch.setattr(solving, "solve_inputs", broken)  # the forked workers inherit it
    response = client.post(
        "/v1/plans/sweeps",
        json={"base": BASE, "grid": {"agency_reduction": [0.1, 0.2]}},
        headers=planner,
    )
    sweep = wait_for_sweep(client, planner, response.json()["id"])
    assert (sweep["state"], sweep["done"], sweep["failed"], sweep["total"]) == ("failed", 0, 2, 2)
    for point in sweep["points"]:
        assert (point["state"], point["status"], point["total_cost"]) == ("failed", "error", None)
        plan = client.get(f"/v1/plans/{point['plan_id']}", headers=planner).json()
        assert "solver licence expired" in plan["message"]


def test_a_sweep_solved_in_chains_tabulates_what_plans_solved_alone_give(
    client: TestClient,
    planner: dict[str, str],
    small_system: None,
    sessions: sessionmaker[Session],
) -> None:
    """A year of the small system with its targets binding, handed out a chain per nursing
    target (each point after a chain's first solved from the last one's solver state):
    every point's row of the table is that of the same plan requested alone."""
    scenario = {
        key: value
        for key, value in HAND_SCENARIO.items()
        if key not in ("agency_reduction", "nursing_capacity_growth")
    }
    base = {"start": "2024-03", "months": 12, "scenario": scenario}
    grid = {"nursing_capacity_growth": [0.0, 0.05], "agency_reduction": [0.0, 0.1, 0.2]}
    response = client.post("/v1/plans/sweeps", json={"base": base, "grid": grid}, headers=planner)
    assert response.status_code == 202, response.text
    sweep = wait_for_sweep(client, planner, response.json()["id"])
    assert (sweep["state"], sweep["done"]) == ("finished", 6)
    assert {p["status"] for p in sweep["points"]} >= {"optimal"}

    with sessions() as session:
        rows = session.scalars(
            select(Plan).where(Plan.sweep_id == sweep["id"]).order_by(Plan.sweep_index)
        ).all()
        # A chain is one worker's, its points solved in grid order.
        for chain in (rows[:3], rows[3:]):
            assert len({p.runner for p in chain}) == 1
            started = [p.started_at for p in chain if p.started_at is not None]
            assert len(started) == 3
            assert started == sorted(started)
    for point, row in zip(sweep["points"], rows, strict=True):
        alone = client.post(
            "/v1/plans",
            json={**base, "scenario": {**scenario, **point["values"]}},
            headers={**planner, "Prefer": "wait=60"},
        )
        assert alone.status_code == 201, alone.text
        with sessions() as session:
            plan = session.get(Plan, alone.json()["id"])
            assert plan is not None
            assert plan.summary is not None
            assert row.summary is not None
            assert plan.status == row.status == point["status"]
            assert {k: v for k, v in plan.summary.items() if k != "solve_s"} == {
                k: v for k, v in row.summary.items() if k != "solve_s"
            }
            assert plan.result is not None
            assert row.result is not None
            for figure in ("cost", "targets", "do_nothing", "gap_levers", "system"):
                assert plan.result[figure] == row.result[figure], figure


class RefusingEngine:
    """Takes the first ``takes`` chains (solving nothing), then refuses as a broker gone
    down would."""

    def __init__(self, identity: str, takes: int) -> None:
        self.identity, self.takes = identity, takes
        self.chains: list[list[str]] = []

    def check_available(self) -> None:
        """The broker answered the check; it goes down while the chains are handed out."""

    def submit(self, plan_ids: list[str]) -> None:
        if len(self.chains) == self.takes:
            raise ServiceUnavailable("The message broker cannot be reached.")
        self.chains.append(list(plan_ids))


@pytest.mark.parametrize("takes", [0, 1])
def test_a_broker_failing_while_chains_are_handed_out_withdraws_the_rest(
    client: TestClient,
    planner: dict[str, str],
    small_system: None,
    sessions: sessionmaker[Session],
    takes: int,
) -> None:
    """Chains are handed out whole: refused at the first, nothing stays stored; refused
    later, the points of the chains not handed out are failed, those handed out stand."""
    app = cast(FastAPI, client.app)
    real = app.state.plan_engine
    refusing = RefusingEngine(real.identity, takes)
    app.state.plan_engine = refusing
    try:
        response = client.post(
            "/v1/plans/sweeps",
            json={
                "base": BASE,
                "grid": {
                    "pool_capacity_wte.T-NURSE": [12, 6, 0],
                    "travel_cost_per_wte_month": [50, 100],
                },
            },
            headers=planner,
        )
    finally:
        app.state.plan_engine = real
    assert response.status_code == 503, response.text
    with sessions() as session:
        plans = session.scalars(select(Plan).order_by(Plan.sweep_index)).all()
        sweeps_stored = session.scalar(select(func.count()).select_from(PlanSweep))
    if takes == 0:
        assert (plans, sweeps_stored) == ([], 0)
        return
    assert "4 of its 6 points were failed" in response.json()["detail"]
    # The first chain, a pool capacity's two travel costs, was handed out whole.
    assert refusing.chains == [[plans[0].id, plans[1].id]]
    assert [p.state for p in plans] == ["queued"] * 2 + ["failed"] * 4
    assert all("could not be reached" in (p.message or "") for p in plans[2:])
