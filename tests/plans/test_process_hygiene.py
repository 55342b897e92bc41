"""The embedded engine's worker processes die with the API: after SIGKILL or SIGTERM of
the API (uvicorn serving the app in a subprocess), no worker, forkserver or resource
tracker it started is left; a plan it was solving is then failed by the claim rules."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.conftest import ROOT
from tests.plans.test_plans import HAND_SCENARIO, planner, small_system

__all__ = ["planner", "small_system"]
HAND_PLAN = {"start": "2024-03", "months": 1, "scenario": HAND_SCENARIO}
GONE_WITHIN_S = 5.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _stat(pid: int) -> tuple[int, str] | None:
    """The parent and the state of a process, or None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[1]), fields[0]


def descendants(root: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            parents[int(entry.name)] = stat[0]
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def running(pids: set[int]) -> set[int]:
    """Those of ``pids`` that still run (a zombie has ended: it only waits to be reaped)."""
    return {pid for pid in pids if (stat := _stat(pid)) is not None and stat[1] != "Z"}


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "(gone)"


class Api:
    """The app served by uvicorn in a process group of its own."""

    def __init__(self, database_url: str, *, start_method: str, delay_s: float) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": database_url,
            "WORKFORCE_ENVIRONMENT": "test",
            "WORKFORCE_LOG_REQUESTS": "false",
            "WORKFORCE_LOG_LEVEL": "WARNING",
            "WORKFORCE_PLAN_START_METHOD": start_method,
            "WORKFORCE_PLAN_WORKERS": "1",
            "SLOW_API_SOLVE_DELAY_S": str(delay_s),
        }
        env.pop("WORKFORCE_BROKER_URL", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.plans.slow_api", str(self.port)],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while True:
            assert self.process.poll() is None, "the API stopped at start-up"
            try:
                if httpx.get(self.base + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the API did not start"
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


@pytest.fixture
def served(database_url: str, small_system: None) -> Iterator[list[Api]]:
    started: list[Api] = []
    yield started
    for api in started:
        api.stop()
        # Whatever a failed test leaves, it does not outlive the test.
        for pid in running(descendants(api.process.pid)):
            os.kill(pid, signal.SIGKILL)


def wait_until_state(api: Api, headers: dict[str, str], plan_id: str, state: str) -> None:
    deadline = time.monotonic() + 60
    while (found := httpx.get(f"{api.base}/v1/plans/{plan_id}", headers=headers).json())[
        "state"
    ] != state:
        assert time.monotonic() < deadline, found
        time.sleep(0.05)


def check_nothing_left(api: Api, children: set[int]) -> None:
    deadline = time.monotonic() + GONE_WITHIN_S
    while left := running(children):
        if time.monotonic() > deadline:
            pytest.fail(
                f"left running {GONE_WITHIN_S} s after the API: "
                + "; ".join(f"{pid}: {command_line(pid)}" for pid in sorted(left))
            )
        time.sleep(0.1)


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
@pytest.mark.parametrize("start_method", ["spawn", "forkserver"])
def test_no_worker_outlives_the_api(
    served: list[Api],
    database_url: str,
    planner: dict[str, str],
    how: signal.Signals,
    start_method: str,
) -> None:
    api = Api(database_url, start_method=start_method, delay_s=0)
    served.append(api)
    solved = httpx.post(f"{api.base}/v1/plans", json=HAND_PLAN, headers=planner, timeout=60)
    assert solved.status_code == 201, solved.text
    children = descendants(api.process.pid)
    lines = [command_line(pid) for pid in children]
    assert any("multiprocessing" in line for line in lines), lines  # the worker, at least
    if start_method != "fork":
        assert any("resource_tracker" in line for line in lines), lines

    os.kill(api.process.pid, how)
    check_nothing_left(api, children)


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_solve_in_progress_is_failed_when_the_api_goes(
    served: list[Api],
    database_url: str,
    settings: Settings,
    planner: dict[str, str],
    how: signal.Signals,
) -> None:
    """Its worker dies with the API; SIGTERM fails the plan at once, and after SIGKILL the
    next start fails it, its runner being a dead process of this host."""
    api = Api(database_url, start_method="fork", delay_s=60)
    served.append(api)
    accepted = httpx.post(
        f"{api.base}/v1/plans",
        json=HAND_PLAN,
        headers={**planner, "Prefer": "respond-async"},
        timeout=60,
    )
    assert accepted.status_code == 202, accepted.text
    plan_id = accepted.json()["id"]
    wait_until_state(api, planner, plan_id, "running")
    children = descendants(api.process.pid)

    os.kill(api.process.pid, how)
    check_nothing_left(api, children)
    api.process.wait(timeout=30)
    with TestClient(create_app(settings)) as restarted:
        plan = restarted.get(f"/v1/plans/{plan_id}", headers=planner).json()
    assert plan["state"] == "failed"
    assert "interrupted" in plan["message"]
