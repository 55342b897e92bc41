"""One submission for the API, the sweeps and the pages: the plan form makes a plan and
shows it (here on the embedded engine; ``tests/sweeps/test_celery.py`` runs the same on
Celery), and the solve-time metric counts it."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.plans.test_plans import HAND_SCENARIO, planner, small_system

__all__ = ["planner", "small_system"]

ORIGIN = {"Origin": "http://testserver"}


def plan_through_the_form(app: FastAPI, token: str) -> dict[str, Any]:
    """Sign in, request the hand-solved plan through the form, follow to its page; the
    plan's JSON as the API shows it."""
    with TestClient(app, follow_redirects=False) as browser:
        signed_in = browser.post("/ui/sign-in", data={"token": token}, headers=ORIGIN)
        assert signed_in.status_code == 303, signed_in.text
        form = {
            "start": "2024-03",
            "months": "1",
            "label": "hand-solved",
            "scenario_json": json.dumps(HAND_SCENARIO),
        }
        response = browser.post("/ui/plans", data=form, headers=ORIGIN)
        assert response.status_code == 303, response.text
        location = response.headers["location"]
        assert re.fullmatch(r"/ui/plans/[0-9a-f]{16}", location)
        page = browser.get(location)
        assert page.status_code == 200
        headers = {"Authorization": f"Bearer {token}"}
        plan: dict[str, Any] = browser.get(
            "/v1/plans/" + location.rsplit("/", 1)[1], headers=headers
        ).json()
        assert plan["state"] == "finished", plan
        assert plan["label"] == "hand-solved"
        assert plan["cost"]["total"] == 1900.0
        # The page shows cash (bank, travel, agency) and the notional penalty apart.
        cost = plan["cost"]
        cash = round(cost["bank"] + cost["travel"] + cost["agency"], 2)
        assert cash + cost["unfilled_penalty"] == 1900.0
        assert f'data-field="cash" data-value="{cash}"' in page.text
        assert f'data-field="penalty" data-value="{cost["unfilled_penalty"]}"' in page.text
        assert solve_count(browser, headers) == 1
        return plan


def solve_count(client: TestClient, headers: dict[str, str]) -> float:
    """How many solves the app's solve-time histogram has counted."""
    text = client.get("/metrics", headers=headers).text
    match = re.search(r"^plan_solve_duration_seconds_count (\S+)$", text, re.MULTILINE)
    assert match, text
    return float(match.group(1))


def test_the_plan_form_makes_a_plan_and_shows_it_on_the_embedded_engine(
    app: FastAPI, make_token: Any, small_system: None
) -> None:
    plan_through_the_form(app, make_token("plans:write", "read", name="lead"))
