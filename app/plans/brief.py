"""A plan's result read the way a workforce lead reads it, for the plan page, the
comparison, the sweep table and the workbook alike.

Cash (bank, travel, agency: money the system pays) is kept apart from the unfilled
penalty (a price the model puts on an empty post, not money), and the plan is compared
with doing nothing as a cash difference, unfilled WTE-months avoided and penalty avoided.
An unreachable target is explained in WTE: the months and WTE short, the levers that would
close the gap, and how much of the shortfall one more bank WTE in a pool and month closes.
Prices in pounds are read only when every target is met: at the edge of what is reachable
they measure the edge, not a cost.

Plans stored before cash and penalty were reported apart lack some of these figures; what
can be worked out from what they have is (cash from its parts, unfilled WTE-months from the
projections), and the rest is None, so that a page says "not reported" rather than guess.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.bank import service as bank_service
from app.organisations import service as organisations_service

NURSING_TARGET = "nursing_capacity"
# The targets whose shortfall is counted in WTE (turnover's shortfall is a rate, but its
# WTE-months of shortfall are WTE of leavers above the trajectory).
TARGET_NAMES = {
    "nursing_capacity": "Nursing capacity",
    "turnover": "12-month turnover",
    "agency_reduction": "Agency use",
}
# How each target's required, achieved and largest-shortfall values are measured.
TARGET_KINDS = {"nursing_capacity": "wte", "turnover": "percent", "agency_reduction": "wte"}
STATUS_TEXT = {
    "optimal": "Every target met, at the least cost",
    "targets_unreachable": "A target is out of reach: the plan comes as close as it can, "
    "then costs the least",
    "time_limit": "Stopped at the time limit: the best plan found, not proven the best",
    "infeasible": "No plan satisfies the scenario's rules",
    "error": "The solve failed",
}
GAP_LEVER_NAMES = {
    "pool": "More bank staff",
    "pipeline": "More starters",
    "agency_ceiling": "A looser agency ceiling",
    "target_month": "A later target month",
}


def target_name(code: str) -> str:
    return TARGET_NAMES.get(code, code.replace("_", " ").capitalize())


@dataclass(frozen=True)
class Costs:
    """Cost over the horizon, cash apart from the penalty on unfilled posts."""

    bank: float
    travel: float
    agency: float
    cash: float
    unfilled_penalty: float
    unfilled_wte_months: float | None
    total: float


@dataclass(frozen=True)
class VersusDoNothing:
    """The plan against doing nothing (no bank): each figure named for what it is."""

    cash_difference: float = 0.0  # the plan's cash minus doing nothing's: positive pays more
    unfilled_wte_months_avoided: float | None = None
    penalty_avoided: float = 0.0  # notional, not money


@dataclass(frozen=True)
class TargetReading:
    code: str
    name: str
    kind: str
    required: float
    achieved: float
    shortfall: float  # the largest monthly shortfall, in the target's own measure
    shortfall_wte_months: float | None
    months_short: tuple[str, ...]
    met: bool
    shadow_price: float | None  # GBP per percentage point, only when every target is met
    shadow_price_unit: str


@dataclass(frozen=True)
class GapLever:
    lever: str
    subject: str | None
    description: str
    shortfall_closed_wte: float  # WTE-months of shortfall closed by ``step``
    step: str

    @property
    def name(self) -> str:
        return GAP_LEVER_NAMES.get(self.lever, self.lever.replace("_", " ").capitalize())


@dataclass(frozen=True)
class PoolPrice:
    pool: str
    period: str
    value: float


@dataclass(frozen=True)
class OverEstablishment:
    period: str
    nursing_wte: float
    all_wte: float


@dataclass(frozen=True)
class Brief:
    cost: Costs | None
    do_nothing: Costs | None
    do_nothing_total: float | None  # cash and penalty together, as older plans report it
    versus: VersusDoNothing | None
    targets: tuple[TargetReading, ...]
    gap_levers: tuple[GapLever, ...]
    # WTE of shortfall closed by one more bank WTE in a pool and month; highest first.
    shortfall_prices: tuple[PoolPrice, ...]
    # GBP saved by one more bank WTE in a pool and month: only when every target is met.
    cash_prices: tuple[PoolPrice, ...]
    over_establishment: tuple[OverEstablishment, ...]  # the months where it is above zero
    # The result's months as stored, with whatever fields its version reports.
    system: tuple[Mapping[str, Any], ...] = ()

    @property
    def all_met(self) -> bool:
        return all(t.met for t in self.targets)

    @property
    def targets_short(self) -> tuple[TargetReading, ...]:
        return tuple(t for t in self.targets if not t.met)

    @property
    def targets_met(self) -> int:
        return sum(t.met for t in self.targets)


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _costs(cost: Mapping[str, Any] | None, projections: Sequence[Any] | None) -> Costs | None:
    if not cost:
        return None
    bank, travel, agency = (float(cost.get(k) or 0.0) for k in ("bank", "travel", "agency"))
    unfilled = _number(cost.get("unfilled_wte_months"))
    if unfilled is None and projections:
        unfilled = sum(float(p.get("unfilled_wte") or 0.0) for p in projections)
    return Costs(
        bank=bank,
        travel=travel,
        agency=agency,
        cash=float(cost["cash"]) if cost.get("cash") is not None else bank + travel + agency,
        unfilled_penalty=float(cost.get("unfilled_penalty") or 0.0),
        unfilled_wte_months=unfilled,
        total=float(cost.get("total") or 0.0),
    )


def _versus(
    given: Mapping[str, Any] | None, cost: Costs | None, do_nothing: Costs | None
) -> VersusDoNothing | None:
    if given:
        return VersusDoNothing(
            cash_difference=float(given.get("cash_difference") or 0.0),
            unfilled_wte_months_avoided=_number(given.get("unfilled_wte_months_avoided")),
            penalty_avoided=float(given.get("penalty_avoided") or 0.0),
        )
    if cost is None or do_nothing is None:
        return None
    avoided = None
    if cost.unfilled_wte_months is not None and do_nothing.unfilled_wte_months is not None:
        avoided = do_nothing.unfilled_wte_months - cost.unfilled_wte_months
    return VersusDoNothing(
        cash_difference=cost.cash - do_nothing.cash,
        unfilled_wte_months_avoided=avoided,
        penalty_avoided=do_nothing.unfilled_penalty - cost.unfilled_penalty,
    )


def _targets(targets: Mapping[str, Mapping[str, Any]]) -> tuple[TargetReading, ...]:
    readings = []
    all_met = all(t.get("met") for t in targets.values())
    for code, t in targets.items():
        readings.append(
            TargetReading(
                code=code,
                name=target_name(code),
                kind=TARGET_KINDS.get(code, "number"),
                required=float(t.get("required") or 0.0),
                achieved=float(t.get("achieved") or 0.0),
                shortfall=float(t.get("shortfall") or 0.0),
                shortfall_wte_months=_number(t.get("shortfall_wte_months")),
                months_short=tuple(t.get("months_short") or ()),
                met=bool(t.get("met")),
                shadow_price=_number(t.get("shadow_price")) if all_met else None,
                shadow_price_unit=t.get("shadow_price_unit") or "GBP per percentage point",
            )
        )
    return tuple(readings)


def _prices(rows: Sequence[Mapping[str, Any]] | None) -> tuple[PoolPrice, ...]:
    prices = [PoolPrice(str(r["pool"]), str(r["period"]), float(r["value"])) for r in rows or ()]
    prices.sort(key=lambda p: (-p.value, p.period, p.pool))
    return tuple(prices)


def read(result: Mapping[str, Any] | None) -> Brief:
    """The brief of a stored plan result (None or {} for a plan not yet solved)."""
    result = result or {}
    projections = result.get("projections")
    cost = _costs(result.get("cost"), projections)
    do_nothing = _costs(result.get("do_nothing"), None)
    targets = _targets(result.get("targets") or {})
    all_met = all(t.met for t in targets)
    over = tuple(
        OverEstablishment(
            period=m["period"],
            nursing_wte=float(m.get("over_establishment_nursing_wte") or 0.0),
            all_wte=float(m.get("over_establishment_wte") or 0.0),
        )
        for m in result.get("system") or ()
        if (m.get("over_establishment_wte") or 0.0) > 0
        or (m.get("over_establishment_nursing_wte") or 0.0) > 0
    )
    return Brief(
        cost=cost,
        do_nothing=do_nothing,
        do_nothing_total=_number(result.get("do_nothing_cost")),
        versus=_versus(result.get("versus_do_nothing"), cost, do_nothing),
        targets=targets,
        gap_levers=tuple(
            sorted(
                (
                    GapLever(
                        lever=str(g.get("lever") or ""),
                        subject=g.get("subject"),
                        description=str(g.get("description") or ""),
                        shortfall_closed_wte=float(g.get("shortfall_closed_wte") or 0.0),
                        step=str(g.get("step") or ""),
                    )
                    for g in result.get("gap_levers") or ()
                ),
                key=lambda g: -g.shortfall_closed_wte,
            )
        ),
        shortfall_prices=() if all_met else _prices(result.get("pool_shortfall_prices")),
        cash_prices=_prices(result.get("pool_shadow_prices")) if all_met else (),
        over_establishment=over,
        system=tuple(result.get("system") or ()),
    )


def sweep_figures(result: Mapping[str, Any]) -> dict[str, float | None]:
    """A sweep point's cash and unfilled posts, and the plan against doing nothing."""
    brief = read(result)
    versus = brief.versus
    return {
        "cash_cost": brief.cost.cash if brief.cost else None,
        "unfilled_wte_months": brief.cost.unfilled_wte_months if brief.cost else None,
        "cash_difference": versus.cash_difference if versus else None,
        "unfilled_wte_months_avoided": versus.unfilled_wte_months_avoided if versus else None,
        "penalty_avoided": versus.penalty_avoided if versus else None,
    }


@dataclass(frozen=True)
class PriceGroup:
    """A pool's highest shortfall price and the months it holds in."""

    pool: str
    value: float
    periods: tuple[str, ...]


def months_text(periods: Sequence[str]) -> str:
    """Months as a reader takes them in: a few listed, many as a range."""
    if len(periods) <= 4:
        return ", ".join(periods)
    return f"{periods[0]} to {periods[-1]} ({len(periods)} months)"


def top_shortfall_prices(brief: Brief, *, limit: int = 5) -> list[PriceGroup]:
    """The pools where one more bank WTE closes most of the shortfall, highest first, each
    with the months in which it closes that much."""
    best: dict[str, PriceGroup] = {}
    for price in brief.shortfall_prices:
        if price.value <= 0:
            continue
        group = best.get(price.pool)
        if group is None or price.value > group.value + 1e-9:
            best[price.pool] = PriceGroup(price.pool, price.value, (price.period,))
        elif abs(price.value - group.value) <= 1e-9:
            periods = tuple(sorted((*group.periods, price.period)))
            best[price.pool] = PriceGroup(price.pool, group.value, periods)
    groups = sorted(best.values(), key=lambda g: (-g.value, g.pool))
    return groups[:limit]


def lever_sentence(lever: GapLever, names: Names) -> str:
    """A lever in a workforce lead's words, with the WTE-months of shortfall it closes."""
    closed = f"{lever.shortfall_closed_wte:,.1f} WTE-months of shortfall"
    if lever.lever == "pool" and lever.subject:
        return (
            f"One more bank WTE in {names.pool(lever.subject)} ({lever.subject}) in every "
            f"month would close about {closed}."
        )
    if "WTE" in lever.description:  # the sentence already says what it closes
        return lever.description
    return f"{lever.description.rstrip('.')}: {lever.step} closes {closed}."


def price_sentence(group: PriceGroup, names: Names) -> str:
    """A shortfall price in a workforce lead's words."""
    where = f"One more bank WTE in {names.pool(group.pool)} ({group.pool})"
    if len(group.periods) == 1:
        return f"{where} in {group.periods[0]} closes {group.value:,.2f} WTE of the shortfall."
    return (
        f"{where} closes {group.value:,.2f} WTE of the shortfall in each of "
        f"{months_text(group.periods)}."
    )


@dataclass(frozen=True)
class Names:
    """Names beside codes: organisations, their places, pools and staff groups."""

    organisations: Mapping[str, str]
    places: Mapping[str, str]
    pools: Mapping[str, str]
    staff_groups: Mapping[str, str]

    def organisation(self, code: str) -> str:
        return self.organisations.get(code, code)

    def pool(self, code: str) -> str:
        return self.pools.get(code, code)

    def staff_group(self, code: str) -> str:
        return self.staff_groups.get(code, code)


def load_names(session: Session) -> Names:
    organisations = organisations_service.list_organisations(session)
    return Names(
        organisations={o.code: o.name for o in organisations},
        places={o.code: o.place for o in organisations},
        pools={p.code: p.name for p in bank_service.list_pools(session)},
        staff_groups={g.code: g.name for g in organisations_service.list_staff_groups(session)},
    )
