"""Generated problems: a small example to try, and instances for tests and benchmarks.

Generated, not real: sizes and costs are plausible for an NHS system, nothing more.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import numpy as np

from optimiser.problem import Organisation, Pool, Problem, Reach, StaffGroup, Targets, Unit

PLACES = ("Hampshire", "Southampton", "Portsmouth", "Isle of Wight")
GROUPS = (
    # code, nursing, bank cost, agency cost, unfilled penalty, beta
    ("NURSE", True, 4_300, 5_800, 12_000, 0.5),
    ("MIDWIFE", True, 4_500, 6_100, 12_500, 0.5),
    ("DOCTOR", False, 11_500, 17_000, 30_000, 0.3),
    ("STT", False, 4_100, 5_300, 9_000, 0.4),
    ("SUPPORT", False, 2_600, 3_300, 6_000, 0.4),
    ("AMBULANCE", False, 3_900, 5_000, 9_500, 0.4),
    ("INFRA", False, 2_900, 3_600, 5_000, 0.2),
    ("SOCIAL_CARE", False, 2_400, 3_100, 6_500, 0.5),
    ("PRIMARY_CARE", False, 3_300, 4_200, 7_000, 0.4),
)


# The demo's pools, by kind: one of each per place, covering these staff groups.
POOL_KINDS = (
    ("NURSING", ("MIDWIFE", "NURSE")),
    ("MEDICAL", ("DOCTOR",)),
    ("AHP", ("AMBULANCE", "PRIMARY_CARE", "STT")),
    ("SUPPORT", ("SOCIAL_CARE", "SUPPORT")),
)
PLACES_PER_REGION = 7  # England's 42 systems fall in 7 regions


def generate(
    *,
    organisations: int,
    pools: int,
    months: int,
    seed: int,
    groups: int = len(GROUPS),
    targets: Targets | None = None,
) -> Problem:
    """A random system of the given size; the same arguments give the same problem.

    Shaped like the demo returns (themselves calibrated to HIOW's published figures):
    vacancies of 5 to 12%, turnover of 8 to 16.5% a year with starters 0.98 to 1.19 times
    the leavers, bank and agency filling 62 to 92% of the vacancy. Pools are the demo's:
    one per place and kind, each sized at the bank its place's organisations use in the
    groups it covers plus 0 to 10% (the demo adds the strategy's 5%), shared when several
    pools of a kind have the same home, and growing 0.4% a month.

    Places follow the pools: HIOW's four when four will do, otherwise one place per four
    pools (a region's 150 organisations in 10 places, England's 1,000 in 50). Beyond 10
    places they are grouped seven to a region and a pool serves only its own region: a
    bank in Cornwall does not staff Cumbria.
    """
    rng = np.random.default_rng(seed)
    chosen = GROUPS[:groups]
    codes = {code for code, *_ in chosen}
    kinds = [
        (kind, tuple(c for c in covers if c in codes))
        for kind, covers in POOL_KINDS
        if any(c in codes for c in covers)
    ] or [("ALL", tuple(sorted(codes)))]
    place_count = max(len(PLACES), -(-pools // len(kinds)))
    places = (
        PLACES if place_count == len(PLACES) else tuple(f"PLACE{i:02d}" for i in range(place_count))
    )
    regions = (
        tuple(places[i : i + PLACES_PER_REGION] for i in range(0, place_count, PLACES_PER_REGION))
        if place_count > 10
        else ()
    )
    staff_groups = tuple(
        StaffGroup(
            code=code,
            counts_as_nursing=nursing,
            agency_cost_per_wte_month=float(agency),
            unfilled_penalty_per_wte_month=float(penalty),
            turnover_sensitivity=beta,
            establishment_growth=float(rng.choice([0.0, 0.0, 0.01])),
        )
        for code, nursing, _bank, agency, penalty, beta in chosen
    )
    orgs = tuple(
        Organisation(code=f"ORG{i:04d}", place=places[i % len(places)])
        for i in range(organisations)
    )
    units, bank_used = _units(orgs, chosen, rng)
    pool_list = _pools(chosen, kinds, places, bank_used, pools=pools, seed=seed, rng=rng)
    return Problem(
        start="2024-04",
        months=months,
        organisations=orgs,
        staff_groups=staff_groups,
        units=tuple(units),
        pools=tuple(pool_list),
        targets=targets or Targets(agency_reduction=0.1),
        reach=Reach(regions=regions),
    )


def example() -> Problem:
    """A small system to try the command line with."""
    return generate(organisations=4, pools=4, months=6, seed=1, groups=3)


def _units(
    orgs: tuple[Organisation, ...], chosen: Any, rng: np.random.Generator
) -> tuple[list[Unit], dict[tuple[str, str], float]]:
    """Each organisation's staff groups (a quarter left out), and the bank each place
    uses in each group."""
    units = []
    bank_used: dict[tuple[str, str], float] = defaultdict(float)
    for organisation in orgs:
        for code, *_ in chosen:
            if rng.random() < 0.25:
                continue
            establishment = float(rng.uniform(20, 1_500))
            vacancy = float(rng.uniform(0.05, 0.12))
            staff = establishment * (1 - vacancy)
            turnover = float(rng.uniform(0.08, 0.165))
            bank = round(establishment * vacancy * float(rng.uniform(0.5, 0.7)), 2)
            bank_used[organisation.place, code] += bank
            units.append(
                Unit(
                    organisation=organisation.code,
                    staff_group=code,
                    establishment_wte=round(establishment, 2),
                    staff_in_post_wte=round(staff, 2),
                    turnover_rate=round(turnover, 4),
                    starters_per_month=round(
                        staff * turnover / 12 * float(rng.uniform(0.98, 1.19)), 2
                    ),
                    agency_wte=round(establishment * vacancy * float(rng.uniform(0.12, 0.22)), 2),
                    bank_wte=bank,
                )
            )
    return units, bank_used


def _pools(
    chosen: Any,
    kinds: list[tuple[str, tuple[str, ...]]],
    places: tuple[str, ...],
    bank_used: dict[tuple[str, str], float],
    *,
    pools: int,
    seed: int,
    rng: np.random.Generator,
) -> list[Pool]:
    """One pool per place and kind, sized at the bank its place uses plus 0 to 10%."""
    bank_cost = {code: bank for code, _n, bank, *_ in chosen}
    # Pools pay differently (rates, enhancements, overheads): -5% to +10% around the
    # group's bank rate, so that no two pools cost exactly the same.
    spread = np.random.default_rng([seed, 1]).uniform(0.95, 1.10, size=pools)
    homes = [(places[(p // len(kinds)) % len(places)], kinds[p % len(kinds)]) for p in range(pools)]
    sharing = Counter(homes)
    pool_list = []
    for p, (home, kind) in enumerate(homes):
        covers = kind[1]
        used = sum(bank_used[home, group] for group in covers) / sharing[home, kind]
        pool_list.append(
            Pool(
                code=f"POOL{p:03d}",
                home_place=home,
                covers=covers,
                cost_per_wte_month=round(min(bank_cost[c] for c in covers) * float(spread[p]), 2),
                capacity_wte=round(used * float(rng.uniform(1.0, 1.1)), 2),
                monthly_growth_rate=0.004,
            )
        )
    return pool_list
