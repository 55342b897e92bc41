"""Each step of the read-back alone, on solutions small enough to write by hand."""

from __future__ import annotations

import numpy as np
import pytest

from optimiser import Targets
from optimiser import model as lp
from optimiser.readback import (
    read_allocations,
    read_cost,
    read_pool_prices,
    read_projections,
    read_system,
    read_targets,
    round_within_capacity,
)
from optimiser.solver import run_highs
from tests.optimiser.helpers import pool, problem, unit


def test_rounding_never_adds_up_to_more_than_capacity() -> None:
    """Three thirds of a 1 WTE pool: 0.34 + 0.33 + 0.33 = 1.00 (the first of the equal
    remainders gets the hundredth); of a 0.999 WTE pool, 0.33 each, 0.99 <= 0.999. Rows
    of another pool and month are rounded on their own: 0.5 stays 0.5."""
    group = np.array([0, 0, 0, 1])
    wte = np.array([1 / 3, 1 / 3, 1 / 3, 0.5])
    assert round_within_capacity(group, wte, np.array([1.0, 0.5])).tolist() == [34, 33, 33, 50]
    assert round_within_capacity(group, wte * 0.999, np.array([0.999, 0.5])).tolist() == [
        33,
        33,
        33,
        50,
    ]


def two_ways() -> lp.Model:
    case = problem(
        [unit("A", establishment=10, staff=9), unit("B", establishment=10, staff=9)],
        [pool(capacity=0.999)],
    )
    return lp.build(case)


def test_allocations_are_split_back_and_rounded_within_capacity() -> None:
    """A pool of 0.999 WTE sends it all, half to A and half to B: 0.4995 each, which
    rounds to 0.50 + 0.50 = 1.00 > 0.999; within capacity it is 0.50 + 0.49."""
    model = two_ways()
    layout = model.layout
    values = np.zeros(layout.count)
    values[layout.sent[0, 0]] = 0.999
    values[layout.bank[:, 0]] = 0.4995
    rows = read_allocations(model, values)
    assert [(r["organisation"], r["wte"], r["cost"]) for r in rows] == [
        ("A", 0.5, 50.0),
        ("B", 0.49, 49.0),
    ]
    assert sum(r["wte"] for r in rows) <= 0.999


def solved() -> tuple[lp.Model, lp.FloatArray, lp.FloatArray]:
    """A needs 10 WTE, B 5; the pool's 12 (£100) and agency (£200) fill them: the pool's
    price is £100, as one more WTE replaces one agency WTE."""
    case = problem(
        [unit("A", establishment=100, staff=90), unit("B", establishment=50, staff=45)],
        [pool(capacity=12)],
        targets=Targets(nursing_capacity_growth=-0.5, turnover_target=1.0),
    )
    model = lp.build(case)
    outcome = run_highs(model, time_limit_s=30, threads=1)
    assert outcome.values is not None
    assert outcome.cost_duals is not None
    return model, outcome.values, outcome.cost_duals


def test_cost_keeps_cash_apart_from_the_penalty() -> None:
    model, values, _ = solved()
    cost = read_cost(model, values)
    assert (cost.bank, cost.agency, cost.cash, cost.unfilled_penalty) == (1_200, 600, 1_800, 0)
    assert cost.unfilled_wte_months == 0


def test_projections_per_unit_and_month() -> None:
    model, values, _ = solved()
    rows = read_projections(model, values)
    assert [(r["organisation"], r["staff_in_post_wte"]) for r in rows] == [("A", 90), ("B", 45)]
    assert sum(r["bank_wte"] + r["agency_wte"] for r in rows) == pytest.approx(15)
    assert {r["fill_rate"] for r in rows} == {1.0}


def test_system_by_month() -> None:
    """Nursing capacity 135 + 15 = 150 against a trajectory of 135·(1 - 0.5) = 67.5; no
    WTE above establishment: bank and agency exactly fill the gaps."""
    model, values, _ = solved()
    (month,) = read_system(model, values)
    assert month["nursing_capacity_wte"] == 150
    assert month["nursing_capacity_trajectory_wte"] == 67.5
    assert month["bank_wte"] == 12
    assert month["over_establishment_wte"] == 0
    assert month["nursing_shortfall_wte"] == 0


def test_targets_with_and_without_prices() -> None:
    model, values, duals = solved()
    priced = read_targets(model, values, duals)["nursing_capacity"]
    assert priced.met
    assert priced.shadow_price == 0
    assert read_targets(model, values, None)["nursing_capacity"].shadow_price is None


def test_pool_prices_from_duals() -> None:
    model, _, duals = solved()
    assert read_pool_prices(model, duals) == [{"pool": "P", "period": "2025-01", "value": 100.0}]
    assert read_pool_prices(model, None) == []
