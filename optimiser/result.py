"""What a plan reports (``docs/model.md``, "What a plan reports")."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class SolveStatus(StrEnum):
    OPTIMAL = "optimal"
    TARGETS_UNREACHABLE = "targets_unreachable"
    TIME_LIMIT = "time_limit"
    INFEASIBLE = "infeasible"
    ERROR = "error"


PRICE_PER_POINT = "GBP per percentage point"


@dataclass(frozen=True, kw_only=True)
class Cost:
    """Money (bank, travel, agency: the cash the system pays) apart from the unfilled
    penalty (a price on empty posts, not money), and the empty posts themselves."""

    bank: float
    travel: float
    agency: float
    unfilled_penalty: float
    unfilled_wte_months: float

    @property
    def cash(self) -> float:
        return round(self.bank + self.travel + self.agency, 2)

    @property
    def total(self) -> float:
        return round(self.cash + self.unfilled_penalty, 2)

    def to_dict(self) -> dict[str, float]:
        return {**asdict(self), "cash": self.cash, "total": self.total}


@dataclass(frozen=True, kw_only=True)
class TargetOutcome:
    required: float  # the trajectory's final value (WTE, or a rate)
    achieved: float  # at the target month, or the last month when t* lies beyond
    shortfall: float  # the largest monthly shortfall (WTE, or rate as a fraction)
    shortfall_wte_months: float  # Σ_t slack
    months_short: list[str]
    shadow_price: float | None  # GBP per percentage point; None unless every target is met
    met: bool
    shadow_price_unit: str = PRICE_PER_POINT


@dataclass(frozen=True, kw_only=True)
class SolveFigures:
    variables: int
    constraints: int
    nonzeros: int
    build_s: float
    solve_s: float
    solver: str


@dataclass(kw_only=True)
class PlanResult:
    status: SolveStatus
    message: str
    objective: float | None = None  # the cost stage's optimum: cash and penalty, GBP
    # The shortfall stage's optimum, Σ_t (sN[t] + sT[t]) in WTE-months, as the solver
    # found it (not rounded): the cost stage holds the shortfall at it.
    least_shortfall: float | None = None
    cost: Cost | None = None
    do_nothing: Cost | None = None
    targets: dict[str, TargetOutcome] = field(default_factory=dict)
    allocations: list[dict[str, Any]] = field(default_factory=list)
    projections: list[dict[str, Any]] = field(default_factory=list)
    system: list[dict[str, Any]] = field(default_factory=list)
    pool_shadow_prices: list[dict[str, Any]] = field(default_factory=list)  # GBP
    pool_shortfall_prices: list[dict[str, Any]] = field(default_factory=list)  # WTE
    gap_levers: list[dict[str, Any]] = field(default_factory=list)
    prices_unit: str = "GBP"
    solve: SolveFigures | None = None
    blamed_families: list[str] = field(default_factory=list)

    @property
    def do_nothing_cost(self) -> float | None:
        return self.do_nothing.total if self.do_nothing is not None else None

    @property
    def saving(self) -> float | None:
        """``do_nothing_cost - cost.total``: cash and notional penalty together, not money
        (kept for existing readers; ``versus_do_nothing`` says what it is made of)."""
        if self.cost is None or self.do_nothing is None:
            return None
        return round(self.do_nothing.total - self.cost.total, 2)

    @property
    def versus_do_nothing(self) -> dict[str, float] | None:
        if self.cost is None or self.do_nothing is None:
            return None
        plan, nothing = self.cost, self.do_nothing
        return {
            "cash_difference": round(plan.cash - nothing.cash, 2),
            "unfilled_wte_months_avoided": round(
                nothing.unfilled_wte_months - plan.unfilled_wte_months, 2
            ),
            "penalty_avoided": round(nothing.unfilled_penalty - plan.unfilled_penalty, 2),
        }

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data, with the field names of the HTTP API."""
        return {
            "status": self.status.value,
            "message": self.message,
            "objective": self.objective,
            "least_shortfall_wte_months": self.least_shortfall,
            "cost": self.cost.to_dict() if self.cost else None,
            "do_nothing": self.do_nothing.to_dict() if self.do_nothing else None,
            "do_nothing_cost": self.do_nothing_cost,
            "saving": self.saving,
            "versus_do_nothing": self.versus_do_nothing,
            "targets": {name: asdict(t) for name, t in self.targets.items()},
            "allocations": self.allocations,
            "projections": self.projections,
            "system": self.system,
            "pool_shadow_prices": self.pool_shadow_prices,
            "pool_shortfall_prices": self.pool_shortfall_prices,
            "gap_levers": self.gap_levers,
            "prices_unit": self.prices_unit,
            "solve": asdict(self.solve) if self.solve else None,
            "blamed_families": self.blamed_families,
        }
