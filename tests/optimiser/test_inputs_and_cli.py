"""Bad inputs are refused by name before any model is built; limits and the command line."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from optimiser import HistoryMonth, Problem, ProblemError, SolveStatus, Targets, solve
from optimiser.examples import example, generate
from optimiser.model import build, place_names
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
        targets=Targets(target_month=0),
        history=(
            HistoryMonth(month=-12, leavers_wte=1.0, staff_in_post_wte=10.0),
            HistoryMonth(month=0, leavers_wte=-1.0, staff_in_post_wte=10.0),
            HistoryMonth(month=0, leavers_wte=1.0, staff_in_post_wte=10.0),
        ),
    )
    refused = fields_refused(bad)
    assert "pools[1].capacity_wte" in refused
    assert "pools[2].covers[1]" in refused
    assert "units[0].staff_in_post_wte" in refused
    assert "units[1].turnover_rate" in refused
    assert "targets.target_month" in refused
    assert "history[0].month" in refused
    assert "history[1].leavers_wte" in refused
    assert "history[2].month" in refused  # repeated
    # A target month beyond the horizon is a trajectory that ends part-way: allowed.
    later = dataclasses.replace(base, targets=Targets(target_month=base.months + 6))
    assert solve(later, do_nothing=False).status in (
        SolveStatus.OPTIMAL,
        SolveStatus.TARGETS_UNREACHABLE,
    )


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


def without_starters(problem: Problem) -> Problem:
    """The same system with no one joining: left unfilled, its gaps drive leavers up until
    staff in post would fall below zero, within a few years."""
    units = tuple(dataclasses.replace(u, starters_per_month=0.0) for u in problem.units)
    return dataclasses.replace(problem, units=units)


def test_a_time_limited_solve_says_so() -> None:
    problem = generate(organisations=60, pools=20, months=36, seed=2)
    result = solve(problem, time_limit_s=0.05, do_nothing=False)
    assert result.status is SolveStatus.TIME_LIMIT
    assert "time limit" in result.message
    assert result.cost is not None  # the best plan found is still reported


def test_the_stand_in_plan_never_has_negative_staff() -> None:
    # Over 60 months with every gap unfilled and no starters, rising leavers take some of
    # this system's staff in post below zero: that plan breaks S >= 0 and must not stand in
    # for one. Over 6 months it is still a plan.
    system = without_starters(generate(organisations=12, pools=16, months=60, seed=20261123))
    spiralling = build(system)
    assert simulate_without_bank(spiralling) is None
    steady = build(dataclasses.replace(system, months=6))
    values = simulate_without_bank(steady)
    assert values is not None
    assert values[steady.layout.staff].min() >= 0


def test_a_time_limited_solve_without_a_plan_says_so() -> None:
    problem = without_starters(generate(organisations=60, pools=20, months=60, seed=2))
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


def test_pools_serve_only_their_own_region() -> None:
    # 48 pools of four kinds: 12 places, grouped seven and five into two regions.
    problem = generate(organisations=60, pools=48, months=1, seed=4)
    assert [len(r) for r in problem.reach.regions] == [7, 5]
    region = {place: i for i, places in enumerate(problem.reach.regions) for place in places}
    place = {o.code: o.place for o in problem.organisations}
    layout = build(problem).layout
    places = place_names(problem)
    crossing = within = 0
    for p, d in zip(layout.route_pool.tolist(), layout.route_place.tolist(), strict=True):
        pool_region = region[problem.pools[p].home_place]
        crossing += pool_region != region[places[d]]
        within += pool_region == region[places[d]]
    assert crossing == 0
    assert within > 0
    assert all(region[place[layout.units[u][0]]] >= 0 for u in layout.served.tolist())
    # Without regions the same pools reach across the whole system.
    open_reach = dataclasses.replace(problem, reach=dataclasses.replace(problem.reach, regions=()))
    assert len(build(open_reach).layout.route_pool) > within


def test_a_place_in_two_regions_is_refused() -> None:
    data = example().to_dict()
    data["reach"]["regions"] = [["Hampshire", "Southampton"], ["Portsmouth", "Hampshire"]]
    problem = Problem.from_dict(data)
    assert problem.reach.regions[1] == ("Portsmouth", "Hampshire")
    with pytest.raises(ProblemError) as caught:
        solve(problem)
    assert caught.value.errors == [
        ("reach.regions[1][1]", "place 'Hampshire' is already in region 0")
    ]
