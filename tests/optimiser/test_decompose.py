"""The decomposition that ``bench/decompose.py`` measures: on a small plan of two regions
it reaches the monolithic solve's shortfall and cost, with a plan that keeps every row.
"""

from __future__ import annotations

import numpy as np

from bench.decompose import decompose, split, violation
from optimiser.examples import generate
from optimiser.model import Model, build
from optimiser.solver import run_highs


def two_regions() -> Model:
    # 44 pools of four kinds make 11 places: a region of seven and one of four.
    return build(generate(organisations=14, pools=44, months=6, seed=20261123))


def test_the_regions_fall_apart_once_the_system_rows_are_set_aside() -> None:
    model = two_regions()
    joining, system, bins = split(model, 2)
    components = [c for b in bins for c in b]
    every = np.sort(np.concatenate([system, *components]))
    assert np.array_equal(every, np.arange(model.layout.count))
    # Two regions, and the units no pool reaches (staff groups no pool covers) alone.
    assert max(len(c) for c in components) > 20 * min(len(c) for c in components)
    assert len(joining) == sum(
        end - start
        for name, (start, end) in model.family_rows.items()
        if name in {"agency_ceiling", "system_totals", "nursing_trajectory", "turnover_trajectory"}
    )


def test_the_decomposition_reaches_the_monolithic_plans_shortfall_and_cost() -> None:
    model = two_regions()
    whole = run_highs(model, time_limit_s=60, threads=1, stages=2)
    assert whole.shortfall is not None
    assert whole.objective is not None
    assert whole.shortfall > 1.0  # out of reach: the cost stage holds a shortfall
    ours = decompose(model, blocks=2, gap=1e-9, max_iterations=3000, time_limit_s=120)
    assert abs(ours["shortfall"] - whole.shortfall) <= 1e-8 * whole.shortfall
    assert abs(ours["objective"] - whole.objective) <= 1e-8 * whole.objective
    assert violation(model, ours["plan"]) < 1e-6
    assert abs(float(model.cost @ ours["plan"]) - ours["objective"]) <= 1e-8 * whole.objective
