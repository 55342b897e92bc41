"""What a plan reports (``optimiser-model.md``, "What a plan reports")."""

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


@dataclass(frozen=True)
class Cost:
    bank: float
    travel: float
    agency: float
    unfilled_penalty: float

    @property
    def total(self) -> float:
        return self.bank + self.travel + self.agency + self.unfilled_penalty

    def to_dict(self) -> dict[str, float]:
        return {**asdict(self), "total": round(self.total, 2)}


@dataclass(frozen=True)
class TargetOutcome:
    required: float
    achieved: float
    shortfall: float
    shadow_price: float | None  # GBP per percentage point; None when not meaningful
    met: bool


@dataclass(frozen=True)
class SolveFigures:
    variables: int
    constraints: int
    nonzeros: int
    build_s: float
    solve_s: float
    solver: str


@dataclass
class PlanResult:
    status: SolveStatus
    message: str
    objective: float | None = None
    cost: Cost | None = None
    do_nothing_cost: float | None = None
    targets: dict[str, TargetOutcome] = field(default_factory=dict)
    allocations: list[dict[str, Any]] = field(default_factory=list)
    projections: list[dict[str, Any]] = field(default_factory=list)
    system: list[dict[str, Any]] = field(default_factory=list)
    pool_shadow_prices: list[dict[str, Any]] = field(default_factory=list)
    solve: SolveFigures | None = None
    blamed_families: list[str] = field(default_factory=list)

    @property
    def saving(self) -> float | None:
        if self.cost is None or self.do_nothing_cost is None:
            return None
        return round(self.do_nothing_cost - self.cost.total, 2)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data, with the field names of the HTTP contract."""
        return {
            "status": self.status.value,
            "message": self.message,
            "objective": self.objective,
            "cost": self.cost.to_dict() if self.cost else None,
            "do_nothing_cost": self.do_nothing_cost,
            "saving": self.saving,
            "targets": {name: asdict(t) for name, t in self.targets.items()},
            "allocations": self.allocations,
            "projections": self.projections,
            "system": self.system,
            "pool_shadow_prices": self.pool_shadow_prices,
            "solve": asdict(self.solve) if self.solve else None,
            "blamed_families": self.blamed_families,
        }
