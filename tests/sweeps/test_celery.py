"""Plans and sweeps on Celery workers started as subprocesses against the test database.

A private ``redis-server`` is started as the broker when one is installed (else
``SWEEP_TEST_BROKER_URL``, default Redis db 5 of the local server); the test that kills a
whole worker uses RabbitMQ (``SWEEP_TEST_AMQP_URL``, default the local guest account) with
a queue of its own. A test is skipped, saying why, only when its broker cannot be reached.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from kombu.connection import Connection
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.main import create_app
from app.plans.models import Plan
from tests.conftest import TokenFactory
from tests.plans.test_plans import HAND_SCENARIO
from tests.plans.test_submission import plan_through_the_form
from tests.sweeps.test_sweeps import wait_for_sweep

ROOT = Path(__file__).resolve().parents[2]
BASE: dict[str, Any] = {"start": "2024-03", "months": 1, "scenario": HAND_SCENARIO}
SIX_POINTS = {
    "pool_capacity_wte.T-NURSE": [12, 6, 0],
    "travel_cost_per_wte_month": [50, 100],
}
# By hand (see test_sweeps): a 6 WTE pool all goes to RHM at home (£600), agency covers
# RHM's other 4 and RHU's 5 (£1,800); with no pool everything is agency (£3,000).
SIX_COSTS = {(12, 50): 1900.0, (12, 100): 2000.0, (6, 50): 2400.0, (6, 100): 2400.0}


def reachable(url: str) -> bool:
    try:
        with Connection(url, connect_timeout=2) as connection:  # type: ignore[no-untyped-call]
            connection.ensure_connection(max_retries=1, interval_start=0, timeout=3)
    except Exception:
        return False
    return True


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class PrivateRedis:
    """A redis-server of this test run alone, which a test may stop and start again."""

    directory: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while not reachable(self.url):
            assert time.monotonic() < deadline, "the private redis-server did not start"
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=20)
            self.process = None


@pytest.fixture(scope="session")
def private_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateRedis | None]:
    if shutil.which("redis-server") is None:
        yield None
        return
    redis = PrivateRedis(tmp_path_factory.mktemp("redis"))
    redis.start()
    yield redis
    redis.stop()


@pytest.fixture(scope="session")
def broker_url(private_redis: PrivateRedis | None) -> str:
    if private_redis is not None:
        return private_redis.url
    url = os.environ.get("SWEEP_TEST_BROKER_URL", "redis://127.0.0.1:6379/5")
    if not reachable(url):
        pytest.skip(f"no redis-server to start and no broker at {url} (SWEEP_TEST_BROKER_URL)")
    return url


@pytest.fixture
def queue() -> str:
    """A queue of this test alone, so that nobody else's workers take its tasks."""
    return f"workforce-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def settings(settings: Settings, broker_url: str, queue: str) -> Settings:
    return settings.model_copy(update={"broker_url": broker_url, "plan_queue": queue})


@dataclass
class Workers:
    """``celery worker`` subprocesses, each in a process group of its own."""

    database_url: str
    logs: Path
    started: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, count: int, *, broker_url: str, queue: str, delay_s: float) -> None:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": self.database_url,
            "WORKFORCE_ENVIRONMENT": "test",
            "WORKFORCE_BROKER_URL": broker_url,
            "WORKFORCE_PLAN_QUEUE": queue,
            "WORKFORCE_PLAN_HEARTBEAT_S": "0.5",
            "WORKFORCE_PLAN_CLAIM_STALE_S": "5",
            "WORKFORCE_LOG_LEVEL": "WARNING",
            "SWEEP_TEST_SOLVE_DELAY_S": str(delay_s),
        }
        new = []
        for _ in range(count):
            name = f"w{len(self.started)}"
            log = self.logs / f"{name}.log"
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "tests.sweeps.slow_worker",
                    "worker",
                    "--queues",
                    queue,
                    "--concurrency",
                    "1",
                    "--pool",
                    "prefork",
                    "--hostname",
                    f"{name}-{queue}@%h",
                    "--without-gossip",
                    "--without-mingle",
                    "--loglevel",
                    "INFO",
                    "--logfile",
                    str(log),
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            self.started.append(process)
            new.append((process, log))
        deadline = time.monotonic() + 60
        for process, log in new:
            while not (log.exists() and " ready." in log.read_text()):
                assert process.poll() is None, f"a worker stopped at start-up: see {log}"
                assert time.monotonic() < deadline, f"a worker did not start: see {log}"
                time.sleep(0.1)

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.started:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture
def workers(database_url: str, tmp_path: Path) -> Iterator[Workers]:
    started = Workers(database_url=database_url, logs=tmp_path)
    yield started
    started.stop_all()


def sweep_plans(sessions: sessionmaker[Session], sweep_id: str) -> list[Plan]:
    with sessions() as session:
        return list(
            session.scalars(
                select(Plan).where(Plan.sweep_id == sweep_id).order_by(Plan.sweep_index)
            )
        )


def check_every_point_solved_once(
    client: TestClient, planner: dict[str, str], sweep_id: str, sessions: sessionmaker[Session]
) -> list[Plan]:
    sweep = wait_for_sweep(client, planner, sweep_id)
    assert (sweep["state"], sweep["done"], sweep["failed"], sweep["total"]) == (
        "finished",
        6,
        0,
        6,
    )
    for point in sweep["points"]:
        values = point["values"]
        key = (values["pool_capacity_wte.T-NURSE"], values["travel_cost_per_wte_month"])
        assert point["total_cost"] == SIX_COSTS.get(key, 3000.0), point
    plans = sweep_plans(sessions, sweep_id)
    assert len(plans) == 6
    assert sorted(p.sweep_index or 0 for p in plans) == list(range(6))
    assert all(p.state == "finished" and p.result is not None for p in plans)
    return plans


def wait_until_running(sessions: sessionmaker[Session], sweep_id: str) -> Plan:
    deadline = time.monotonic() + 60
    while True:
        running = [p for p in sweep_plans(sessions, sweep_id) if p.state == "running"]
        if running:
            return running[0]
        assert time.monotonic() < deadline, "no point of the sweep started"
        time.sleep(0.05)


def post_sweep(client: TestClient, planner: dict[str, str]) -> str:
    response = client.post(
        "/v1/plans/sweeps", json={"base": BASE, "grid": SIX_POINTS}, headers=planner
    )
    assert response.status_code == 202, response.text
    sweep_id: str = response.json()["id"]
    return sweep_id


def test_a_sweep_completes_on_two_workers(
    client: TestClient,
    planner: dict[str, str],
    small_system: None,
    workers: Workers,
    settings: Settings,
    sessions: sessionmaker[Session],
) -> None:
    assert settings.broker_url is not None
    workers.start(2, broker_url=settings.broker_url, queue=settings.plan_queue, delay_s=0.5)
    sweep_id = post_sweep(client, planner)
    plans = check_every_point_solved_once(client, planner, sweep_id, sessions)
    assert len({p.runner for p in plans}) == 2, "both workers should have solved points"
    assert {p.attempts for p in plans} == {1}

    # A plan on its own goes the same way, and POST waits for it as in the embedded case.
    response = client.post("/v1/plans", json=BASE, headers={**planner, "Prefer": "wait=60"})
    assert response.status_code == 201, response.text
    assert response.json()["cost"]["total"] == 1900.0


def test_a_worker_killed_mid_solve_loses_nothing_and_solves_nothing_twice(
    client: TestClient,
    planner: dict[str, str],
    small_system: None,
    workers: Workers,
    settings: Settings,
    sessions: sessionmaker[Session],
) -> None:
    """SIGKILL the process solving a point, the first of its chain: the worker hands the
    chain's task back to the broker (acks_late, reject_on_worker_lost), a worker takes it
    again, takes over the dead claim and goes on with the rest of the chain; every point
    ends solved, once."""
    assert settings.broker_url is not None
    workers.start(2, broker_url=settings.broker_url, queue=settings.plan_queue, delay_s=2)
    sweep_id = post_sweep(client, planner)
    victim = wait_until_running(sessions, sweep_id)
    assert victim.runner is not None
    # The chains are a pool capacity's two travel costs: points 0-1, 2-3 and 4-5.
    assert victim.sweep_index is not None
    assert victim.sweep_index % 2 == 0
    os.kill(int(victim.runner.rpartition(":")[2]), signal.SIGKILL)

    plans = check_every_point_solved_once(client, planner, sweep_id, sessions)
    again = next(p for p in plans if p.id == victim.id)
    assert again.attempts == 2
    assert again.runner != victim.runner
    assert {p.attempts for p in plans if p.id != victim.id} == {1}
    # The rest of the chain was solved after the takeover, by the process that took it.
    rest = next(p for p in plans if p.sweep_index == victim.sweep_index + 1)
    assert rest.runner == again.runner != victim.runner
    assert rest.started_at is not None
    assert again.finished_at is not None
    assert rest.started_at >= again.finished_at


def test_a_whole_worker_killed_on_rabbitmq_loses_nothing(
    planner: dict[str, str],
    small_system: None,
    workers: Workers,
    settings: Settings,
    sessions: sessionmaker[Session],
) -> None:
    """SIGKILL a worker and its pool at once: RabbitMQ redelivers the unacknowledged task
    as soon as the connection drops, and the other worker finishes the sweep."""
    amqp = os.environ.get("SWEEP_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
    if not reachable(amqp):
        pytest.skip(f"no RabbitMQ at {amqp} (SWEEP_TEST_AMQP_URL)")
    on_rabbit = settings.model_copy(update={"broker_url": amqp})
    try:
        with TestClient(create_app(on_rabbit)) as client:
            workers.start(2, broker_url=amqp, queue=on_rabbit.plan_queue, delay_s=2)
            sweep_id = post_sweep(client, planner)
            victim = wait_until_running(sessions, sweep_id)
            assert victim.runner is not None
            os.killpg(os.getpgid(int(victim.runner.rpartition(":")[2])), signal.SIGKILL)

            plans = check_every_point_solved_once(client, planner, sweep_id, sessions)
            again = next(p for p in plans if p.id == victim.id)
            assert again.attempts == 2
            assert again.runner != victim.runner
    finally:
        with Connection(amqp) as connection:  # type: ignore[no-untyped-call]
            connection.default_channel.queue_delete(on_rabbit.plan_queue)


def test_with_the_broker_down_new_plans_answer_503_and_stored_ones_stay_readable(
    planner: dict[str, str],
    small_system: None,
    workers: Workers,
    settings: Settings,
    sessions: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    broker: PrivateRedis | Callable[[], None] | None = None
    if shutil.which("redis-server") is not None:
        broker = PrivateRedis(tmp_path)
        broker.start()
        url = broker.url
    else:
        url = settings.broker_url or ""
    on_own = settings.model_copy(update={"broker_url": url})
    with TestClient(create_app(on_own)) as client:
        workers.start(1, broker_url=url, queue=on_own.plan_queue, delay_s=0)
        stored = client.post("/v1/plans", json=BASE, headers={**planner, "Prefer": "wait=60"})
        assert stored.status_code == 201, stored.text
        with sessions() as session:
            before = session.scalar(select(func.count()).select_from(Plan))

        if isinstance(broker, PrivateRedis):
            broker.stop()
            down = client
        else:
            closed = f"redis://127.0.0.1:{free_port()}/0"
            down = TestClient(create_app(on_own.model_copy(update={"broker_url": closed})))
        with down:
            refused = down.post("/v1/plans", json=BASE, headers=planner)
            assert refused.status_code == 503
            assert refused.headers["content-type"] == "application/problem+json"
            assert "broker" in refused.json()["detail"]
            assert "Retry-After" in refused.headers
            swept = down.post(
                "/v1/plans/sweeps", json={"base": BASE, "grid": SIX_POINTS}, headers=planner
            )
            assert swept.status_code == 503
            assert swept.headers["content-type"] == "application/problem+json"
            plan_id = stored.json()["id"]
            assert down.get(f"/v1/plans/{plan_id}", headers=planner).status_code == 200
            assert down.get("/v1/plans", headers=planner).json()["total"] == before
        with sessions() as session:
            assert session.scalar(select(func.count()).select_from(Plan)) == before

        if isinstance(broker, PrivateRedis):
            broker.start()  # the same port: the API and the worker reconnect
        accepted = client.post(
            "/v1/plans", json=BASE, headers={**planner, "Prefer": "respond-async"}
        )
        assert accepted.status_code == 202, accepted.text
        deadline = time.monotonic() + 90
        location = accepted.headers["location"]
        while (plan := client.get(location, headers=planner).json())["state"] != "finished":
            assert time.monotonic() < deadline, plan
            time.sleep(0.2)
        assert plan["cost"]["total"] == 1900.0
    if isinstance(broker, PrivateRedis):
        broker.stop()


def test_the_plan_form_makes_a_plan_and_shows_it_on_celery(
    app: FastAPI,
    make_token: TokenFactory,
    small_system: None,
    workers: Workers,
    settings: Settings,
) -> None:
    """The page submits as the API does: published to the broker, solved by a worker, the
    page waiting on the plan's row; the solve is counted in this API's metrics."""
    assert settings.broker_url is not None
    workers.start(1, broker_url=settings.broker_url, queue=settings.plan_queue, delay_s=0)
    plan = plan_through_the_form(app, make_token("plans:write", "read", name="lead"))
    assert plan["requested_by"].startswith("lead")
