"""The optimiser's input: plain, frozen data, checked before any model is built.

Symbols follow ``docs/model.md``: a unit is one organisation's staff group ``(o, g)``;
month ``t`` runs from 1 (the start) to ``H``; month ``s <= 0`` is before the horizon,
``s = 0`` being the base month whose return gives the starting state.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

MAX_MONTHS = 120
# The target month t* may lie beyond the horizon, by as much as another longest horizon.
MAX_TARGET_MONTH = 2 * MAX_MONTHS
HISTORY_MONTHS = 12  # s = -11..0
PERIOD_LENGTH = 7


@dataclass(frozen=True)
class Organisation:
    code: str
    place: str


@dataclass(frozen=True)
class StaffGroup:
    code: str
    counts_as_nursing: bool
    agency_cost_per_wte_month: float  # ca[g]
    unfilled_penalty_per_wte_month: float  # pi[g]
    turnover_sensitivity: float  # beta[g]
    establishment_growth: float = 0.0  # eg[g], annual


@dataclass(frozen=True)
class Unit:
    """One organisation's staff group at the start: the latest return and its last year."""

    organisation: str
    staff_group: str
    establishment_wte: float  # E[o,g,1]
    staff_in_post_wte: float  # S0
    turnover_rate: float  # r, annual
    starters_per_month: float  # before the pipeline factor
    agency_wte: float  # A0
    bank_wte: float  # B0


@dataclass(frozen=True)
class Pool:
    code: str
    home_place: str
    covers: tuple[str, ...]
    cost_per_wte_month: float  # c[p]
    capacity_wte: float  # cap[p,1] unless capacity_by_month is given
    monthly_growth_rate: float = 0.0
    capacity_by_month: tuple[float, ...] | None = None  # cap[p,t] for t = 1..H

    def capacity(self, months: int) -> list[float]:
        if self.capacity_by_month is not None:
            return list(self.capacity_by_month)
        return [self.capacity_wte * (1 + self.monthly_growth_rate) ** t for t in range(months)]


@dataclass(frozen=True)
class Targets:
    nursing_capacity_growth: float = 0.05  # gamma
    target_month: int | None = None  # t*, from 1, may be beyond H; None means H
    turnover_target: float = 0.12  # tau
    agency_reduction: float | None = None  # alpha; None: no agency ceiling
    min_fill_rate: float | None = None  # f
    temporary_staffing_cap: float | None = None  # q


@dataclass(frozen=True)
class Reach:
    """Which pools may serve which organisations, and what a move between places costs."""

    island_mainland_allowed: bool = False
    travel_cost_per_wte_month: float = 150.0  # k for any move between different places
    island_places: tuple[str, ...] = ("Isle of Wight",)
    # Places grouped into regions, for a system too large for every place to reach every
    # other (England): a pool never serves a place outside its own region. Places in no
    # listed region are one region together, so with none listed (HIOW) all are.
    regions: tuple[tuple[str, ...], ...] = ()

    def allowed(self, pool_place: str, organisation_place: str) -> bool:
        if pool_place == organisation_place:
            return True
        if self._region(pool_place) != self._region(organisation_place):
            return False
        crossing = (pool_place in self.island_places) != (organisation_place in self.island_places)
        return self.island_mainland_allowed or not crossing

    def _region(self, place: str) -> int:
        for index, region in enumerate(self.regions):
            if place in region:
                return index
        return -1

    def cost(self, pool_place: str, organisation_place: str) -> float:
        return 0.0 if pool_place == organisation_place else self.travel_cost_per_wte_month


@dataclass(frozen=True)
class HistoryMonth:
    """The system's figures of one month before the horizon (the plan's units only)."""

    month: int  # s: 0 the base month, -1 the month before it, down to -11
    leavers_wte: float  # Lh[s]
    staff_in_post_wte: float  # Sh[s]


@dataclass(frozen=True)
class Problem:
    start: str  # YYYY-MM of t = 1
    months: int  # H
    organisations: tuple[Organisation, ...]
    staff_groups: tuple[StaffGroup, ...]
    units: tuple[Unit, ...]
    pools: tuple[Pool, ...]
    targets: Targets = field(default_factory=Targets)
    reach: Reach = field(default_factory=Reach)
    pipeline_factor: float = 1.0
    # The months before the horizon that the rolling turnover window reaches back into;
    # a month left out had no return, and is left out of both sides of the window.
    history: tuple[HistoryMonth, ...] = ()

    @property
    def target_month(self) -> int:
        return self.targets.target_month or self.months

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Problem:
        """A problem from plain data (JSON); refuses unknown or missing keys by name."""
        problem: Problem = _build(cls, data, "")
        return problem


class ProblemError(ValueError):
    """A problem that cannot be solved as given; ``errors`` name each bad field."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{where}: {what}" for where, what in errors))


_NESTED: dict[str, Any] = {
    "organisations": Organisation,
    "staff_groups": StaffGroup,
    "units": Unit,
    "pools": Pool,
    "targets": Targets,
    "reach": Reach,
    "history": HistoryMonth,
}


def _build(cls: Any, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise ProblemError([(where or "problem", "expected an object")])
    names = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise ProblemError([(f"{where}{name}", "unknown field") for name in unknown])
    values: dict[str, Any] = {}
    for name, value in data.items():
        path = f"{where}{name}"
        nested = _NESTED.get(name)
        if nested is not None and isinstance(value, list | tuple):
            values[name] = tuple(
                _build(nested, item, f"{path}[{i}].") for i, item in enumerate(value)
            )
        elif nested is not None and isinstance(value, dict):
            values[name] = _build(nested, value, f"{path}.")
        elif isinstance(value, list | tuple):
            values[name] = tuple(
                tuple(item) if isinstance(item, list | tuple) else item for item in value
            )
        else:
            values[name] = value
    try:
        return cls(**values)
    except TypeError as error:
        raise ProblemError([(where.rstrip(".") or "problem", str(error))]) from error


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


class _Checks:
    """The errors found so far, and the check of a number's range."""

    def __init__(self) -> None:
        self.errors: list[tuple[str, str]] = []

    def add(self, path: str, message: str) -> None:
        self.errors.append((path, message))

    def number(
        self, path: str, value: Any, low: float | None = 0.0, high: float | None = None
    ) -> None:
        if not _finite(value):
            self.add(path, f"must be a finite number, not {value!r}")
        elif low is not None and value < low:
            self.add(path, f"must be at least {low}, not {value}")
        elif high is not None and value > high:
            self.add(path, f"must be at most {high}, not {value}")


def validate(problem: Problem) -> None:
    """Refuse, naming each field, what the model cannot take."""
    checks = _Checks()
    if not isinstance(problem.months, int) or not 1 <= problem.months <= MAX_MONTHS:
        checks.add("months", f"the horizon must be 1 to {MAX_MONTHS} months")
    if not isinstance(problem.start, str) or len(problem.start) != PERIOD_LENGTH:
        checks.add("start", "must be a month written YYYY-MM")
    checks.number("pipeline_factor", problem.pipeline_factor, 0, 10)
    _validate_groups(problem, checks)
    _validate_units(problem, checks)
    _validate_pools(problem, checks)
    _validate_targets(problem, checks)
    _validate_reach(problem, checks)
    _validate_history(problem, checks.number, checks.errors)
    if checks.errors:
        raise ProblemError(checks.errors)


def _validate_groups(problem: Problem, checks: _Checks) -> None:
    organisations = {o.code for o in problem.organisations}
    if len(organisations) != len(problem.organisations):
        checks.errors.append(("organisations", "an organisation code is repeated"))
    groups = {g.code for g in problem.staff_groups}
    if len(groups) != len(problem.staff_groups):
        checks.errors.append(("staff_groups", "a staff group code is repeated"))
    for i, g in enumerate(problem.staff_groups):
        p = f"staff_groups[{i}]"
        checks.number(f"{p}.agency_cost_per_wte_month", g.agency_cost_per_wte_month)
        checks.number(f"{p}.unfilled_penalty_per_wte_month", g.unfilled_penalty_per_wte_month)
        checks.number(f"{p}.turnover_sensitivity", g.turnover_sensitivity, 0, 5)
        checks.number(f"{p}.establishment_growth", g.establishment_growth, -0.5, 1)
        if (
            _finite(g.agency_cost_per_wte_month)
            and _finite(g.unfilled_penalty_per_wte_month)
            and g.unfilled_penalty_per_wte_month <= g.agency_cost_per_wte_month
        ):
            checks.errors.append(
                (f"{p}.unfilled_penalty_per_wte_month", "must be greater than the agency cost")
            )


def _validate_units(problem: Problem, checks: _Checks) -> None:
    organisations = {o.code for o in problem.organisations}
    groups = {g.code for g in problem.staff_groups}
    seen_units: set[tuple[str, str]] = set()
    for i, u in enumerate(problem.units):
        p = f"units[{i}]"
        if u.organisation not in organisations:
            checks.errors.append((f"{p}.organisation", f"unknown organisation '{u.organisation}'"))
        if u.staff_group not in groups:
            checks.errors.append((f"{p}.staff_group", f"unknown staff group '{u.staff_group}'"))
        if (u.organisation, u.staff_group) in seen_units:
            checks.errors.append((p, "this organisation and staff group are repeated"))
        seen_units.add((u.organisation, u.staff_group))
        for name in (
            "establishment_wte",
            "staff_in_post_wte",
            "starters_per_month",
            "agency_wte",
            "bank_wte",
        ):
            checks.number(f"{p}.{name}", getattr(u, name), 0, 1e7)
        checks.number(f"{p}.turnover_rate", u.turnover_rate, 0, 5)


def _validate_pools(problem: Problem, checks: _Checks) -> None:
    groups = {g.code for g in problem.staff_groups}
    pool_codes: set[str] = set()
    for i, pool in enumerate(problem.pools):
        p = f"pools[{i}]"
        if pool.code in pool_codes:
            checks.errors.append((f"{p}.code", f"pool '{pool.code}' is repeated"))
        pool_codes.add(pool.code)
        if not isinstance(pool.home_place, str) or not pool.home_place:
            checks.errors.append((f"{p}.home_place", "must name a place"))
        for j, group in enumerate(pool.covers):
            if group not in groups:
                checks.errors.append((f"{p}.covers[{j}]", f"unknown staff group '{group}'"))
        checks.number(f"{p}.cost_per_wte_month", pool.cost_per_wte_month)
        checks.number(f"{p}.capacity_wte", pool.capacity_wte, 0, 1e7)
        checks.number(f"{p}.monthly_growth_rate", pool.monthly_growth_rate, -0.5, 0.5)
        if pool.capacity_by_month is not None:
            if len(pool.capacity_by_month) != problem.months:
                checks.errors.append(
                    (f"{p}.capacity_by_month", f"needs one value per month ({problem.months})")
                )
            for t, value in enumerate(pool.capacity_by_month):
                checks.number(f"{p}.capacity_by_month[{t}]", value, 0, 1e7)
    for i, g in enumerate(problem.staff_groups):
        for j, pool in enumerate(problem.pools):
            if (
                g.code in pool.covers
                and _finite(pool.cost_per_wte_month)
                and _finite(g.agency_cost_per_wte_month)
                and g.agency_cost_per_wte_month <= pool.cost_per_wte_month
            ):
                checks.errors.append(
                    (
                        f"staff_groups[{i}].agency_cost_per_wte_month",
                        f"must be greater than the bank cost of pool "
                        f"'{pool.code}' (pools[{j}]), {pool.cost_per_wte_month}",
                    )
                )


def _validate_targets(problem: Problem, checks: _Checks) -> None:
    goals = problem.targets
    checks.number("targets.nursing_capacity_growth", goals.nursing_capacity_growth, -0.5, 1)
    checks.number("targets.turnover_target", goals.turnover_target, 0, 1)
    if goals.target_month is not None and (
        not isinstance(goals.target_month, int)
        or isinstance(goals.target_month, bool)
        or not 1 <= goals.target_month <= MAX_TARGET_MONTH
    ):
        checks.errors.append(
            (
                "targets.target_month",
                f"must be a month from 1 to {MAX_TARGET_MONTH} (it may lie beyond the horizon)",
            )
        )
    for name in ("agency_reduction", "min_fill_rate", "temporary_staffing_cap"):
        value = getattr(goals, name)
        if value is not None:
            checks.number(f"targets.{name}", value, 0, 1)


def _validate_reach(problem: Problem, checks: _Checks) -> None:
    checks.number("reach.travel_cost_per_wte_month", problem.reach.travel_cost_per_wte_month)
    regions_of: dict[str, int] = {}
    for i, region in enumerate(problem.reach.regions):
        for j, place in enumerate(region):
            if place in regions_of:
                checks.errors.append(
                    (
                        f"reach.regions[{i}][{j}]",
                        f"place '{place}' is already in region {regions_of[place]}",
                    )
                )
            regions_of.setdefault(place, i)


def _validate_history(problem: Problem, number: Any, errors: list[tuple[str, str]]) -> None:
    """Each history month once, from -11 to 0, with finite non-negative figures."""
    seen: set[int] = set()
    for i, month in enumerate(problem.history):
        p = f"history[{i}]"
        if (
            not isinstance(month.month, int)
            or isinstance(month.month, bool)
            or not -(HISTORY_MONTHS - 1) <= month.month <= 0
        ):
            errors.append((f"{p}.month", f"must be from {1 - HISTORY_MONTHS} to 0"))
        elif month.month in seen:
            errors.append((f"{p}.month", f"month {month.month} is repeated"))
        else:
            seen.add(month.month)
        number(f"{p}.leavers_wte", month.leavers_wte, 0, 1e8)
        number(f"{p}.staff_in_post_wte", month.staff_in_post_wte, 0, 1e8)
