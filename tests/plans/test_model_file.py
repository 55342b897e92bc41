"""A plan's model as an LP file: written by PuLP, solved by CBC to the plan's own optimum,
stage by stage."""

from __future__ import annotations

import random
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.plans.models import Plan
from tests.plans.test_plans import HAND_SCENARIO, planner, post_random_returns, small_system

__all__ = ["planner", "small_system"]  # fixtures, used by name

Headers = Callable[[str], dict[str, str]]
NURSE_SUPPORT = ["NURSE", "SUPPORT"]
CBC_OBJECTIVE = re.compile(r"Optimal objective (-?[0-9.eE+-]+)")


def cbc_objective(text: str, folder: Path) -> float:
    """The optimum CBC finds for an LP file (its own reader, not PuLP's model)."""
    path = folder / "model.lp"
    path.write_text(text)
    cbc = pulp.PULP_CBC_CMD().path
    ran = subprocess.run(
        [cbc, str(path), "-solve"], capture_output=True, text=True, timeout=120, check=True
    )
    assert "Optimal" in ran.stdout, ran.stdout[-2000:]
    found = CBC_OBJECTIVE.search(ran.stdout)
    assert found, ran.stdout[-2000:]
    return float(found.group(1))


def download(client: TestClient, headers: dict[str, str], plan_id: str, stage: str) -> str:
    response = client.get(f"/v1/plans/{plan_id}/model.lp?stage={stage}", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    assert f'filename="plan-{plan_id}-{stage}.lp"' in response.headers["content-disposition"]
    text: str = response.text
    return text


def test_cbc_solves_an_unreachable_plan_s_model_to_its_shortfall_and_its_cost(
    client: TestClient, planner: dict[str, str], small_system: None, tmp_path: Path
) -> None:
    """The hand-solved plan out of reach by 12.5 and 27 WTE (39.5 WTE-months): the
    shortfall stage's file solves to 39.5, and the cost stage's, which holds the shortfall
    there with a row, to the plan's objective."""
    scenario = {**HAND_SCENARIO, "nursing_capacity_growth": 0.2, "agency_reduction": 0.999999}
    plan = client.post(
        "/v1/plans", json={"start": "2024-03", "months": 2, "scenario": scenario}, headers=planner
    ).json()
    assert plan["status"] == "targets_unreachable"
    assert plan["least_shortfall_wte_months"] == pytest.approx(39.5, rel=1e-6)
    shortfall = download(client, planner, plan["id"], "shortfall")
    assert shortfall.startswith(f"\\ Plan {plan['id']}, 2024-03 for 2 months.\n")
    assert "Stage 1 of 2" in shortfall
    assert cbc_objective(shortfall, tmp_path) == pytest.approx(39.5, rel=1e-6)
    cost = download(client, planner, plan["id"], "cost")
    assert "shortfall_ceiling:" in cost
    assert cbc_objective(cost, tmp_path) == pytest.approx(plan["objective"], rel=1e-6)


def test_cbc_solves_random_plans_models_to_their_objectives(
    client: TestClient, planner: dict[str, str], writer_headers: Headers, tmp_path: Path
) -> None:
    rng = random.Random(7)
    organisations = ["RHM", "RHU", "RN5"]
    post_random_returns(
        client, writer_headers, rng, organisations=organisations, groups=lambda: NURSE_SUPPORT
    )
    statuses = set()
    for scenario in (
        {"organisations": organisations, "nursing_capacity_growth": -0.2, "turnover_target": 1},
        {
            "organisations": organisations,
            "agency_reduction": 0.2,
            "turnover_target": 0.01,
            "target_period": "2024-05",
        },
    ):
        plan = client.post(
            "/v1/plans",
            json={"start": "2024-04", "months": 4, "scenario": scenario},
            headers=planner,
        ).json()
        statuses.add(plan["status"])
        text = download(client, planner, plan["id"], "cost")
        assert cbc_objective(text, tmp_path) == pytest.approx(plan["objective"], rel=1e-6)
        least = cbc_objective(download(client, planner, plan["id"], "shortfall"), tmp_path)
        assert least == pytest.approx(plan["least_shortfall_wte_months"], rel=1e-6, abs=1e-6)
    assert statuses == {"optimal", "targets_unreachable"}


def test_the_model_file_is_refused_where_it_cannot_be_written(
    client: TestClient,
    planner: dict[str, str],
    small_system: None,
    session: Session,
    make_token: Callable[..., str],
) -> None:
    plan: dict[str, Any] = client.post(
        "/v1/plans",
        json={"start": "2024-03", "months": 1, "scenario": HAND_SCENARIO},
        headers=planner,
    ).json()
    assert client.get("/v1/plans/nosuchplan/model.lp", headers=planner).status_code == 404
    wrong = client.get(f"/v1/plans/{plan['id']}/model.lp?stage=both", headers=planner)
    assert wrong.status_code == 422
    assert client.get(f"/v1/plans/{plan['id']}/model.lp").status_code == 401
    # A plan stored before its least shortfall was kept: its cost stage cannot be held,
    # its shortfall stage can.
    row = session.get(Plan, plan["id"])
    assert row is not None
    row.result = {k: v for k, v in (row.result or {}).items() if k != "least_shortfall_wte_months"}
    session.commit()
    older = client.get(f"/v1/plans/{plan['id']}/model.lp", headers=planner)
    assert older.status_code == 409
    assert "?stage=shortfall" in older.json()["detail"]
    assert download(client, planner, plan["id"], "shortfall")
