"""The plan request, its scenario, and what a plan looks like over HTTP."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from app.inputs import Text
from app.periods import PERIOD_PATTERN

Period = Annotated[str, Field(pattern=PERIOD_PATTERN, examples=["2024-04"])]
Fraction = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Money = Annotated[float, Field(ge=0, le=1_000_000, allow_inf_nan=False)]
MAX_HORIZON = 120


class Scenario(BaseModel):
    """Overrides of the model's inputs (symbols of docs/model.md); every key optional."""

    model_config = ConfigDict(extra="forbid")

    organisations: list[Text] | None = Field(
        default=None, max_length=5000, description="O: organisations to plan for (default: all)"
    )
    pools: list[Text] | None = Field(
        default=None, max_length=5000, description="P: bank pools to use (default: all)"
    )
    nursing_capacity_growth: float | None = Field(
        default=None,
        ge=-0.5,
        le=1,
        allow_inf_nan=False,
        description="gamma (default: the stored target)",
    )
    target_period: Period | None = Field(
        default=None,
        description="t*: the month the targets' trajectories reach their values (default: "
        "the horizon's last); it may lie beyond the horizon",
    )
    turnover_target: Fraction | None = Field(
        default=None, description="tau (default: the stored target)"
    )
    agency_reduction: Fraction | None = Field(
        default=None,
        description="alpha (default: the stored target); null for no agency ceiling",
    )
    min_fill_rate: Fraction | None = Field(default=None, description="f, or null")
    temporary_staffing_cap: Fraction | None = Field(default=None, description="q, or null")
    pipeline_factor: float | None = Field(
        default=None, ge=0, le=10, allow_inf_nan=False, description="starters x this (default 1)"
    )
    establishment_growth: dict[str, Annotated[float, Field(ge=-0.5, le=1)]] | None = Field(
        default=None, description="eg: annual rate by staff group"
    )
    agency_cost_per_wte_month: dict[str, Money] | None = Field(
        default=None, description="ca by staff group"
    )
    unfilled_penalty_per_wte_month: dict[str, Money] | None = Field(
        default=None, description="pi by staff group"
    )
    turnover_sensitivity: dict[str, Annotated[float, Field(ge=0, le=5)]] | None = Field(
        default=None, description="beta by staff group"
    )
    pool_capacity_wte: dict[str, Annotated[float, Field(ge=0, le=1_000_000)]] | None = Field(
        default=None, description="cap by pool, every month"
    )
    island_mainland_allowed: bool | None = Field(
        default=None, description="whether Isle of Wight and mainland pools serve each other"
    )
    travel_cost_per_wte_month: Money | None = Field(
        default=None, description="k: cost of any move between different places"
    )
    time_limit_s: float | None = Field(
        default=None, gt=0, le=3600, allow_inf_nan=False, description="solver time limit"
    )


class PlanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: Period = Field(description="The first month of the horizon")
    months: int = Field(ge=1, le=MAX_HORIZON, description="H, the horizon in months")
    scenario: Scenario = Field(default_factory=Scenario)
    label: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="A name to tell the plan apart in lists",
        examples=["agency down 20%"],
    )


class Cost(BaseModel):
    """A plan's cost: cash (money the system pays) apart from the unfilled penalty (a
    price on empty posts, not money)."""

    bank: float = Field(description="Bank WTE-months at each pool's cost, GBP")
    travel: float = Field(description="Travel between places, GBP")
    agency: float = Field(description="Agency, GBP")
    cash: float | None = Field(
        default=None, description="bank + travel + agency: the money the system pays, GBP"
    )
    unfilled_penalty: float = Field(
        description="The notional penalty on unfilled posts, GBP-equivalent (not money)"
    )
    unfilled_wte_months: float | None = Field(
        default=None, description="Unfilled WTE summed over units and months (WTE-months)"
    )
    total: float = Field(description="cash + unfilled_penalty: the cost stage's objective")


class VersusDoNothing(BaseModel):
    """The plan against the same system with no bank, each figure named for what it is."""

    cash_difference: float = Field(
        description="cost.cash - do_nothing.cash, GBP (positive: the plan pays more cash)"
    )
    unfilled_wte_months_avoided: float = Field(
        description="do_nothing.unfilled_wte_months - cost.unfilled_wte_months (WTE-months)"
    )
    penalty_avoided: float = Field(
        description="do_nothing.unfilled_penalty - cost.unfilled_penalty: notional penalty, "
        "GBP-equivalent (not money)"
    )


class TargetOutcome(BaseModel):
    required: float = Field(
        description="The trajectory's final required value (nursing: WTE; turnover: rate)"
    )
    achieved: float = Field(
        description="The plan's value at the target month (the last month when the target "
        "month lies beyond the horizon)"
    )
    shortfall: float = Field(
        description="The largest monthly shortfall (nursing: WTE; turnover: rate as a "
        "fraction); 0 when met"
    )
    shortfall_wte_months: float = Field(
        default=0.0, description="The target's slack summed over months (WTE-months)"
    )
    months_short: list[str] = Field(
        default_factory=list, description="The months (YYYY-MM) with a positive shortfall"
    )
    shadow_price: float | None = Field(
        description="Extra cost of tightening the target by one percentage point over its "
        "whole trajectory (GBP per percentage point); 0 when it does not bind; null unless "
        "every target is met"
    )
    shadow_price_unit: str = Field(default="GBP per percentage point")
    met: bool


class Allocation(BaseModel):
    pool: str
    organisation: str
    staff_group: str
    period: str
    wte: float = Field(
        description="WTE, in hundredths, rounded so that a pool's rows of a month never add "
        "up to more than its capacity"
    )
    cost: float = Field(description="Bank and travel cost, GBP")


class Projection(BaseModel):
    organisation: str
    staff_group: str
    period: str
    staff_in_post_wte: float
    bank_wte: float
    agency_wte: float
    unfilled_wte: float
    leavers_wte: float
    fill_rate: float | None


class SystemMonth(BaseModel):
    period: str
    nursing_capacity_wte: float = Field(description="Staff in post, bank and agency of nursing")
    nursing_capacity_trajectory_wte: float = Field(
        description="R_N[t] = C0·(1 + gamma·min(1, t/t*)), WTE"
    )
    nursing_shortfall_wte: float | None = Field(default=None, description="sN[t], WTE")
    turnover_rate_12m: float | None = Field(
        description="Rolling 12-month turnover, with the months before the horizon (fraction)"
    )
    turnover_trajectory: float | None = Field(
        default=None, description="R_T[t], the rolling turnover allowed this month (fraction)"
    )
    turnover_target: float = Field(description="tau, the rate at the target month (fraction)")
    turnover_shortfall_wte: float | None = Field(
        default=None, description="sT[t]: WTE of leavers above the trajectory in the window"
    )
    agency_wte: float
    agency_baseline_wte: float
    bank_wte: float
    bank_capacity_wte: float
    over_establishment_nursing_wte: float | None = Field(
        default=None,
        description="WTE staffed above establishment (staff in post, bank and agency over "
        "E), over nursing units",
    )
    over_establishment_wte: float | None = Field(
        default=None, description="The same over all units, WTE"
    )


class PoolShadowPrice(BaseModel):
    pool: str
    period: str
    value: float = Field(
        description="Cost saved by one more bank WTE that month (GBP per WTE-month), from "
        "the cost stage; given only when every target is met"
    )


class PoolShortfallPrice(BaseModel):
    pool: str
    period: str
    value: float = Field(
        description="WTE of total target shortfall closed by one more bank WTE that month "
        "(WTE per WTE-month), from the shortfall stage; given only when a target is out of "
        "reach"
    )


class GapLever(BaseModel):
    """Something that would close the gap to an unreachable target, and by how much."""

    lever: str = Field(description="pool, pipeline, agency_ceiling or target_month")
    subject: str | None = Field(description="The pool's code, or null")
    description: str = Field(description="A sentence in a workforce lead's words")
    shortfall_closed_wte: float = Field(
        description="WTE-months of total shortfall closed by the step"
    )
    step: str = Field(description="What the lever moves by, in words")


class SolveFigures(BaseModel):
    variables: int
    constraints: int
    nonzeros: int
    build_s: float
    solve_s: float
    solver: str


class PlanRead(BaseModel):
    """A plan: its state and, once finished, everything the model reports (docs/model.md)."""

    id: str
    label: str | None = Field(default=None, description="The name given in the request")
    state: str = Field(description="queued, running, finished or failed")
    status: str | None = Field(
        description="optimal, targets_unreachable, time_limit, infeasible or error; "
        "null until finished"
    )
    message: str | None
    start: str
    months: int
    scenario: dict[str, Any]
    requested_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    data_notes: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Returns that were missing and how they were filled, and other caveats",
    )
    synthetic_data: bool = Field(
        default=False, description="True when the plan was built from synthetic demo returns"
    )
    objective: float | None = Field(
        default=None,
        description="The cost stage's optimum (cash and penalty, GBP), among plans with the "
        "least total target shortfall",
    )
    least_shortfall_wte_months: float | None = Field(
        default=None,
        description="The shortfall stage's optimum: the least total target shortfall, "
        "summed over months and targets (WTE-months, as the solver found it; about 0 when "
        "every target is met). The cost stage holds the shortfall at it.",
    )
    cost: Cost | None = None
    do_nothing: Cost | None = Field(
        default=None, description="The same system with no bank, solved the same way"
    )
    do_nothing_cost: float | None = Field(default=None, description="do_nothing.total, GBP")
    saving: float | None = Field(
        default=None,
        description="do_nothing_cost - cost.total: cash and notional penalty together, not "
        "money; see versus_do_nothing",
    )
    versus_do_nothing: VersusDoNothing | None = None
    targets: dict[str, TargetOutcome] | None = None
    allocations: list[Allocation] | None = None
    projections: list[Projection] | None = None
    system: list[SystemMonth] | None = None
    pool_shadow_prices: list[PoolShadowPrice] | None = None
    pool_shortfall_prices: list[PoolShortfallPrice] | None = Field(
        default=None, description="Sorted by value, largest first; [] when every target is met"
    )
    gap_levers: list[GapLever] | None = Field(
        default=None,
        description="What would close the gap, biggest first; [] when every target is met",
    )
    prices_unit: str | None = Field(
        default=None,
        description="GBP when prices come from the cost stage, WTE when from the shortfall stage",
    )
    solve: SolveFigures | None = None


class PlanSummary(BaseModel):
    id: str
    label: str | None = Field(description="The name given in the request")
    state: str
    status: str | None
    start: str
    months: int
    changed: list[str] = Field(
        description="The scenario keys the request set; the others kept their defaults"
    )
    sweep_id: str | None = Field(description="The sweep the plan is a point of, if any")
    sweep_point: dict[str, Any] | None = Field(
        description="The sweep's value of each key at this point"
    )
    requested_by: str
    created_at: datetime
    finished_at: datetime | None
    total_cost: float | None
    cash_cost: float | None = Field(
        description="What the plan pays out: bank, travel and agency (GBP); the total cost "
        "adds the penalty of unfilled posts"
    )
    do_nothing_cost: float | None
    targets_met: dict[str, bool] | None = Field(description="Whether each target is met")


class PlanPage(BaseModel):
    items: list[PlanSummary]
    total: int
    limit: int
    offset: int
    next: str | None


MAX_SWEEP_POINTS = 200
GridValue = float | bool | str | None


class SweepRange(BaseModel):
    """``steps`` evenly spaced values from ``from`` to ``to``, both included."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: float = Field(alias="from", allow_inf_nan=False, description="The first value")
    stop: float = Field(alias="to", allow_inf_nan=False, description="The last value")
    steps: int = Field(ge=1, le=MAX_SWEEP_POINTS, description="How many values")

    def values(self) -> list[float]:
        if self.steps == 1:
            return [self.start]
        width = (self.stop - self.start) / (self.steps - 1)
        return [round(self.start + i * width, 10) for i in range(self.steps)]


class SweepRequest(BaseModel):
    """A grid of scenarios over one base plan request: one plan per point."""

    model_config = ConfigDict(extra="forbid")

    base: PlanRequest = Field(description="The plan request every point starts from")
    grid: dict[
        str,
        Annotated[list[GridValue], Field(min_length=1, max_length=MAX_SWEEP_POINTS)] | SweepRange,
    ] = Field(
        min_length=1,
        max_length=2,
        description="One or two scenario keys, each with its values or a range; a dotted "
        "key reaches into a by-group key (`turnover_sensitivity.NURSE`). At most "
        f"{MAX_SWEEP_POINTS} points in all.",
        examples=[
            {
                "turnover_sensitivity.NURSE": {"from": 0.2, "to": 1.0, "steps": 5},
                "agency_reduction": [0, 0.1, 0.2, 0.3],
            }
        ],
    )


class SweepSummary(BaseModel):
    """A sweep as the list shows it: its grid and progress, without its points."""

    id: str
    label: str | None = Field(description="The base request's label")
    state: str = Field(description="queued, running, finished or failed, as in a sweep")
    total: int = Field(description="Points in the grid")
    done: int = Field(description="Points solved (whatever the optimiser's verdict)")
    failed: int = Field(description="Points whose solve failed")
    grid: dict[str, list[Any]] = Field(description="Each key's values, ranges expanded")
    base: dict[str, Any] = Field(description="The base plan request")
    requested_by: str
    created_at: datetime


class SweepPage(BaseModel):
    items: list[SweepSummary]
    total: int
    limit: int
    offset: int
    next: str | None


class SweepPoint(BaseModel):
    """One point of a sweep: its values, its plan and the figures to compare."""

    index: int
    values: dict[str, Any] = Field(description="The grid's value of each key at this point")
    plan_id: str
    state: str = Field(description="queued, running, finished or failed")
    status: str | None = Field(description="The optimiser's verdict once finished")
    total_cost: float | None = Field(
        description="Cash and the notional unfilled penalty together (GBP-equivalent)"
    )
    do_nothing_cost: float | None = Field(
        description="The same for doing nothing (no bank): cash and penalty together"
    )
    saving: float | None = Field(
        description="do_nothing_cost - total_cost: cash and notional penalty together, not "
        "money; see cash_difference, unfilled_wte_months_avoided and penalty_avoided"
    )
    cash_cost: float | None = Field(
        default=None, description="Bank, travel and agency: money the system pays (GBP)"
    )
    unfilled_wte_months: float | None = Field(
        default=None, description="Unfilled posts summed over units and months (WTE-months)"
    )
    cash_difference: float | None = Field(
        default=None,
        description="cash_cost minus doing nothing's cash (GBP); positive: the plan pays more",
    )
    unfilled_wte_months_avoided: float | None = Field(
        default=None, description="Doing nothing's unfilled WTE-months minus the plan's"
    )
    penalty_avoided: float | None = Field(
        default=None,
        description="Doing nothing's unfilled penalty minus the plan's (GBP-equivalent, "
        "notional: not money)",
    )
    targets_met: dict[str, bool] | None = Field(description="Whether each target is met")
    shortfalls: dict[str, float] | None = Field(description="Each target's shortfall; 0 when met")
    nursing_shadow_price: float | None = Field(
        description="The nursing capacity target's shadow price (GBP per percentage point)"
    )


class SweepRead(BaseModel):
    id: str
    state: str = Field(
        description="queued (no point started), running, finished (every point ended, "
        "at least one solved) or failed (every point failed)"
    )
    total: int = Field(description="Points in the grid")
    done: int = Field(description="Points solved (whatever the optimiser's verdict)")
    failed: int = Field(description="Points whose solve failed")
    keys: list[str]
    base: dict[str, Any] = Field(description="The base plan request")
    requested_by: str
    created_at: datetime
    points: list[SweepPoint]
