"""Small problems written out by hand, for the hand-solved tests."""

from __future__ import annotations

import dataclasses

from optimiser import Organisation, Pool, Problem, Reach, StaffGroup, Targets, Unit

# Targets that never bind, for tests of the other families.
SLACK_TARGETS = Targets(nursing_capacity_growth=-0.5, turnover_target=1.0)


def nurse(agency: float = 200.0, penalty: float = 1000.0, beta: float = 0.0) -> StaffGroup:
    return StaffGroup(
        code="NURSE",
        counts_as_nursing=True,
        agency_cost_per_wte_month=agency,
        unfilled_penalty_per_wte_month=penalty,
        turnover_sensitivity=beta,
    )


def unit(
    organisation: str,
    *,
    establishment: float,
    staff: float,
    turnover: float = 0.0,
    starters: float = 0.0,
    agency: float = 0.0,
    bank: float = 0.0,
) -> Unit:
    return Unit(
        organisation=organisation,
        staff_group="NURSE",
        establishment_wte=establishment,
        staff_in_post_wte=staff,
        turnover_rate=turnover,
        starters_per_month=starters,
        agency_wte=agency,
        bank_wte=bank,
    )


def pool(
    code: str = "P", *, place: str = "North", capacity: float = 0.0, cost: float = 100.0
) -> Pool:
    return Pool(
        code=code,
        home_place=place,
        covers=("NURSE",),
        cost_per_wte_month=cost,
        capacity_wte=capacity,
    )


def problem(
    units: list[Unit],
    pools: list[Pool] | None = None,
    *,
    months: int = 1,
    targets: Targets = SLACK_TARGETS,
    places: tuple[str, str] = ("North", "North"),
    reach: Reach | None = None,
    group: StaffGroup | None = None,
) -> Problem:
    return Problem(
        start="2025-01",
        months=months,
        organisations=(Organisation("A", places[0]), Organisation("B", places[1])),
        staff_groups=(group or nurse(),),
        units=tuple(units),
        pools=tuple(pools or []),
        targets=targets,
        reach=reach or Reach(island_places=("Island",), travel_cost_per_wte_month=50.0),
    )


def with_capacity(problem: Problem, pool: int, month: int, delta: float) -> Problem:
    """The same problem with ``delta`` more WTE in one pool's capacity in one month."""
    pools = list(problem.pools)
    capacity = pools[pool].capacity(problem.months)
    capacity[month] += delta
    pools[pool] = dataclasses.replace(pools[pool], capacity_by_month=tuple(capacity))
    return dataclasses.replace(problem, pools=tuple(pools))
