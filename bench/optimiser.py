"""Benchmark of the optimiser at three scales against a direct-highspy reference.

For each scale, one instance is generated with a fixed seed and solved twice:

- ours: the PuLP model built from arrays (``optimiser.model.build``), handed to HiGHS in
  one ``passModel`` call, with the solution written back onto the PuLP model;
- reference: the identical LP's arrays passed straight to ``highspy`` (no PuLP at all).

Both solve the model's lexicographic objective the same way: the least target shortfall,
then the least cost at it, on one HiGHS object changed in place between the two stages
(``optimiser.solver``).

It prints variables, rows, non-zeros, build and solve seconds (and the CPU seconds of the
solve: on a shared machine a solve may get a fraction of a core), the peak memory (resident
set) of the process that ran each, and
the ratio of our total time to the reference's (only when both solved to optimality), in
wall time and in CPU time (build and solve): on a machine shared with other work the wall
time of each part swells with the load, while CPU time does not.
Each solve stops at ``--time-limit`` seconds (default 600), so a scale that does not
solve cannot run on past it. Run: ``python bench/optimiser.py
[--scales demo,hiow,region,england] [--time-limit S]``; ``demo`` is the service's own
60-month plan on the demo data (HIOW's 14 organisations), for which the wall time of the
whole plan (with its do-nothing plan) is printed too. Absolute times drift on shared
machines; the ratios, measured in the same run, are the figures to compare.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# Run as a script, this file's folder comes first on the path and its name would hide
# the optimiser package: look in the project instead.
HERE = Path(__file__).resolve().parent
if sys.path and Path(sys.path[0]).resolve() == HERE:
    sys.path[0] = str(HERE.parent)

from optimiser.examples import generate  # noqa: E402
from optimiser.model import build  # noqa: E402
from optimiser.problem import Problem  # noqa: E402
from optimiser.solve import solve  # noqa: E402
from optimiser.solver import run, run_highs  # noqa: E402

SCALES = {
    # name: organisations, pools, months (9 staff groups each)
    "hiow": (12, 16, 60),
    "region": (150, 40, 60),
    "england": (1000, 200, 60),
}
SEED = 20261123
DEMO_START = "2026-10"


def demo_problem(months: int = 60) -> Problem:
    """The problem ``POST /v1/plans`` solves for a ``months``-month plan from
    ``DEMO_START`` on the synthetic demo returns: loaded into a throwaway SQLite database
    and gathered by the service's own code."""
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
            request = PlanRequest.model_validate({"start": DEMO_START, "months": months})
            built = build_problem(
                gather(session, request=request),
                request=request,
                targets=stored_targets(session),
                default_time_limit_s=60,
            )
        engine.dispose()
    return Problem.from_dict(built["problem"])


@dataclass
class Figures:
    variables: int
    rows: int
    nonzeros: int
    build_s: float
    solve_s: float
    build_cpu_s: float
    solve_cpu_s: float
    peak_mb: float
    status: str

    @property
    def total_s(self) -> float:
        return self.build_s + self.solve_s

    @property
    def total_cpu_s(self) -> float:
        return self.build_cpu_s + self.solve_cpu_s


def measure(problem: Problem | str, *, ours: bool, time_limit_s: float) -> Figures:
    """One build and solve in a fresh process, so that its peak memory is its own. A
    generated scale is named, and generated in that process."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        figures: Figures = pool.apply(_measure, (problem, ours, time_limit_s))
    return figures


def _measure(problem: Problem | str, ours: bool, time_limit_s: float) -> Figures:
    if isinstance(problem, str):
        organisations, pools, months = SCALES[problem]
        problem = generate(organisations=organisations, pools=pools, months=months, seed=SEED)
    gc.collect()
    started = time.perf_counter()
    build_cpu_started = time.process_time()
    model = build(problem, with_pulp=ours)
    build_s = time.perf_counter() - started
    build_cpu_s = time.process_time() - build_cpu_started
    cpu_started = time.process_time()
    if ours:
        outcome = run(model, solver="highs", time_limit_s=time_limit_s, threads=1)
        solve_s = time.perf_counter() - started - build_s
    else:
        outcome = run_highs(model, time_limit_s=time_limit_s, threads=1)
        solve_s = outcome.solve_s
    solve_cpu_s = time.process_time() - cpu_started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return Figures(
        variables=model.layout.count,
        rows=model.num_rows,
        nonzeros=model.nonzeros,
        build_s=build_s,
        solve_s=solve_s,
        build_cpu_s=build_cpu_s,
        solve_cpu_s=solve_cpu_s,
        peak_mb=peak_kb / 1024,
        status=outcome.status.value,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", default="demo,hiow,region")
    parser.add_argument("--time-limit", type=float, default=600.0)
    args = parser.parse_args()
    header = (
        f"{'scale':8} {'who':9} {'variables':>10} {'rows':>9} {'nonzeros':>10} "
        f"{'build s':>8} {'solve s':>8} {'cpu s':>8} {'total s':>8} {'peak MB':>8} {'build %':>7} "
        f"{'ratio':>6} {'cpu tot':>8} {'cpu ratio':>9}  status"
    )
    print(header)
    print("-" * len(header))
    for scale in args.scales.split(","):
        problem: Problem | str = scale
        if scale == "demo":
            problem = demo_problem()
        reference = measure(problem, ours=False, time_limit_s=args.time_limit)
        ours = measure(problem, ours=True, time_limit_s=args.time_limit)
        # A ratio of two runs stopped by the time limit compares the limit with itself.
        solved = reference.status == ours.status == "optimal"
        for who, figures in (("reference", reference), ("ours", ours)):
            ratio = f"{figures.total_s / reference.total_s:>5.2f}x" if solved else f"{'-':>6}"
            cpu_ratio = (
                f"{figures.total_cpu_s / reference.total_cpu_s:>8.2f}x" if solved else f"{'-':>9}"
            )
            print(
                f"{scale:8} {who:9} {figures.variables:>10,} {figures.rows:>9,} "
                f"{figures.nonzeros:>10,} {figures.build_s:>8.3f} {figures.solve_s:>8.3f} "
                f"{figures.solve_cpu_s:>8.3f} {figures.total_s:>8.3f} {figures.peak_mb:>8.1f} "
                f"{100 * figures.build_s / figures.total_s:>6.1f}% {ratio} "
                f"{figures.total_cpu_s:>8.3f} {cpu_ratio}  {figures.status}",
                flush=True,
            )
        if isinstance(problem, Problem):
            print(
                f"{scale:8} whole plan (optimiser.solve, with the do-nothing plan beside it): "
                f"{whole_plan_s(problem, args.time_limit):.3f} s wall",
                flush=True,
            )


def whole_plan_s(problem: Problem, time_limit_s: float) -> float:
    """Wall seconds of everything ``POST /v1/plans`` asks of the optimiser (the best of
    three, in a fresh process)."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        seconds: float = pool.apply(_whole_plan_s, (problem, time_limit_s))
    return seconds


def _whole_plan_s(problem: Problem, time_limit_s: float) -> float:
    times = []
    for _ in range(3):
        started = time.perf_counter()
        solve(problem, time_limit_s=time_limit_s)
        times.append(time.perf_counter() - started)
    return min(times)


if __name__ == "__main__":
    main()
