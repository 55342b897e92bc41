"""Plans whose stored result is written by hand in the version-2 shape (cash apart from
penalty, do nothing, versus do nothing, shortfall months, gap levers, shortfall prices,
over-establishment), inserted straight into the database: the pages and exports are tested
on them whatever the optimiser of the day produces. Also an older result, without the
version-2 fields, for the fallbacks."""

from __future__ import annotations

import copy
import uuid
from typing import Any

from sqlalchemy.orm import Session

from app.periods import add_months
from app.plans.models import Plan, PlanState

START = "2026-04"
MONTHS = 12
ORGANISATIONS = ("RHM", "RHU", "R1F")
POOLS = {"RHM": "SOT-NURSING", "RHU": "POR-NURSING", "R1F": "IOW-NURSING"}
# A name a user typed, meant to become a live formula in a spreadsheet.
FORMULA = '=HYPERLINK("http://x","y")'


def _periods() -> list[str]:
    return [add_months(START, t) for t in range(MONTHS)]


def _system(reachable: bool) -> list[dict[str, Any]]:
    rows = []
    c0 = 19_000.0
    for t, period in enumerate(_periods(), start=1):
        trajectory = c0 * (1 + 0.05 * min(1.0, t / MONTHS))
        short = 0.0 if reachable or t < 8 else 40.0 * (t - 7)
        over = 0.0 if t < 10 else 12.5 * (t - 9)
        rows.append(
            {
                "period": period,
                "nursing_capacity_wte": round(trajectory - short, 2),
                "nursing_capacity_trajectory_wte": round(trajectory, 2),
                "turnover_rate_12m": 0.14 - 0.002 * t,
                "turnover_target": 0.12,
                "turnover_trajectory": 0.14 - (0.02 * t / MONTHS),
                "agency_wte": 500.0 - 5 * t,
                "agency_baseline_wte": 520.0,
                "bank_wte": 1500.0 + 10 * t,
                "bank_capacity_wte": 1500.0 + 10 * t,
                "nursing_shortfall_wte": short,
                "turnover_shortfall_wte": 0.0,
                "over_establishment_nursing_wte": over,
                "over_establishment_wte": over * 1.5,
            }
        )
    return rows


def v2_result(*, reachable: bool, organisation_name: str | None = None) -> dict[str, Any]:
    """A 12-month plan from 2026-04 over RHM, RHU and R1F; ``reachable`` says whether
    every target is met (cash prices) or nursing capacity falls short from 2026-11
    (shortfall prices and gap levers)."""
    periods = _periods()
    allocations = [
        {
            "pool": POOLS[org],
            "organisation": org,
            "staff_group": "NURSE",
            "period": period,
            "wte": 40.0 + i,
            "cost": (40.0 + i) * 4300,
        }
        for i, org in enumerate(ORGANISATIONS)
        for period in periods
    ]
    projections = [
        {
            "organisation": org,
            "staff_group": "NURSE",
            "period": period,
            "staff_in_post_wte": 3000.0 + 10 * t,
            "bank_wte": 40.0,
            "agency_wte": 20.0,
            "unfilled_wte": 10.0,
            "leavers_wte": 30.0,
            "fill_rate": 0.85,
        }
        for org in ORGANISATIONS
        for t, period in enumerate(periods)
    ]
    cost = {
        "bank": 6_500_000.0,
        "travel": 120_000.0,
        "agency": 28_000_000.0,
        "cash": 34_620_000.0,
        "unfilled_penalty": 1_800_000.0,
        "unfilled_wte_months": 360.0,
        "total": 36_420_000.0,
    }
    do_nothing = {
        "bank": 0.0,
        "travel": 0.0,
        "agency": 31_000_000.0,
        "cash": 31_000_000.0,
        "unfilled_penalty": 9_200_000.0,
        "unfilled_wte_months": 1_840.0,
        "total": 40_200_000.0,
    }
    months_short = [] if reachable else periods[7:]
    targets = {
        "nursing_capacity": {
            "required": 19_950.0,
            "achieved": 19_950.0 if reachable else 19_750.0,
            "shortfall": 0.0 if reachable else 200.0,
            "shortfall_wte_months": 0.0 if reachable else 600.0,
            "months_short": months_short,
            "shadow_price": 41_000.0 if reachable else None,
            "shadow_price_unit": "GBP per percentage point",
            "met": reachable,
        },
        "turnover": {
            "required": 0.12,
            "achieved": 0.116,
            "shortfall": 0.0,
            "shortfall_wte_months": 0.0,
            "months_short": [],
            "shadow_price": 0.0 if reachable else None,
            "shadow_price_unit": "GBP per percentage point",
            "met": True,
        },
        "agency_reduction": {
            "required": 416.0,
            "achieved": 440.0,
            "shortfall": 0.0,
            "shortfall_wte_months": 0.0,
            "months_short": [],
            "shadow_price": 0.0 if reachable else None,
            "shadow_price_unit": "GBP per percentage point",
            "met": True,
        },
    }
    result: dict[str, Any] = {
        "status": "optimal" if reachable else "targets_unreachable",
        "message": None if reachable else "Nursing capacity is out of reach from 2026-11.",
        "objective": cost["total"],
        "cost": cost,
        "do_nothing_cost": do_nothing["total"],
        "saving": do_nothing["total"] - cost["total"],
        "do_nothing": do_nothing,
        "versus_do_nothing": {
            "cash_difference": cost["cash"] - do_nothing["cash"],
            "unfilled_wte_months_avoided": do_nothing["unfilled_wte_months"]
            - cost["unfilled_wte_months"],
            "penalty_avoided": do_nothing["unfilled_penalty"] - cost["unfilled_penalty"],
        },
        "targets": targets,
        "allocations": allocations,
        "projections": projections,
        "system": _system(reachable),
        "pool_shadow_prices": (
            [
                {"pool": pool, "period": period, "value": 2_150.0 - 100 * i}
                for i, pool in enumerate(POOLS.values())
                for period in periods
            ]
            if reachable
            else []
        ),
        "pool_shortfall_prices": (
            []
            if reachable
            else sorted(
                (
                    {"pool": pool, "period": period, "value": round(0.8 - 0.2 * i, 2)}
                    for i, pool in enumerate(POOLS.values())
                    for period in periods[7:]
                ),
                key=lambda p: -p["value"],
            )
        ),
        "gap_levers": (
            []
            if reachable
            else [
                {
                    "lever": "pool",
                    "subject": "POR-NURSING",
                    "description": "Recruit more bank nurses in Portsmouth",
                    "shortfall_closed_wte": 4.0,
                    "step": "one more bank WTE in every month",
                },
                {
                    "lever": "pipeline",
                    "subject": "NURSE",
                    "description": "Take on more newly qualified nurses",
                    "shortfall_closed_wte": 120.0,
                    "step": "10% more starters",
                },
                {
                    "lever": "target_month",
                    "subject": None,
                    "description": "Reach the nursing target later",
                    "shortfall_closed_wte": 380.0,
                    "step": "target 6 months later",
                },
            ]
        ),
        "prices_unit": "GBP" if reachable else "WTE",
        "solve": {
            "variables": 1234,
            "constraints": 987,
            "nonzeros": 5678,
            "build_s": 0.12,
            "solve_s": 0.34,
            "solver": "HiGHS 1.7",
        },
    }
    if organisation_name is not None:
        for row in result["allocations"]:
            row["organisation"] = organisation_name
    return result


def v1_result(*, reachable: bool) -> dict[str, Any]:
    """The same plan as an older version stored it: no cash, no do-nothing breakdown, no
    shortfall months, gap levers, shortfall prices or over-establishment; pounds prices
    even when a target was out of reach."""
    result = copy.deepcopy(v2_result(reachable=reachable))
    for key in ("do_nothing", "versus_do_nothing", "gap_levers", "pool_shortfall_prices"):
        del result[key]
    del result["prices_unit"]
    for key in ("cash", "unfilled_wte_months"):
        del result["cost"][key]
    for target in result["targets"].values():
        for key in ("shortfall_wte_months", "months_short", "shadow_price_unit"):
            del target[key]
        target["shadow_price"] = 2_892_564.0
    for month in result["system"]:
        for key in (
            "turnover_trajectory",
            "nursing_shortfall_wte",
            "turnover_shortfall_wte",
            "over_establishment_nursing_wte",
            "over_establishment_wte",
        ):
            del month[key]
    result["pool_shadow_prices"] = [{"pool": "POR-NURSING", "period": START, "value": 2_892_564.0}]
    return result


def insert_plan(
    session: Session,
    result: dict[str, Any],
    *,
    scenario: dict[str, Any] | None = None,
    synthetic: bool = False,
) -> str:
    """A finished plan holding ``result``, as the worker would have stored it."""
    plan_id = uuid.uuid4().hex[:16]
    session.add(
        Plan(
            id=plan_id,
            state=PlanState.FINISHED.value,
            status=result["status"],
            message=result.get("message"),
            start=START,
            months=MONTHS,
            request={"start": START, "months": MONTHS, "scenario": scenario or {}},
            inputs={"notes": [], "synthetic_data": synthetic},
            result=result,
            requested_by="workforce lead",
        )
    )
    session.flush()
    return plan_id
