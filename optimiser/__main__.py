"""``python -m optimiser solve problem.json --out DIR`` solves a problem from a JSON file and
writes the plan as ``plan.json``, ``allocations.csv`` and ``projections.csv``;
``python -m optimiser example`` prints a small problem to start from."""

from __future__ import annotations

import argparse
import csv
import json
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from optimiser.examples import example
from optimiser.problem import Problem, ProblemError, validate
from optimiser.solve import solve


def _progress(stop: threading.Event, started: float) -> None:
    """A progress line on stderr while the model is built and solved."""
    while not stop.wait(0.5):
        print(
            f"\roptimiser: building and solving ... {time.perf_counter() - started:5.1f} s",
            end="",
            file=sys.stderr,
            flush=True,
        )


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="") as handle:
        if not rows:
            return
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def command_solve(args: argparse.Namespace) -> int:
    try:
        problem = Problem.from_dict(json.loads(Path(args.problem).read_text()))
        validate(problem)
    except (OSError, json.JSONDecodeError) as error:
        print(f"error: cannot read {args.problem}: {error}", file=sys.stderr)
        return 2
    except ProblemError as error:
        for where, what in error.errors:
            print(f"error: {where}: {what}", file=sys.stderr)
        return 2
    print(
        f"optimiser: {len(problem.organisations)} organisations, {len(problem.units)} units, "
        f"{len(problem.pools)} pools, {problem.months} months",
        file=sys.stderr,
    )
    started = time.perf_counter()
    stop = threading.Event()
    ticker = threading.Thread(target=_progress, args=(stop, started), daemon=True)
    ticker.start()
    try:
        result = solve(
            problem, time_limit_s=args.time_limit, threads=args.threads, solver=args.solver
        )
    finally:
        stop.set()
        ticker.join()
    print(f"\roptimiser: done in {time.perf_counter() - started:.2f} s{' ' * 20}", file=sys.stderr)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    plan = result.to_dict()
    (out / "plan.json").write_text(json.dumps(plan, indent=2))
    _write_csv(out / "allocations.csv", plan["allocations"])
    _write_csv(out / "projections.csv", plan["projections"])
    print(f"status: {plan['status']}: {plan['message']}")
    cost, nothing = plan["cost"], plan["do_nothing"]
    if cost:
        print(
            f"cash: £{cost['cash']:,.0f}; unfilled: {cost['unfilled_wte_months']:,.1f} "
            f"WTE-months (penalty £{cost['unfilled_penalty']:,.0f}, not money)"
        )
    if nothing:
        print(
            f"doing nothing: cash £{nothing['cash']:,.0f}; unfilled: "
            f"{nothing['unfilled_wte_months']:,.1f} WTE-months"
        )
    print(f"wrote {out / 'plan.json'}, {out / 'allocations.csv'}, {out / 'projections.csv'}")
    return 0 if plan["status"] in ("optimal", "targets_unreachable", "time_limit") else 1


def command_example(_args: argparse.Namespace) -> int:
    print(json.dumps(example().to_dict(), indent=2))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m optimiser", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("solve", help="solve a problem from a JSON file")
    run.add_argument("problem", help="the problem, as JSON (see `python -m optimiser example`)")
    run.add_argument("--out", default="out/plan", help="directory for the plan (default out/plan)")
    run.add_argument("--time-limit", type=float, default=60.0, help="seconds (default 60)")
    run.add_argument("--threads", type=int, default=1)
    run.add_argument("--solver", choices=["highs", "cbc"], default="highs")
    run.set_defaults(handler=command_solve)
    commands.add_parser("example", help="print a small example problem").set_defaults(
        handler=command_example
    )
    args = parser.parse_args(argv)
    code: int = args.handler(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
