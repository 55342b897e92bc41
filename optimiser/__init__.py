"""The bank allocation model: plain data in (``Problem``), plain data out (``PlanResult``)."""

from optimiser.problem import (
    HistoryMonth,
    Organisation,
    Pool,
    Problem,
    ProblemError,
    Reach,
    StaffGroup,
    Targets,
    Unit,
    validate,
)
from optimiser.result import PlanResult, SolveStatus
from optimiser.solve import solve

__all__ = [
    "HistoryMonth",
    "Organisation",
    "PlanResult",
    "Pool",
    "Problem",
    "ProblemError",
    "Reach",
    "SolveStatus",
    "StaffGroup",
    "Targets",
    "Unit",
    "solve",
    "validate",
]
