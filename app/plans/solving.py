"""From gathered data and a scenario to the optimiser's problem, and solving it.

The defaults a scenario may override are here, documented in ``docs/optimiser.md``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.errors import ValidationFailed, field_error
from app.plans.inputs import GatheredInputs, horizon_index
from app.plans.schemas import PlanRequest, Scenario
from optimiser import (
    HistoryMonth,
    Organisation,
    Pool,
    Problem,
    ProblemError,
    Reach,
    StaffGroup,
    Targets,
    Unit,
    solve,
    validate,
)

if TYPE_CHECKING:
    from optimiser.chain import Chain

ISLAND_PLACES = ("Isle of Wight",)
DEFAULT_TRAVEL_COST = 150.0  # GBP per WTE-month for a move between places
# Agency per WTE-month by staff group when no return reports agency spend (2024 prices).
DEFAULT_AGENCY_COST = {
    "NURSE": 5_800.0,
    "MIDWIFE": 6_100.0,
    "DOCTOR": 17_000.0,
    "STT": 5_300.0,
    "SUPPORT": 3_300.0,
    "AMBULANCE": 5_000.0,
    "INFRA": 3_600.0,
    "SOCIAL_CARE": 3_100.0,
    "PRIMARY_CARE": 4_200.0,
}
FALLBACK_AGENCY_COST = 5_000.0
# Agency must cost more than the bank (facts: about 20% more on average).
AGENCY_OVER_BANK = 1.2
# An unfilled WTE-month weighs this many agency WTE-months; nursing groups weigh more.
PENALTY_OVER_AGENCY = {True: 3.0, False: 2.0}
# Turnover sensitivity: no published value (see docs/optimiser.md); an assumption.
DEFAULT_TURNOVER_SENSITIVITY = 0.5


@dataclass
class Solved:
    status: str
    message: str
    result: dict[str, Any]


def _agency_costs(gathered: GatheredInputs) -> dict[str, float]:
    """Each staff group's agency cost per WTE-month from the base month's reported spend,
    where any organisation reports it."""
    spend: dict[str, float] = defaultdict(float)
    wte: dict[str, float] = defaultdict(float)
    for unit in gathered.units:
        if unit.agency_spend_gbp is not None and unit.agency_wte > 0:
            spend[unit.staff_group] += unit.agency_spend_gbp
            wte[unit.staff_group] += unit.agency_wte
    return {code: round(spend[code] / wte[code], 2) for code in wte}


def _staff_group(
    group: dict[str, Any],
    *,
    scenario: Scenario,
    reported_agency: dict[str, float],
    dearest_bank: dict[str, float],
    notes: list[dict[str, Any]],
) -> StaffGroup:
    """A staff group with its costs: agency dearer than its bank (noted where raised), the
    unfilled penalty above agency, and the scenario's overrides."""
    code, nursing = group["code"], bool(group["counts_as_nursing"])
    overrides = scenario.agency_cost_per_wte_month or {}
    if code in overrides:
        agency = float(overrides[code])
    else:
        agency = reported_agency.get(code, DEFAULT_AGENCY_COST.get(code, FALLBACK_AGENCY_COST))
    if code not in overrides and agency <= dearest_bank[code]:
        raised = round(dearest_bank[code] * AGENCY_OVER_BANK, 2)
        notes.append(
            {
                "kind": "agency_cost",
                "message": f"Agency for {code} (£{agency:,.0f} a WTE-month) was not dearer "
                f"than its bank; £{raised:,.0f} is used instead.",
            }
        )
        agency = raised
    penalty = float(
        (scenario.unfilled_penalty_per_wte_month or {}).get(
            code, round(agency * PENALTY_OVER_AGENCY[nursing], 2)
        )
    )
    return StaffGroup(
        code=code,
        counts_as_nursing=nursing,
        agency_cost_per_wte_month=agency,
        unfilled_penalty_per_wte_month=penalty,
        turnover_sensitivity=float(
            (scenario.turnover_sensitivity or {}).get(code, DEFAULT_TURNOVER_SENSITIVITY)
        ),
        establishment_growth=float((scenario.establishment_growth or {}).get(code, 0.0)),
    )


def _staff_groups(gathered: GatheredInputs, scenario: Scenario) -> tuple[StaffGroup, ...]:
    dearest_bank: dict[str, float] = defaultdict(float)
    for pool in gathered.pools:
        for group in pool["covers"]:
            dearest_bank[group] = max(dearest_bank[group], pool["cost_per_wte_month"])
    reported = _agency_costs(gathered)
    return tuple(
        _staff_group(
            group,
            scenario=scenario,
            reported_agency=reported,
            dearest_bank=dearest_bank,
            notes=gathered.notes,
        )
        for group in gathered.staff_groups
    )


def _targets(request: PlanRequest, stored: dict[str, float]) -> Targets:
    """The stored targets, each overridden where the scenario sets it."""
    scenario = request.scenario
    return Targets(
        nursing_capacity_growth=scenario.nursing_capacity_growth
        if scenario.nursing_capacity_growth is not None
        else stored["nursing_capacity_growth"],
        target_month=horizon_index(request.start, scenario.target_period)
        if scenario.target_period
        else None,
        turnover_target=scenario.turnover_target
        if scenario.turnover_target is not None
        else stored["turnover_rate"],
        # An explicit null means no agency ceiling at all.
        agency_reduction=scenario.agency_reduction
        if "agency_reduction" in scenario.model_fields_set
        else stored["agency_reduction"],
        min_fill_rate=scenario.min_fill_rate,
        temporary_staffing_cap=scenario.temporary_staffing_cap,
    )


def _reach(scenario: Scenario) -> Reach:
    return Reach(
        island_mainland_allowed=bool(scenario.island_mainland_allowed),
        travel_cost_per_wte_month=scenario.travel_cost_per_wte_month
        if scenario.travel_cost_per_wte_month is not None
        else DEFAULT_TRAVEL_COST,
        island_places=ISLAND_PLACES,
    )


def _units(gathered: GatheredInputs) -> tuple[Unit, ...]:
    return tuple(
        Unit(
            organisation=u.organisation,
            staff_group=u.staff_group,
            establishment_wte=round(u.establishment_wte, 2),
            staff_in_post_wte=round(u.staff_in_post_wte, 2),
            turnover_rate=round(u.turnover_rate, 6),
            starters_per_month=round(u.starters_per_month, 4),
            agency_wte=round(u.agency_wte, 2),
            bank_wte=round(u.bank_wte, 2),
        )
        for u in gathered.units
    )


def _pools(gathered: GatheredInputs, planned_groups: set[str]) -> tuple[Pool, ...]:
    return tuple(
        Pool(
            code=p["code"],
            home_place=p["home_place"],
            # Only the groups the plan has: a pool's other groups have no posts here.
            covers=tuple(g for g in p["covers"] if g in planned_groups),
            cost_per_wte_month=p["cost_per_wte_month"],
            capacity_wte=p["capacity_wte"][0],
            capacity_by_month=tuple(p["capacity_wte"]),
        )
        for p in gathered.pools
        if any(g in planned_groups for g in p["covers"])
    )


def _history(gathered: GatheredInputs) -> tuple[HistoryMonth, ...]:
    return tuple(
        HistoryMonth(
            month=int(h["month"]),
            leavers_wte=float(h["leavers_wte"]),
            staff_in_post_wte=float(h["staff_in_post_wte"]),
        )
        for h in gathered.history
    )


def build_problem(
    gathered: GatheredInputs,
    *,
    request: PlanRequest,
    targets: dict[str, float],
    default_time_limit_s: float,
) -> dict[str, Any]:
    """The optimiser's problem (as plain data) and solver settings; checks it too."""
    scenario = request.scenario
    groups = _staff_groups(gathered, scenario)
    problem = Problem(
        start=request.start,
        months=request.months,
        organisations=tuple(Organisation(o["code"], o["place"]) for o in gathered.organisations),
        staff_groups=groups,
        units=_units(gathered),
        pools=_pools(gathered, {g.code for g in groups}),
        targets=_targets(request, targets),
        reach=_reach(scenario),
        pipeline_factor=scenario.pipeline_factor if scenario.pipeline_factor is not None else 1.0,
        history=_history(gathered),
    )
    try:
        validate(problem)
    except ProblemError as error:
        raise ValidationFailed(
            "The scenario and the stored data make a problem the optimiser cannot take.",
            errors=[field_error(("scenario",), f"{where}: {what}") for where, what in error.errors],
        ) from error
    return {
        "problem": problem.to_dict(),
        "time_limit_s": scenario.time_limit_s or default_time_limit_s,
    }


def solve_inputs(inputs: dict[str, Any], *, chain: Chain | None = None) -> Solved:
    """Solve a stored plan's inputs; the same inputs give the same plan. With ``chain``,
    from the state the chain's last plan left (``optimiser.chain``)."""
    problem = Problem.from_dict(inputs["problem"])
    time_limit_s = float(inputs["time_limit_s"])
    plan = (
        solve(problem, time_limit_s=time_limit_s, threads=1)
        if chain is None
        else chain.solve(problem, time_limit_s=time_limit_s)
    )
    result = plan.to_dict()
    return Solved(status=result.pop("status"), message=result.pop("message"), result=result)
