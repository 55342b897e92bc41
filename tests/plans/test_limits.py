"""Limits on plan work per token: a request past a fixed bound answers 422 naming the
field, and a token with too many plans queued or running answers 429 with Retry-After;
nothing is stored either way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.plans.models import Plan, PlanSweep
from tests.conftest import bearer
from tests.plans.test_plans import HAND_SCENARIO, small_system

__all__ = ["small_system"]
HAND_PLAN: dict[str, Any] = {"start": "2024-03", "months": 1, "scenario": HAND_SCENARIO}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "plan_max_months": 12,
            "plan_max_time_limit_s": 30.0,
            "plan_time_limit_s": 20.0,
            "plan_max_sweep_points": 3,
            "plan_max_pending_per_token": 3,
        }
    )


@pytest.fixture
def planner(make_token: Callable[..., str]) -> dict[str, str]:
    return bearer(make_token("plans:write", "read", name="planner"))


def count(sessions: sessionmaker[Session]) -> tuple[int, int]:
    with sessions() as session:
        plans = session.scalar(select(func.count()).select_from(Plan)) or 0
        swept = session.scalar(select(func.count()).select_from(PlanSweep)) or 0
    return plans, swept


def refused(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    return problem


@pytest.mark.parametrize(
    ("path", "body", "pointers", "words"),
    [
        ("/v1/plans", {**HAND_PLAN, "months": 13}, ["/months"], "at most 12 months"),
        (
            "/v1/plans",
            {**HAND_PLAN, "scenario": {**HAND_SCENARIO, "time_limit_s": 31}},
            ["/scenario/time_limit_s"],
            "at most 30 s",
        ),
        (
            "/v1/plans/sweeps",
            {"base": HAND_PLAN, "grid": {"travel_cost_per_wte_month": [1, 2, 3, 4]}},
            ["/grid"],
            "at most 3",
        ),
        (
            "/v1/plans/sweeps",
            {"base": {**HAND_PLAN, "months": 24}, "grid": {"time_limit_s": [10, 40]}},
            ["/base/months", "/grid/time_limit_s/1"],
            "at most 30 s",
        ),
    ],
    ids=["months", "time-limit", "sweep-points", "sweep-months-and-time-limit"],
)
def test_work_past_a_bound_is_refused_with_422(
    client: TestClient,
    planner: dict[str, str],
    small_system: None,
    sessions: sessionmaker[Session],
    path: str,
    body: dict[str, Any],
    pointers: list[str],
    words: str,
) -> None:
    problem = refused(client.post(path, json=body, headers=planner), 422)
    assert [error["pointer"] for error in problem["errors"]] == pointers
    assert words in problem["detail"]
    assert count(sessions) == (0, 0)


def test_a_token_with_too_many_plans_pending_gets_429_and_others_do_not(
    client: TestClient,
    planner: dict[str, str],
    make_token: Callable[..., str],
    small_system: None,
    sessions: sessionmaker[Session],
) -> None:
    solved = client.post("/v1/plans", json=HAND_PLAN, headers=planner)
    assert solved.status_code == 201, solved.text
    with sessions.begin() as session:  # two of its plans wait for a worker
        template = session.get(Plan, solved.json()["id"])
        assert template is not None
        for index in range(2):
            session.add(
                Plan(
                    id=f"waiting-{index}",
                    state="queued",
                    start=template.start,
                    months=template.months,
                    request=template.request,
                    inputs=template.inputs,
                    requested_by=template.requested_by,
                    token_id=template.token_id,
                    owner="another-host:1",
                )
            )
    # A finished plan does not count: 2 pending, so one more is allowed, not two.
    sweep = {"base": HAND_PLAN, "grid": {"travel_cost_per_wte_month": [50, 100]}}
    problem = refused(client.post("/v1/plans/sweeps", json=sweep, headers=planner), 429)
    assert "2 plan(s) queued or running" in problem["detail"]
    assert "at most 3" in problem["detail"]
    assert "would add 2" in problem["detail"]
    assert count(sessions) == (3, 0)

    one_more = client.post("/v1/plans", json=HAND_PLAN, headers=planner)
    assert one_more.status_code == 201, one_more.text
    with sessions.begin() as session:  # and now one of them is stuck running
        stuck = session.get(Plan, one_more.json()["id"])
        assert stuck is not None
        stuck.state = "running"
    response = client.post("/v1/plans", json=HAND_PLAN, headers=planner)
    problem = refused(response, 429)
    assert response.headers["retry-after"] == "10"
    assert "3 plan(s) queued or running" in problem["detail"]
    assert count(sessions) == (4, 0)

    other = bearer(make_token("plans:write", "read", name="another lead"))
    assert client.post("/v1/plans", json=HAND_PLAN, headers=other).status_code == 201


def test_the_settings_refuse_limits_that_contradict_each_other() -> None:
    with pytest.raises(ValueError, match="TIME_LIMIT_S"):
        Settings(plan_time_limit_s=100, plan_max_time_limit_s=50)
    with pytest.raises(ValueError, match="PENDING_PER_TOKEN"):
        Settings(plan_max_sweep_points=10, plan_max_pending_per_token=5)
