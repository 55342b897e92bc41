"""The HIOW bank pools: one per place and kind, sized from the demo returns' bank use.

A pool's capacity is the bank WTE its place's organisations used in the covered staff
groups, averaged over the last 12 months of the synthetic returns, plus the shared bank's
initial increase (``reference.BANK_INITIAL_INCREASE``). The generator is deterministic, so
the capacities are too.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from app.periods import add_months
from seed import reference, synthetic

TWO_PLACES = Decimal("0.01")


@dataclass(frozen=True)
class PoolSeed:
    code: str
    name: str
    home_place: str
    covers: tuple[str, ...]
    cost_per_wte_month: Decimal
    capacity_wte: Decimal
    monthly_growth_rate: Decimal


@cache
def bank_use_by_place_and_group(until: str, months: int = 12) -> dict[tuple[str, str], Decimal]:
    """Mean monthly bank WTE by (place, staff group) over the ``months`` ending at ``until``."""
    first = add_months(until, -(months - 1))
    places = {o.code: o.place for o in reference.ORGANISATIONS}
    totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for demo_return in synthetic.generate_returns(until):
        if demo_return.period < first:
            continue
        for line in demo_return.lines:
            totals[places[demo_return.organisation], line.staff_group] += line.bank_wte
    return {key: total / months for key, total in totals.items()}


def hiow_pools(until: str | None = None) -> list[PoolSeed]:
    until = until or synthetic.latest_complete_month()
    use = bank_use_by_place_and_group(until)
    growth = Decimal(1) + Decimal(str(reference.BANK_INITIAL_INCREASE))
    pools = []
    for place in reference.PLACES:
        for kind in reference.POOL_KINDS:
            used = sum((use.get((place, group), Decimal(0)) for group in kind.covers), Decimal(0))
            if used <= 0:
                continue
            pools.append(
                PoolSeed(
                    code=reference.pool_code(place, kind),
                    name=f"{place} {kind.name}",
                    home_place=place,
                    covers=kind.covers,
                    cost_per_wte_month=Decimal(kind.cost_per_wte_month),
                    capacity_wte=(used * growth).quantize(TWO_PLACES),
                    monthly_growth_rate=Decimal(str(reference.BANK_MONTHLY_GROWTH_RATE)),
                )
            )
    return pools
