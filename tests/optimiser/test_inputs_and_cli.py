"""Bad inputs are refused by name before any model is built; limits and the command line."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from optimiser import Problem, ProblemError, SolveStatus, Targets, solve
from optimiser.examples import example, generate
from optimiser.model import build
from optimiser.problem import MAX_MONTHS
from optimiser.solve import simulate_without_bank

ROOT = Path(__file__).resolve().parents[2]


def fields_refused(problem: Problem) -> list[str]:
    with pytest.raises(ProblemError) as caught:
        solve(problem)
    return [where for where, _ in caught.value.errors]


def test_bad_inputs_are_refused_naming_the_field() -> None:
    base = example()
    pools = list(base.pools)
    pools[1] = dataclasses.replace(pools[1], capacity_wte=-5.0)
    pools[2] = dataclasses.replace(pools[2], covers=("NURSE", "PORTERS"))
    units = list(base.units)
    units[0] = dataclasses.replace(units[0], staff_in_post_wte=float("nan"))
    units[1] = dataclasses.replace(units[1], turnover_rate=float("inf"))
    bad = dataclasses.replace(
        base,
        pools=tuple(pools),
        units=tuple(units),
        targets=Targets(target_month=base.months + 1),
    )
    refused = fields_refused(bad)
    assert "pools[1].capacity_wte" in refused
    assert "pools[2].covers[1]" in refused
    assert "units[0].staff_in_post_wte" in refused
    assert "units[1].turnover_rate" in refused
    assert "targets.target_month" in refused


def test_horizon_over_120_months_is_refused() -> None:
    assert fields_refused(dataclasses.replace(example(), months=MAX_MONTHS + 1)) == ["months"]


def test_agency_must_cost_more_than_bank() -> None:
    base = example()
    groups = list(base.staff_groups)
    groups[0] = dataclasses.replace(groups[0], agency_cost_per_wte_month=1.0)
    assert "staff_groups[0].agency_cost_per_wte_month" in fields_refused(
        dataclasses.replace(base, staff_groups=tuple(groups))
    )


def test_from_dict_names_unknown_fields() -> None:
    data = example().to_dict()
    data["pools"][0]["colour"] = "blue"
    with pytest.raises(ProblemError) as caught:
        Problem.from_dict(data)
    assert caught.value.errors[0][0] == "pools[0].colour"
    assert Problem.from_dict(example().to_dict()) == example()


def test_a_time_limited_solve_says_so() -> None:
    # 36 months: over 48, leaving every gap unfilled would take some staff in post below
    # zero, so no plan would stand in when the solver stops early.
    problem = generate(organisations=60, pools=20, months=36, seed=2)
    result = solve(problem, time_limit_s=0.05, do_nothing=False)
    assert result.status is SolveStatus.TIME_LIMIT
    assert "time limit" in result.message
    assert result.cost is not None  # the best plan found is still reported


def test_the_stand_in_plan_never_has_negative_staff() -> None:
    # Over 60 months with every gap unfilled, rising leavers take some of this system's
    # staff in post below zero: that plan breaks S >= 0 and must not stand in for one.
    spiralling = build(generate(organisations=12, pools=16, months=60, seed=20261123))
    assert simulate_without_bank(spiralling) is None
    steady = build(generate(organisations=12, pools=16, months=6, seed=20261123))
    values = simulate_without_bank(steady)
    assert values is not None
    assert values[steady.layout.staff].min() >= 0


def test_a_time_limited_solve_without_a_plan_says_so() -> None:
    problem = generate(organisations=60, pools=20, months=48, seed=2)
    result = solve(problem, time_limit_s=0.05, do_nothing=False)
    assert result.status is SolveStatus.ERROR
    assert "time limit" in result.message


def test_the_command_line_writes_json_and_csv(tmp_path: Path) -> None:
    problem_file = tmp_path / "problem.json"
    made = subprocess.run(
        [sys.executable, "-m", "optimiser", "example"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    problem_file.write_text(made.stdout)
    out = tmp_path / "plan"
    run = subprocess.run(
        [sys.executable, "-m", "optimiser", "solve", str(problem_file), "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert "optimiser: done" in run.stderr
    plan = json.loads((out / "plan.json").read_text())
    assert plan["status"] in ("optimal", "targets_unreachable")
    header = (out / "allocations.csv").read_text().splitlines()[0]
    assert header == "pool,organisation,staff_group,period,wte,cost"
    assert (out / "projections.csv").read_text().startswith("organisation,staff_group,period")

    broken = json.loads(made.stdout)
    broken["months"] = 500
    problem_file.write_text(json.dumps(broken))
    refused = subprocess.run(
        [sys.executable, "-m", "optimiser", "solve", str(problem_file), "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 2
    assert "months" in refused.stderr
