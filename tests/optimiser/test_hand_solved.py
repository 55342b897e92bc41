"""One instance per constraint family, small enough to solve by hand."""

from __future__ import annotations

import dataclasses

import pytest

from optimiser import Reach, SolveStatus, Targets, solve
from tests.optimiser.helpers import SLACK_TARGETS, nurse, pool, problem, unit


def by_unit(rows: list[dict[str, object]], organisation: str) -> list[dict[str, object]]:
    return [r for r in rows if r["organisation"] == organisation]


def test_coverage_and_pool_capacity() -> None:
    """A needs 100 - 90 = 10 WTE, B 50 - 45 = 5. The pool gives 12 at £100; agency (£200)
    covers the other 3; unfilled posts (£1,000) are dearer than both.
    Cost 12·100 + 3·200 = 1,800. Without the bank all 15 go to agency: 3,000, a saving of
    1,200. One more bank WTE would replace one agency WTE: a shadow price of £100."""
    result = solve(
        problem(
            [unit("A", establishment=100, staff=90), unit("B", establishment=50, staff=45)],
            [pool(capacity=12)],
        )
    )
    assert result.status is SolveStatus.OPTIMAL
    assert result.cost is not None
    assert result.cost.bank == pytest.approx(1_200)
    assert result.cost.agency == pytest.approx(600)
    assert result.cost.unfilled_penalty == pytest.approx(0)
    assert result.cost.total == pytest.approx(1_800)
    assert result.do_nothing_cost == pytest.approx(3_000)
    assert result.saving == pytest.approx(1_200)
    assert sum(a["wte"] for a in result.allocations) == pytest.approx(12)
    assert result.pool_shadow_prices == [{"pool": "P", "period": "2025-01", "value": 100.0}]


def test_pools_reach_only_where_allowed_and_travel_costs() -> None:
    """The pool is on the island, the organisations on the mainland. Not allowed to cross:
    no bank variable exists and the 10 WTE gap goes to agency (£2,000). Allowed, at £50
    travel: bank costs 100 + 50 = 150 < 200, so the pool's 10 WTE fill it: £1,500, of
    which travel £500."""
    units = [unit("A", establishment=100, staff=90)]
    blocked = solve(problem(units, [pool(place="Island", capacity=20)]))
    assert blocked.allocations == []
    assert blocked.solve is not None
    assert blocked.cost is not None
    assert blocked.cost.agency == pytest.approx(2_000)

    reach = Reach(
        island_mainland_allowed=True, island_places=("Island",), travel_cost_per_wte_month=50
    )
    allowed = solve(problem(units, [pool(place="Island", capacity=20)], reach=reach))
    assert allowed.cost is not None
    assert allowed.cost.bank == pytest.approx(1_000)
    assert allowed.cost.travel == pytest.approx(500)
    assert allowed.cost.agency == pytest.approx(0)
    assert allowed.allocations[0]["cost"] == pytest.approx(1_500)
    assert blocked.solve.variables > 0
    assert allowed.solve is not None
    # Allowed adds the bank's two columns for this month: what the pool sends to the
    # place (y) and what the organisation receives (z).
    assert allowed.solve.variables == blocked.solve.variables + 2


def test_stock_and_flow() -> None:
    """No gap (100 in post for 100 posts), turnover 12% a year, 2 starters a month:
    L1 = 0.01·100 = 1, S2 = 100 - 1 + 2 = 101; L2 = 1.01, S3 = 101 - 1.01 + 2 = 101.99."""
    result = solve(
        problem([unit("A", establishment=100, staff=100, turnover=0.12, starters=2)], months=3)
    )
    rows = by_unit(result.projections, "A")
    assert [r["staff_in_post_wte"] for r in rows] == [100, 101, 101.99]
    assert [r["leavers_wte"] for r in rows] == [1, 1.01, 1.02]
    assert [r["unfilled_wte"] for r in rows] == [0, 0, 0]
    assert [r["period"] for r in rows] == ["2025-01", "2025-02", "2025-03"]


def test_leavers_rise_with_unfilled_posts() -> None:
    """E = 100, S0 = 90, no bank or agency: v0 = 0.1. r = 12%, beta = 0.6, so the
    underlying rate ri = 0.12 - 0.6·0.1 = 0.06 and rho = 0.9. With agency barred (A0 = 0
    and a ceiling at 0) the 10 WTE stay unfilled:
    L1 = 0.06/12·90 + 0.6/12·0.9·10 = 0.45 + 0.45 = 0.9, S2 = 89.1, u2 = 10.9."""
    targets = dataclasses.replace(SLACK_TARGETS, agency_reduction=0.0)
    result = solve(
        problem(
            [unit("A", establishment=100, staff=90, turnover=0.12)],
            months=2,
            targets=targets,
            group=nurse(beta=0.6),
        )
    )
    rows = by_unit(result.projections, "A")
    assert rows[0]["leavers_wte"] == pytest.approx(0.9)
    assert rows[1]["staff_in_post_wte"] == pytest.approx(89.1)
    assert rows[1]["unfilled_wte"] == pytest.approx(10.9)
    assert rows[0]["agency_wte"] == 0


def test_agency_ceiling() -> None:
    """Agency in the latest returns: 4 + 6 = 10 WTE; a 20% reduction caps it at 8. Gaps
    10 + 5 = 15, no bank: 8 agency (£1,600) and 7 unfilled (£7,000). Tightening the cut by
    one point takes 0.1 WTE from agency to unfilled: 0.1·(1,000 - 200) = £80."""
    targets = dataclasses.replace(SLACK_TARGETS, agency_reduction=0.2)
    result = solve(
        problem(
            [
                unit("A", establishment=100, staff=90, agency=4),
                unit("B", establishment=50, staff=45, agency=6),
            ],
            targets=targets,
        )
    )
    assert result.cost is not None
    assert result.cost.agency == pytest.approx(1_600)
    assert result.cost.unfilled_penalty == pytest.approx(7_000)
    outcome = result.targets["agency_reduction"]
    assert outcome.required == pytest.approx(8)
    assert outcome.achieved == pytest.approx(8)
    assert outcome.shadow_price == pytest.approx(80)


def test_nursing_capacity_target() -> None:
    """No gap (90 in post for 90 posts): C0 = 90 and +5% needs 94.5 WTE. The pool gives 2
    at £100, agency the other 2.5 at £200: £700. A point more growth needs 0.9 WTE more
    agency: £180 a point. Without agency or pools the target is 4.5 WTE short."""
    targets = Targets(nursing_capacity_growth=0.05, turnover_target=1.0)
    units = [unit("A", establishment=90, staff=90)]
    met = solve(problem(units, [pool(capacity=2)], targets=targets))
    assert met.status is SolveStatus.OPTIMAL
    assert met.cost is not None
    assert met.cost.total == pytest.approx(700)
    outcome = met.targets["nursing_capacity"]
    assert (outcome.required, outcome.achieved, outcome.shortfall) == (94.5, 94.5, 0)
    assert outcome.shadow_price == pytest.approx(180)

    barred = dataclasses.replace(targets, agency_reduction=0.0)
    short = solve(problem(units, targets=barred))
    assert short.status is SolveStatus.TARGETS_UNREACHABLE
    assert short.targets["nursing_capacity"].shortfall == pytest.approx(4.5)
    assert short.targets["nursing_capacity"].met is False
    assert "by up to 4.50 WTE" in short.message


def test_turnover_target() -> None:
    """E = 100, S0 = 90, A0 = 5: v0 = (100 - 90 - 5)/100 = 0.05; r = 12%, beta = 0.6, so
    ri = 0.12 - 0.03 = 0.09 and rho = 0.9. Agency is capped at its 5 WTE, so 5 stay
    unfilled: L = 0.09/12·90 + 0.6/12·0.9·5 = 0.675 + 0.225 = 0.9, an annual rate of
    0.9·12/90 = 12%. A 13% target is met and does not bind (price 0); an 11% target is
    one point short."""
    base = {"establishment": 100, "staff": 90, "turnover": 0.12, "agency": 5}
    met = solve(
        problem(
            [unit("A", **base)],
            targets=Targets(nursing_capacity_growth=-0.5, turnover_target=0.13, agency_reduction=0),
            group=nurse(beta=0.6),
        )
    )
    assert met.status is SolveStatus.OPTIMAL
    assert met.targets["turnover"].achieved == pytest.approx(0.12)
    assert met.targets["turnover"].shadow_price == pytest.approx(0)

    short = solve(
        problem(
            [unit("A", **base)],
            targets=Targets(nursing_capacity_growth=-0.5, turnover_target=0.11, agency_reduction=0),
            group=nurse(beta=0.6),
        )
    )
    assert short.status is SolveStatus.TARGETS_UNREACHABLE
    assert short.targets["turnover"].shortfall == pytest.approx(0.01)


def test_minimum_fill_rate_that_cannot_be_reached_is_blamed() -> None:
    """A 10 WTE gap must be at least half filled, but there is no bank and agency is capped
    at its 2 WTE: infeasible. Dropping either the floor or the cap makes a plan."""
    targets = dataclasses.replace(SLACK_TARGETS, agency_reduction=0.0, min_fill_rate=0.5)
    result = solve(problem([unit("A", establishment=100, staff=90, agency=2)], targets=targets))
    assert result.status is SolveStatus.INFEASIBLE
    assert result.blamed_families == ["agency_ceiling", "min_fill"]
    assert "agency_ceiling" in result.message

    reachable = dataclasses.replace(targets, min_fill_rate=0.2)
    ok = solve(problem([unit("A", establishment=100, staff=90, agency=2)], targets=reachable))
    assert ok.status is SolveStatus.OPTIMAL
    assert ok.projections[0]["agency_wte"] == pytest.approx(2)


def test_temporary_staffing_cap() -> None:
    """At most 5% of 100 posts may be temporary: 5 agency (£1,000) and 5 unfilled
    (£5,000) of the 10 WTE gap."""
    targets = dataclasses.replace(SLACK_TARGETS, temporary_staffing_cap=0.05)
    result = solve(problem([unit("A", establishment=100, staff=90)], targets=targets))
    assert result.cost is not None
    assert result.cost.agency == pytest.approx(1_000)
    assert result.cost.unfilled_penalty == pytest.approx(5_000)
    assert result.projections[0]["fill_rate"] == pytest.approx(0.5)


def test_the_same_problem_gives_the_same_rows() -> None:
    case = problem(
        [unit("A", establishment=100, staff=90), unit("B", establishment=50, staff=45)],
        [pool("P", capacity=6), pool("Q", capacity=6)],
        months=2,
    )
    first, second = solve(case).to_dict(), solve(case).to_dict()
    for key in ("allocations", "projections", "system", "pool_shadow_prices", "cost"):
        assert first[key] == second[key]


def test_cbc_gives_the_same_plan() -> None:
    case = problem(
        [unit("A", establishment=100, staff=90), unit("B", establishment=50, staff=45)],
        [pool(capacity=12)],
    )
    highs, cbc = solve(case), solve(case, solver="cbc")
    assert cbc.status is SolveStatus.OPTIMAL
    assert cbc.solve is not None
    assert cbc.solve.solver.startswith("CBC")
    assert cbc.cost is not None
    assert highs.cost is not None
    assert cbc.cost.total == pytest.approx(highs.cost.total)
