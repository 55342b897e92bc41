"""The claim a runner takes on a plan: a task delivered again is a no-op while the plan is
done or held by a live runner, takes over a dead runner's claim, and a runner whose claim
was taken over stores nothing."""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.db import utcnow
from app.plans import solving
from app.plans.models import Plan
from app.plans.worker import ClaimRules, Elsewhere, process_identity, run_plan
from tests.plans.test_plans import HAND_SCENARIO

MakePlan = Callable[..., str]
RULES = ClaimRules(heartbeat_s=5, stale_after_s=30, max_attempts=3)


@pytest.fixture
def make_plan(
    client: TestClient,
    planner: dict[str, str],
    small_system: None,
    sessions: sessionmaker[Session],
) -> MakePlan:
    """``make_plan(state="running", runner=..., heartbeat_at=...)``: a copy of a solved
    plan's inputs, in the state given."""
    solved = client.post(
        "/v1/plans",
        json={"start": "2024-03", "months": 1, "scenario": HAND_SCENARIO},
        headers=planner,
    ).json()
    with sessions() as session:
        template = session.get(Plan, solved["id"])
        assert template is not None
        request, inputs = template.request, template.inputs
    made = 0

    def make(**values: Any) -> str:
        nonlocal made
        made += 1
        plan = Plan(
            id=f"claim-{made}",
            start="2024-03",
            months=1,
            request=request,
            inputs=inputs,
            requested_by="test",
            **{"state": "queued", **values},
        )
        with sessions.begin() as session:
            session.add(plan)
        return plan.id

    return make


def read(sessions: sessionmaker[Session], plan_id: str) -> Plan:
    with sessions() as session:
        plan = session.get(Plan, plan_id)
        assert plan is not None
        return plan


def test_a_task_delivered_twice_solves_once(
    make_plan: MakePlan, database_url: str, sessions: sessionmaker[Session]
) -> None:
    plan_id = make_plan()
    assert run_plan(database_url, plan_id, rules=RULES) == "finished"
    first = read(sessions, plan_id)
    assert run_plan(database_url, plan_id, rules=RULES) == "finished"
    again = read(sessions, plan_id)
    assert (again.attempts, again.finished_at, again.runner) == (
        1,
        first.finished_at,
        process_identity(),
    )
    assert run_plan(database_url, "no-such-plan", rules=RULES) == Elsewhere.MISSING


def test_a_live_runner_keeps_its_claim(
    make_plan: MakePlan, database_url: str, sessions: sessionmaker[Session]
) -> None:
    plan_id = make_plan(
        state="running", runner="another-host:42", heartbeat_at=utcnow(), attempts=1
    )
    assert run_plan(database_url, plan_id, rules=RULES) == Elsewhere.HELD
    held = read(sessions, plan_id)
    assert (held.state, held.runner, held.attempts, held.result) == (
        "running",
        "another-host:42",
        1,
        None,
    )


@pytest.mark.parametrize(
    ("runner", "heartbeat_age_s"),
    [
        ("another-host:42", 60),  # silent for longer than a claim lasts
        (f"{socket.gethostname()}:999999", 0),  # a process of this host that is gone
    ],
    ids=["stale-heartbeat", "dead-process-here"],
)
def test_a_dead_runners_claim_is_taken_over(
    make_plan: MakePlan,
    database_url: str,
    sessions: sessionmaker[Session],
    runner: str,
    heartbeat_age_s: float,
) -> None:
    plan_id = make_plan(
        state="running",
        runner=runner,
        attempts=1,
        heartbeat_at=utcnow() - timedelta(seconds=heartbeat_age_s),
    )
    assert run_plan(database_url, plan_id, rules=RULES) == "finished"
    taken = read(sessions, plan_id)
    assert (taken.state, taken.status, taken.attempts) == ("finished", "optimal", 2)
    assert taken.runner == process_identity()
    assert taken.result is not None
    assert taken.result["cost"]["total"] == 1900.0


def test_a_plan_whose_runners_keep_dying_is_failed(
    make_plan: MakePlan, database_url: str, sessions: sessionmaker[Session]
) -> None:
    plan_id = make_plan(
        state="running",
        runner="another-host:42",
        attempts=3,
        heartbeat_at=utcnow() - timedelta(seconds=60),
    )
    assert run_plan(database_url, plan_id, rules=RULES) == "failed"
    failed = read(sessions, plan_id)
    assert failed.state == "failed"
    assert failed.message is not None
    assert "stopped 3 times" in failed.message


def test_a_runner_whose_claim_was_taken_over_stores_nothing(
    make_plan: MakePlan,
    database_url: str,
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """This runner looked dead (say, paused past the stale limit) and another took over:
    its late result is dropped, the other's stands."""
    plan_id = make_plan()
    solve_inputs = solving.solve_inputs

    def overtaken(inputs: dict[str, Any], **options: Any) -> solving.Solved:
        with sessions.begin() as session:
            plan = session.get(Plan, plan_id)
            assert plan is not None
            plan.runner, plan.attempts = "another-host:7", plan.attempts + 1
        return solve_inputs(inputs, **options)

    monkeypatch.setattr(solving, "solve_inputs", overtaken)
    assert run_plan(database_url, plan_id, rules=RULES) == Elsewhere.HELD
    left = read(sessions, plan_id)
    assert (left.state, left.runner, left.result) == ("running", "another-host:7", None)
