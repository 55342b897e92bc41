"""Generated problems: a small example to try, and instances for tests and benchmarks.

Generated, not real: sizes and costs are plausible for an NHS system, nothing more.
"""

from __future__ import annotations

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


def generate(
    *,
    organisations: int,
    pools: int,
    months: int,
    seed: int,
    groups: int = len(GROUPS),
    targets: Targets | None = None,
) -> Problem:
    """A random system of the given size; the same arguments give the same problem."""
    rng = np.random.default_rng(seed)
    chosen = GROUPS[:groups]
    staff_groups = tuple(
        StaffGroup(
            code=code,
            counts_as_nursing=nursing,
            agency_cost_per_wte_month=float(agency),
            unfilled_penalty_per_wte_month=float(penalty),
            turnover_sensitivity=beta,
            establishment_growth=float(rng.choice([0.0, 0.01, 0.02])),
        )
        for code, nursing, _bank, agency, penalty, beta in chosen
    )
    orgs = tuple(
        Organisation(code=f"ORG{i:04d}", place=PLACES[i % len(PLACES)])
        for i in range(organisations)
    )
    units = []
    for organisation in orgs:
        for code, *_ in chosen:
            if rng.random() < 0.25:
                continue
            establishment = float(rng.uniform(20, 1_500))
            vacancy = float(rng.uniform(0.02, 0.18))
            staff = establishment * (1 - vacancy)
            units.append(
                Unit(
                    organisation=organisation.code,
                    staff_group=code,
                    establishment_wte=round(establishment, 2),
                    staff_in_post_wte=round(staff, 2),
                    turnover_rate=round(float(rng.uniform(0.08, 0.2)), 4),
                    starters_per_month=round(staff * float(rng.uniform(0.007, 0.016)), 2),
                    agency_wte=round(establishment * vacancy * float(rng.uniform(0.1, 0.3)), 2),
                    bank_wte=round(establishment * vacancy * float(rng.uniform(0.3, 0.6)), 2),
                )
            )
    bank_cost = {code: bank for code, _n, bank, *_ in chosen}
    # Pools pay differently (rates, enhancements, overheads): -5% to +10% around the
    # group's bank rate, so that no two pools cost exactly the same. Drawn from a stream of
    # its own, so that the rest of the instance is what it was without the spread.
    spread = np.random.default_rng([seed, 1]).uniform(0.95, 1.10, size=pools)
    pool_list = []
    for p in range(pools):
        covers = tuple(
            sorted(
                str(c)
                for c in rng.choice(
                    [code for code, *_ in chosen], size=min(len(chosen), 2), replace=False
                )
            )
        )
        pool_list.append(
            Pool(
                code=f"POOL{p:03d}",
                home_place=PLACES[p % len(PLACES)],
                covers=covers,
                cost_per_wte_month=round(min(bank_cost[c] for c in covers) * float(spread[p]), 2),
                capacity_wte=round(float(rng.uniform(10, 40)) * organisations / max(1, pools), 2),
                monthly_growth_rate=0.004,
            )
        )
    return Problem(
        start="2024-04",
        months=months,
        organisations=orgs,
        staff_groups=staff_groups,
        units=tuple(units),
        pools=tuple(pool_list),
        targets=targets or Targets(agency_reduction=0.1),
        reach=Reach(),
    )


def example() -> Problem:
    """A small system to try the command line with."""
    return generate(organisations=4, pools=4, months=6, seed=1, groups=3)
