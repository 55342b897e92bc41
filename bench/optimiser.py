"""Benchmark of the whole plan at several scales against a direct-highspy reference.

For each scale, one problem (the demo's, or generated with a fixed seed) is planned
several times, alternating the two, each run in a fresh process:

- ours: ``optimiser.solve.solve``, everything ``POST /v1/plans`` asks of the optimiser:
  the plan's model built as arrays and solved in its two stages by HiGHS, the do-nothing
  plan on a second thread meanwhile, the report read back, and, when a target is out of
  reach, the gap levers' re-solves;
- reference: the same solves straight through ``highspy``, with nothing read back: the
  same arrays passed to HiGHS and solved the same way (the two stages on one HiGHS
  object, the do-nothing plan on a second thread, the levers' shortfall re-solves by
  ``optimiser.levers.gap_levers``, whose only work besides them is naming each lever).

It prints each run (wall and CPU seconds, the plan's build, peak memory of its process),
then per scale the median and range of each and the ratio of the medians, in wall time
and in CPU time: on a machine shared with other work the wall time swells with the load,
CPU time much less. The build share is our plan's build over our whole plan. Each solve
stops at ``--time-limit`` seconds (default 900). Run: ``python bench/optimiser.py
[--scales demo,demo-hard,hiow,region,england] [--runs N] [--time-limit S] [--plan-only]``;
``--runs`` (default 3) applies to the scales under 100,000 columns, the larger ones run
once each; ``--plan-only`` times the plan's two stages alone (no do-nothing plan, no
levers), ours reading the report back and the reference not.
``demo`` is the service's own 60-month plan on the demo data (HIOW's 14 organisations);
``demo-hard`` is the README's harder plan (24 months, 30% less agency and 10% more
nursing capacity), whose targets are out of reach (so its gap levers are measured too).
Absolute times drift on shared machines; the ratios, measured in the same run, are the
figures to compare.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import resource
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Run as a script, this file's folder comes first on the path and its name would hide
# the optimiser package: look in the project instead.
HERE = Path(__file__).resolve().parent
if sys.path and Path(sys.path[0]).resolve() == HERE:
    sys.path[0] = str(HERE.parent)

from optimiser.examples import generate  # noqa: E402
from optimiser.levers import gap_levers  # noqa: E402
from optimiser.model import Model, build  # noqa: E402
from optimiser.problem import Problem  # noqa: E402
from optimiser.result import SolveStatus  # noqa: E402
from optimiser.solve import PLAN_STAGES, report, solve  # noqa: E402
from optimiser.solver import SolverRun, run_highs, zero_shortfall  # noqa: E402

SCALES = {
    # name: organisations, pools, months (9 staff groups each)
    "hiow": (12, 16, 60),
    "region": (150, 40, 60),
    "england": (1000, 200, 60),
}
SEED = 20261123
HARDER = {"agency_reduction": 0.3, "nursing_capacity_growth": 0.10}
REPEATED_BELOW = 100_000  # columns: smaller scales run --runs times, larger ones once


def demo_start() -> str:
    """The latest month that has ended, from which the README's plans start."""
    from app.clock import system_today

    today = system_today()
    return f"{today.year - (today.month == 1)}-{(today.month - 2) % 12 + 1:02d}"


def demo_problem(months: int = 60, scenario: dict[str, Any] | None = None) -> Problem:
    """The problem ``POST /v1/plans`` solves for a ``months``-month plan from the latest
    month that has ended, on the synthetic demo returns: loaded into a throwaway SQLite
    database and gathered by the service's own code."""
    from app.db import make_engine, make_sessionmaker
    from app.plans.inputs import gather, stored_targets
    from app.plans.schemas import PlanRequest
    from app.plans.solving import build_problem
    from bench import migrate

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/demo.db"
        migrate(url, demo=True)
        engine = make_engine(url)
        with make_sessionmaker(engine)() as session:
            request = PlanRequest.model_validate(
                {"start": demo_start(), "months": months, "scenario": scenario or {}}
            )
            built = build_problem(
                gather(session, request=request),
                request=request,
                targets=stored_targets(session),
                default_time_limit_s=60,
            )
        engine.dispose()
    return Problem.from_dict(built["problem"])


def problem_of(scale: str) -> Problem:
    if scale == "demo":
        return demo_problem()
    if scale == "demo-hard":
        return demo_problem(months=24, scenario=HARDER)
    organisations, pools, months = SCALES[scale]
    return generate(organisations=organisations, pools=pools, months=months, seed=SEED)


@dataclass
class Run:
    who: str
    variables: int
    rows: int
    nonzeros: int
    build_s: float  # the plan's model
    total_s: float  # the whole plan, wall
    cpu_s: float  # the whole plan, CPU of every thread
    peak_mb: float
    status: str
    solves: int  # HiGHS runs of a model: the plan, doing nothing, the levers


def measure(scale: str, *, ours: bool, time_limit_s: float, plan_only: bool = False) -> Run:
    """One whole plan (or with ``plan_only`` the plan's two stages alone) in a fresh
    process, so that its peak memory is its own; the problem is made in that process
    too."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        run: Run = pool.apply(_measure, (scale, ours, time_limit_s, plan_only))
    return run


def _measure(scale: str, ours: bool, time_limit_s: float, plan_only: bool) -> Run:
    problem = problem_of(scale)
    gc.collect()
    started, cpu_started = time.perf_counter(), time.process_time()
    if plan_only:
        shape, build_s, status, solves = plan_alone(problem, time_limit_s, ours=ours)
    elif ours:
        result = solve(problem, time_limit_s=time_limit_s)
        assert result.solve is not None
        figures = result.solve
        shape = (figures.variables, figures.constraints, figures.nonzeros)
        build_s, status = figures.build_s, result.status.value
        solves = 2 + resolves(result.gap_levers)
    else:
        shape, build_s, status, solves = reference_plan(problem, time_limit_s)
    total_s = time.perf_counter() - started
    cpu_s = time.process_time() - cpu_started
    return Run(
        who="ours" if ours else "reference",
        variables=shape[0],
        rows=shape[1],
        nonzeros=shape[2],
        build_s=build_s,
        total_s=total_s,
        cpu_s=cpu_s,
        peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        status=status,
        solves=solves,
    )


def resolves(levers: list[dict[str, Any]]) -> int:
    """How many of the levers were re-solved (the pools' come from the plan's duals)."""
    return sum(1 for lever in levers if lever["lever"] != "pool")


def plan_alone(
    problem: Problem, time_limit_s: float, *, ours: bool
) -> tuple[tuple[int, int, int], float, str, int]:
    """The plan's two stages alone (no do-nothing plan, no levers): ours reads the
    report back (``optimiser.solve.report``), the reference does not."""
    started = time.perf_counter()
    model = build(problem)
    build_s = time.perf_counter() - started
    outcome = run_highs(model, time_limit_s=time_limit_s, threads=1, stages=PLAN_STAGES)
    if ours and outcome.values is not None:
        status = report(model, outcome).status
    else:
        status = reference_status(model, outcome)
    return (model.layout.count, model.num_rows, model.nonzeros), build_s, status.value, 1


def reference_status(model: Model, outcome: SolverRun) -> SolveStatus:
    """The plan's status as the reference names it, with nothing read back: optimal, or
    out of reach when its least shortfall is above zero."""
    if outcome.status is SolveStatus.OPTIMAL and (outcome.shortfall or 0.0) > zero_shortfall(model):
        return SolveStatus.TARGETS_UNREACHABLE
    return outcome.status


def reference_plan(
    problem: Problem, time_limit_s: float
) -> tuple[tuple[int, int, int], float, str, int]:
    """The solves of a whole plan straight through highspy: the plan's two stages, the
    do-nothing plan's on a second thread, and when a target is out of reach the levers'
    shortfall stages from the plan's basis. Returns the shape, the plan's build seconds,
    its status and the number of solves."""
    started = time.perf_counter()

    def nothing() -> None:
        run_highs(build(problem, without_bank=True), time_limit_s=time_limit_s, threads=1)

    with ThreadPoolExecutor(max_workers=1) as beside:
        baseline = beside.submit(nothing)
        model = build(problem)
        build_s = time.perf_counter() - started
        outcome = run_highs(model, time_limit_s=time_limit_s, threads=1, stages=PLAN_STAGES)
        solves = 2
        status = reference_status(model, outcome)
        if status is SolveStatus.TARGETS_UNREACHABLE:
            # The levers' re-solves as the plan runs them (all at once, from the plan's
            # basis); nothing of them is read but the shortfall each reaches.
            levers = gap_levers(model, outcome, deadline=started + time_limit_s, threads=1)
            solves += resolves(levers)
        baseline.result()
    return (model.layout.count, model.num_rows, model.nonzeros), build_s, status.value, solves


def _spread(values: list[float], digits: int = 3) -> str:
    middle = statistics.median(values)
    if len(values) == 1:
        return f"{middle:.{digits}f}"
    return f"{middle:.{digits}f} ({min(values):.{digits}f} to {max(values):.{digits}f})"


def summarise(scale: str, runs: list[Run]) -> None:
    ours = [r for r in runs if r.who == "ours"]
    reference = [r for r in runs if r.who == "reference"]
    statuses = {r.status for r in runs}
    first = ours[0]
    print(
        f"\n{scale}: {first.variables:,} columns, {first.rows:,} rows, "
        f"{first.nonzeros:,} non-zeros; {len(ours)} run(s) each; status "
        f"{', '.join(sorted(statuses))}; {first.solves} solves per plan"
    )
    ours_wall = statistics.median(r.total_s for r in ours)
    ref_wall = statistics.median(r.total_s for r in reference)
    ours_cpu = statistics.median(r.cpu_s for r in ours)
    ref_cpu = statistics.median(r.cpu_s for r in reference)
    share = [100 * r.build_s / r.total_s for r in ours]
    print(f"  ours, whole plan (wall s):      {_spread([r.total_s for r in ours])}")
    print(f"  reference, same solves (wall s): {_spread([r.total_s for r in reference])}")
    print(f"  ours, plan's build (s):          {_spread([r.build_s for r in ours])}")
    print(f"  ours, build share (%):           {_spread(share, 1)}")
    print(
        f"  ours / reference CPU s:          {_spread([r.cpu_s for r in ours])} / "
        f"{_spread([r.cpu_s for r in reference])}"
    )
    print(
        f"  peak MB, ours / reference:       {max(r.peak_mb for r in ours):.0f} / "
        f"{max(r.peak_mb for r in reference):.0f}"
    )
    if len(statuses) == 1 and statuses <= {"optimal", "targets_unreachable"}:
        pairs = [o.total_s / r.total_s for o, r in zip(ours, reference, strict=True)]
        print(
            f"  ratio of medians, wall: {ours_wall / ref_wall:.2f}x  CPU: "
            f"{ours_cpu / ref_cpu:.2f}x  (run by run, wall: "
            f"{', '.join(f'{p:.2f}' for p in pairs)})",
            flush=True,
        )
    else:
        print("  no ratio: the runs did not all end with a plan of the same status", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", default="demo,demo-hard,hiow,region")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--time-limit", type=float, default=900.0)
    parser.add_argument(
        "--plan-only",
        action="store_true",
        help="the plan's two stages alone: no do-nothing plan, no levers",
    )
    args = parser.parse_args()
    header = (
        f"{'scale':9} {'run':>3} {'who':9} {'build s':>8} {'total s':>8} {'cpu s':>8} "
        f"{'peak MB':>8} {'solves':>6}  status"
    )
    print(header)
    print("-" * len(header))
    for scale in args.scales.split(","):
        runs: list[Run] = []
        repeats = args.runs
        for index in range(max(1, repeats)):
            for ours in (False, True) if index % 2 == 0 else (True, False):
                run = measure(
                    scale, ours=ours, time_limit_s=args.time_limit, plan_only=args.plan_only
                )
                runs.append(run)
                print(
                    f"{scale:9} {index + 1:>3} {run.who:9} {run.build_s:>8.3f} "
                    f"{run.total_s:>8.3f} {run.cpu_s:>8.3f} {run.peak_mb:>8.1f} "
                    f"{run.solves:>6}  {run.status}",
                    flush=True,
                )
            if runs[-1].variables >= REPEATED_BELOW:
                break
        summarise(scale, runs)


if __name__ == "__main__":
    main()
