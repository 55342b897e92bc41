"""Under load, through a real server and real concurrent clients: every request answers,
quickly, with its answer or 503 and Retry-After; never a 500, never a stall; concurrent
writers queue (on SQLite too) rather than fail."""

from __future__ import annotations

import http.client
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from app.config import Settings
from app.main import create_app
from tests.conftest import bearer, line
from tests.serving import Answer, Call, burst, refusals_are_well_formed, served

Headers = Callable[[str], dict[str, str]]
SLOWEST_S = 5.0


@pytest.fixture
def server(app: FastAPI) -> Iterator[str]:
    with served(app) as url:
        yield url


@pytest.fixture
def planning_server(engine: Engine, settings: Settings) -> Iterator[str]:
    """The app as it is deployed: its plan workers started with it, not forked on the
    first plan (a process forked while other threads hold SQLite's locks inherits
    them, and its writes then wait for locks that nobody will release)."""
    deployed = settings.model_copy(update={"plan_start_method": "spawn", "plan_prewarm": True})
    with served(create_app(deployed)) as url:
        yield url


def statuses(answers: list[Answer]) -> Counter[int | None]:
    return Counter(answer.status for answer in answers)


def slowest(answers: list[Answer]) -> float:
    return max(answer.elapsed_s for answer in answers)


def post_returns(base_url: str, headers: Headers, *periods: str) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for org in ("RHM", "RHU"):
            for period in periods:
                response = client.put(
                    f"/v1/organisations/{org}/returns/{period}",
                    json={"lines": [line(), line("SUPPORT", establishment_wte=300)]},
                    headers=headers(org),
                )
                assert response.status_code == 201, response.text


def test_sixty_concurrent_reads_on_one_token_all_answer_at_once(
    server: str, writer_headers: Headers
) -> None:
    """Each request used to hold a pooled connection from its token check to its end:
    60 at once took every thread and connection, and waited 30 s for each other."""
    hr = writer_headers("RHM")
    calls = [Call("GET", "/v1/staff-groups", hr)] * 60
    readiness: list[Answer] = []

    def probe() -> None:
        time.sleep(0.2)
        readiness.extend(burst(server, [Call("GET", "/readyz", {})], timeout_s=10))

    prober = threading.Thread(target=probe)
    prober.start()
    answers = burst(server, calls, timeout_s=15)
    prober.join()

    assert statuses(answers) == {200: 60}, statuses(answers)
    assert slowest(answers) < SLOWEST_S, slowest(answers)
    assert readiness[0].status == 200
    assert readiness[0].elapsed_s < 3.0, readiness[0].elapsed_s


def test_two_hundred_concurrent_metric_reads_answer_or_are_refused_quickly(
    app: FastAPI, server: str, writer_headers: Headers, reader_headers: dict[str, str]
) -> None:
    post_returns(server, writer_headers, "2024-03", "2024-04")
    calls = [Call("GET", "/v1/metrics?level=organisation", reader_headers)] * 200
    calls += [Call("GET", "/healthz", {})] * 5
    answers = burst(server, calls, timeout_s=15)

    counted = statuses(answers)
    assert set(counted) <= {200, 503}, counted
    assert counted[200] > 0, counted
    assert refusals_are_well_formed(answers) == []
    assert slowest(answers) < SLOWEST_S, slowest(answers)
    assert all(answer.status == 200 for answer in answers[-5:])


def test_a_saturated_service_refuses_at_once_with_retry_after(
    settings: Settings, writer_headers: Headers, reader_headers: dict[str, str]
) -> None:
    """One request at a time and no queue: the others are refused, not kept waiting."""
    narrow = settings.model_copy(update={"max_concurrent_requests": 1, "max_queued_requests": 0})
    with served(create_app(narrow)) as url:
        post_returns(url, writer_headers, "2024-04")
        answers = burst(url, [Call("GET", "/v1/metrics?level=organisation", reader_headers)] * 40)
        health = burst(url, [Call("GET", "/readyz", {})])
    counted = statuses(answers)
    assert counted[503] > 0, counted
    assert set(counted) <= {200, 503}, counted
    assert refusals_are_well_formed(answers) == []
    refused = [a for a in answers if a.status == 503]
    assert {a.headers["retry-after"] for a in refused} == {"1"}
    assert max(a.elapsed_s for a in refused) < 3.0
    assert health[0].status == 200


def test_twenty_concurrent_token_creations_queue_for_the_write(
    server: str, admin_headers: dict[str, str]
) -> None:
    calls = [
        Call("POST", "/v1/tokens", admin_headers, {"name": f"feed {n}", "scopes": ["read"]})
        for n in range(20)
    ]
    answers = burst(server, calls)
    assert statuses(answers) == {201: 20}, [a.body[:300] for a in answers if a.status != 201]
    assert slowest(answers) < SLOWEST_S


@pytest.fixture
def planner(
    planning_server: str,
    writer_headers: Headers,
    admin_headers: dict[str, str],
    make_token: Callable[..., str],
) -> dict[str, str]:
    """Returns of RHM and RHU and a nursing bank pool to plan with; a planner's token."""
    post_returns(planning_server, writer_headers, "2024-02", "2024-03")
    pool = {
        "code": "T-NURSE",
        "name": "Test nursing bank",
        "home_place": "Southampton",
        "covers": ["NURSE"],
        "cost_per_wte_month": 100,
        "capacity_wte": 12,
    }
    with httpx.Client(base_url=planning_server) as client:
        assert client.post("/v1/bank/pools", json=pool, headers=admin_headers).status_code == 201
    return bearer(make_token("plans:write", "read", name="planner"))


PLAN: dict[str, Any] = {
    "start": "2024-03",
    "months": 1,
    "scenario": {"organisations": ["RHM", "RHU"], "pools": ["T-NURSE"], "time_limit_s": 5},
}


def test_five_concurrent_plan_requests_are_all_taken(
    planning_server: str, planner: dict[str, str]
) -> None:
    answers = burst(planning_server, [Call("POST", "/v1/plans", planner, PLAN)] * 5, timeout_s=60)
    assert set(statuses(answers)) <= {201, 202}, [a.body[:300] for a in answers]


def test_an_hr_feed_amends_while_a_plan_is_requested(
    planning_server: str, planner: dict[str, str], writer_headers: Headers
) -> None:
    hr = writer_headers("RHM")
    amendments = [
        Call(
            "PUT",
            "/v1/organisations/RHM/returns/2024-03",
            hr,
            # One staff group's lines standing for the whole return.
            {
                "amendment_reason": f"late leavers {n}",
                "replace_all": True,
                "lines": [line(leavers_wte=11 + n)],
            },
        )
        for n in range(8)
    ]
    plans = [Call("POST", "/v1/plans", planner, PLAN)] * 2
    answers = burst(planning_server, [*plans, *amendments], timeout_s=60)
    assert set(statuses(answers[:2])) <= {201, 202}, [a.body[:300] for a in answers[:2]]
    assert statuses(answers[2:]) == {200: 8}, [a.body[:300] for a in answers[2:]]


def test_a_500_keeps_the_connection(app: FastAPI) -> None:
    """Starlette raises an unhandled error on to the server after answering it, and the
    server then drops the client's keep-alive connection."""

    def fail() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/v1/fail-for-test", fail, include_in_schema=False)
    with served(app) as url:
        parts = urlsplit(url)
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
        connection.request("GET", "/v1/fail-for-test")
        failed = connection.getresponse()
        body = failed.read()
        sock = connection.sock
        assert failed.status == 500
        assert failed.getheader("content-type", "").startswith("application/problem+json")
        assert b"nothing was stored" in body
        connection.request("GET", "/healthz")
        after = connection.getresponse()
        assert after.status == 200
        assert after.read() == b'{"status":"ok"}'
        assert connection.sock is sock
        connection.close()
