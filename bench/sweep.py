"""Benchmark of sweeps: warm chains against cold solves in-process, or Celery workers.

Creates a throwaway PostgreSQL database, migrates it and loads the synthetic demo data.

By default (no broker needed), it stores two sweeps of 24 months from 2024-04 on the demo
data: 5 x 4 (``turnover_sensitivity.NURSE`` 0.2..1.0 by ``agency_reduction`` 0..0.3) and
10 x 10 (``agency_reduction`` 0..0.3 by ``nursing_capacity_growth`` 0.02..0.12), and solves
their points in this process, in the chains the service hands out (``app.plans.sweeps.
chains``): each point cold (the whole ``optimiser.solve.solve``) and along its chain warm
(``optimiser.chain.Chain.solve``), cold and warm passes alternating, ``--repeats`` of each.
Prints per point the median cold and warm seconds, their ratio and whether the plans are
the same (status, shortfall, cost, targets, do-nothing cost; and whether the allocations
are too, ties between units apart), then the median and spread of the ratio over the warm
points (every point after its chain's first).

With ``--celery`` it starts a private ``redis-server`` as the broker (or uses ``--broker``);
then, for one and
for two ``celery -A app.plans.tasks worker --concurrency 1`` processes, stores a sweep of
5 x 4 scenarios (``turnover_sensitivity.NURSE`` 0.2..1.0 by ``agency_reduction`` 0..0.3,
24 months from 2024-04), publishes its plans and times until every point has ended.
Prints the wall times and their ratio.

With ``--england``, it then stores one plan whose inputs are the England-sized instance of
``bench/optimiser.py`` (1,000 organisations, 200 pools, 60 months), publishes it to one
worker and times it from publishing to the stored result, with the solve's own figures.
That takes many minutes.
Run: ``python bench/sweep.py [--url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
[--repeats 3] [--celery [--england] [--sweep/--no-sweep]]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
if sys.path and Path(sys.path[0]).resolve() == HERE:
    sys.path[0] = str(HERE.parent)

from sqlalchemy import create_engine, make_url, select, text  # noqa: E402

from app.auth import Principal, Scope  # noqa: E402
from app.config import Settings  # noqa: E402
from app.db import make_engine, make_sessionmaker  # noqa: E402
from app.plans import sweeps  # noqa: E402
from app.plans.models import Plan, PlanState  # noqa: E402
from app.plans.queue import CeleryEngine  # noqa: E402
from app.plans.schemas import SweepRequest  # noqa: E402
from bench import migrate  # noqa: E402
from bench.optimiser import SCALES, SEED  # noqa: E402
from optimiser.chain import Chain, same_plan  # noqa: E402
from optimiser.examples import generate  # noqa: E402
from optimiser.problem import Problem  # noqa: E402
from optimiser.result import PlanResult  # noqa: E402
from optimiser.solve import solve  # noqa: E402

PLANNER = Principal("bench", "bench", frozenset({Scope.PLANS_WRITE}), None)
SWEEP = {
    "base": {"start": "2024-04", "months": 24},
    "grid": {
        "turnover_sensitivity.NURSE": {"from": 0.2, "to": 1.0, "steps": 5},
        "agency_reduction": {"from": 0, "to": 0.3, "steps": 4},
    },
}
TARGETS_SWEEP = {
    "base": {"start": "2024-04", "months": 24},
    "grid": {
        "agency_reduction": {"from": 0, "to": 0.3, "steps": 10},
        "nursing_capacity_growth": {"from": 0.02, "to": 0.12, "steps": 10},
    },
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_workers(
    count: int, *, url: str, broker: str, queue: str, logs: Path
) -> list[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "WORKFORCE_BROKER_URL": broker,
        "WORKFORCE_PLAN_QUEUE": queue,
        "WORKFORCE_LOG_LEVEL": "WARNING",
    }
    started = []
    for index in range(count):
        log = logs / f"worker-{count}-{index}.log"
        started.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "app.plans.tasks",
                    "worker",
                    "--queues",
                    queue,
                    "--concurrency",
                    "1",
                    "--hostname",
                    f"bench{index}-{queue}@%h",
                    "--without-gossip",
                    "--without-mingle",
                    "--loglevel",
                    "INFO",
                    "--logfile",
                    str(log),
                ],
                cwd=HERE.parent,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        )
        deadline = time.monotonic() + 120
        while not (log.exists() and " ready." in log.read_text()):
            if time.monotonic() > deadline or started[-1].poll() is not None:
                raise SystemExit(f"a worker did not start; see {log}")
            time.sleep(0.1)
    return started


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        process.wait(timeout=60)


def run_sweep(url: str, broker: str, workers: int, logs: Path) -> float:
    """Wall time of one sweep on ``workers`` processes, from publishing to the last result."""
    queue = f"bench-sweep-{uuid.uuid4().hex[:8]}"
    settings = Settings(database_url=url, broker_url=broker, plan_queue=queue)
    engine = CeleryEngine(settings=settings)
    sessions = make_sessionmaker(make_engine(url))
    with sessions() as session:
        sweep, plan_ids = sweeps.create_sweep(
            session,
            request=SweepRequest.model_validate(SWEEP),
            principal=PLANNER,
            settings=settings,
            owner=engine.identity,
        )
        handed_out = sweeps.chains(sweep, plan_ids)
        session.commit()
    processes = start_workers(workers, url=url, broker=broker, queue=queue, logs=logs)
    try:
        started = time.perf_counter()
        for chain in handed_out:
            engine.submit(chain)
        ended = (PlanState.FINISHED, PlanState.FAILED)
        while True:
            # Only the states: reading the results as they grow would load the machine.
            with sessions() as session:
                states = session.scalars(select(Plan.state).where(Plan.id.in_(plan_ids))).all()
            if all(state in ended for state in states):
                wall = time.perf_counter() - started
                break
            time.sleep(0.2)
        with sessions() as session:
            plans = session.scalars(select(Plan).where(Plan.id.in_(plan_ids))).all()
        failed = [p.id for p in plans if p.state != PlanState.FINISHED]
        if failed:
            raise SystemExit(f"{len(failed)} points failed: {failed}")
        each = [
            p.result["solve"]["build_s"] + p.result["solve"]["solve_s"]
            for p in plans
            if p.result and p.result.get("solve")
        ]
        claimed = [
            (p.finished_at - p.started_at).total_seconds()
            for p in plans
            if p.finished_at and p.started_at
        ]
        print(
            f"{workers} worker(s): {wall:.1f} s wall for {len(each)} plans; per plan, claim "
            f"to stored result: median {statistics.median(claimed):.2f} s, of which build "
            f"+ solve {statistics.median(each):.2f} s"
        )
        return wall
    finally:
        stop(processes)
        engine.shutdown()


def stored_chains(
    url: str, sweep: dict[str, object]
) -> list[list[tuple[dict[str, object], Problem, float]]]:
    """The sweep's points as the service stores them, in the chains it hands out: each
    point's values, problem and time limit."""
    settings = Settings(database_url=url, plan_max_sweep_points=200, plan_max_pending_per_token=200)
    sessions = make_sessionmaker(make_engine(url))
    with sessions() as session:
        stored, plan_ids = sweeps.create_sweep(
            session,
            request=SweepRequest.model_validate(sweep),
            principal=PLANNER,
            settings=settings,
            owner="bench",
        )
        plans = {p.id: p for p in session.scalars(select(Plan).where(Plan.id.in_(plan_ids)))}
        chains = [
            [
                (
                    plans[plan_id].sweep_point or {},
                    Problem.from_dict(plans[plan_id].inputs["problem"]),
                    float(plans[plan_id].inputs["time_limit_s"]),
                )
                for plan_id in chain
            ]
            for chain in sweeps.chains(stored, plan_ids)
        ]
        session.rollback()  # nothing kept: only the stored inputs were wanted
    return chains


Point = tuple[dict[str, object], Problem, float]


def time_chain(
    chain: list[Point], repeats: int
) -> tuple[dict[str, list[float]], list[PlanResult], list[PlanResult]]:
    """Per point the median seconds of the cold solve (``optimiser.solve.solve``) and of
    the warm solve along the chain, the two passes alternating; and the last cold and warm
    results."""
    seconds: dict[str, list[list[float]]] = {kind: [[] for _ in chain] for kind in ("cold", "warm")}
    cold: list[PlanResult] = []
    warm: list[PlanResult] = []
    for _ in range(repeats):
        cold, warm, along = [], [], Chain()
        for kind in ("cold", "warm"):
            for index, (_values, problem, limit) in enumerate(chain):
                started = time.perf_counter()
                if kind == "cold":
                    cold.append(solve(problem, time_limit_s=limit))
                else:
                    warm.append(along.solve(problem, time_limit_s=limit))
                seconds[kind][index].append(time.perf_counter() - started)
    medians = {kind: [statistics.median(each) for each in runs] for kind, runs in seconds.items()}
    return medians, cold, warm


def spread(name: str, ratios: list[float]) -> str:
    quartiles = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else ratios * 3
    return (
        f"{name} median {statistics.median(ratios):.2f}, quartiles {quartiles[0]:.2f}.."
        f"{quartiles[2]:.2f}, range {min(ratios):.2f}..{max(ratios):.2f}"
    )


def run_warm(url: str, name: str, sweep: dict[str, object], repeats: int) -> None:
    """Each point cold and along its chain warm, alternating; the medians and the ratio."""
    chains = stored_chains(url, sweep)
    points = sum(len(chain) for chain in chains)
    print(f"\n{name}: {points} points in {len(chains)} chains, {repeats} repeats", flush=True)
    ratios: list[float] = []
    outcomes = {"same plan": 0, "same allocations": 0}
    for chain in chains:
        medians, cold, warm = time_chain(chain, repeats)
        for index, (values, _problem, _limit) in enumerate(chain):
            c, w = (medians[kind][index] for kind in ("cold", "warm"))
            same = same_plan(warm[index], cold[index])
            allocations = same and warm[index].allocations == cold[index].allocations
            outcomes["same plan"] += same
            outcomes["same allocations"] += allocations
            if index:
                ratios.append(w / c)
            point = ", ".join(f"{key}={value:g}" for key, value in values.items())
            print(
                f"  {point:58s} cold {c:6.3f} s  warm {w:6.3f} s  "
                f"ratio {w / c:4.2f}{'' if index else ' first'}  "
                f"{'same plan' if same else 'DIFFERENT PLAN'}"
                f"{', same allocations' if allocations else ', allocations differ (ties)'}",
                flush=True,
            )
    print(
        f"{name}: warm/cold over {len(ratios)} warm points: {spread('', ratios)}; "
        f"{sum(r <= 1 / 3 for r in ratios)} at or under 1/3; "
        f"{outcomes['same plan']} of {points} the same plan, "
        f"{outcomes['same allocations']} with the same allocations",
        flush=True,
    )


def run_england(url: str, broker: str, logs: Path, time_limit_s: float) -> None:
    """One England-sized plan on one worker: wall time from publishing to stored result."""
    organisations, pools, months = SCALES["england"]
    problem = generate(organisations=organisations, pools=pools, months=months, seed=SEED)
    queue = f"bench-england-{uuid.uuid4().hex[:8]}"
    settings = Settings(database_url=url, broker_url=broker, plan_queue=queue)
    engine = CeleryEngine(settings=settings)
    sessions = make_sessionmaker(make_engine(url))
    plan_id = uuid.uuid4().hex
    with sessions() as session:
        session.add(
            Plan(
                id=plan_id,
                start=problem.start,
                months=problem.months,
                request={"start": problem.start, "months": problem.months, "bench": "england"},
                inputs={"problem": problem.to_dict(), "time_limit_s": time_limit_s},
                requested_by=PLANNER.name,
                owner=engine.identity,
            )
        )
        session.commit()
    processes = start_workers(1, url=url, broker=broker, queue=queue, logs=logs)
    try:
        started = time.perf_counter()
        engine.submit([plan_id])
        while True:
            with sessions() as session:
                state = session.scalars(select(Plan.state).where(Plan.id == plan_id)).one()
            if state in (PlanState.FINISHED, PlanState.FAILED):
                wall = time.perf_counter() - started
                break
            time.sleep(1.0)
        with sessions() as session:
            plan = session.get(Plan, plan_id)
            assert plan is not None
            figures = (plan.result or {}).get("solve") or {}
            print(
                f"England plan on one worker: {plan.state}, {plan.status}; {wall:.0f} s from "
                f"publishing to stored result; {figures.get('variables', 0):,} variables, "
                f"{figures.get('constraints', 0):,} rows, build {figures.get('build_s', 0):.0f} s, "
                f"solve {figures.get('solve_s', 0):.0f} s ({figures.get('solver', '')})",
                flush=True,
            )
            if plan.state != PlanState.FINISHED:
                print(f"  {plan.message}")
    finally:
        stop(processes)


def run_celery(args: argparse.Namespace, url: str, logs: Path) -> None:
    """The 20-point sweep on one Celery worker then two, and the England plan if asked."""
    redis: subprocess.Popen[bytes] | None = None
    try:
        broker = args.broker
        if broker is None:
            if shutil.which("redis-server") is None:
                raise SystemExit("no redis-server to start: give --broker")
            port = free_port()
            redis = subprocess.Popen(
                ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
                stdout=subprocess.DEVNULL,
                cwd=logs,
            )
            broker = f"redis://127.0.0.1:{port}/0"
            time.sleep(0.5)
        if args.sweep:
            walls = {}
            for workers in (1, 2):
                walls[workers] = run_sweep(url, broker, workers, logs)
            print(f"ratio 1 worker / 2 workers: {walls[1] / walls[2]:.2f}x")
        if args.england:
            run_england(url, broker, logs, args.england_time_limit)
    finally:
        if redis is not None:
            redis.terminate()
            redis.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--repeats", type=int, default=3, help="cold and warm solves per point")
    parser.add_argument("--celery", action="store_true", help="1 vs 2 Celery workers instead")
    parser.add_argument("--broker", help="with --celery: a broker URL; default a private redis")
    parser.add_argument("--england", action="store_true", help="with --celery: the England plan")
    parser.add_argument("--sweep", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--england-time-limit", type=float, default=1800.0)
    args = parser.parse_args()
    server = make_url(args.url)
    name = f"workforce_bench_sweep_{os.getpid()}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    url = server.set(database=name).render_as_string(hide_password=False)
    logs = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    try:
        migrate(url, demo=True)
        print(
            f"sweeps: 24 months from 2024-04, demo data; {os.cpu_count()} cores, "
            f"load average {os.getloadavg()[0]:.1f} at the start"
        )
        if args.celery:
            run_celery(args, url, logs)
        else:
            run_warm(
                url, "5 x 4 turnover_sensitivity.NURSE x agency_reduction", SWEEP, args.repeats
            )
            run_warm(
                url,
                "10 x 10 agency_reduction x nursing_capacity_growth",
                TARGETS_SWEEP,
                args.repeats,
            )
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


if __name__ == "__main__":
    main()
