"""What the pages show, built from the service functions the API uses (never recomputed).

Figures are formatted here once, so that a page and its data tables say the same thing;
charts are plain dictionaries embedded in the page as JSON and drawn by ``ui.js``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth import Principal
from app.metrics import service as metrics_service
from app.metrics.schemas import Level, MetricItem
from app.organisations import service as organisations_service
from app.plans import brief as plan_brief
from app.plans import service as plans_service
from app.plans.brief import Brief, Names
from app.plans.schemas import Allocation, PlanRead
from app.returns.models import Return
from app.targets import service as targets_service
from app.targets.schemas import TargetStatus

RAG_TEXT = {
    "green": "Green — on track",
    "amber": "Amber — within 10% of the trajectory",
    "red": "Red — off track",
    "unknown": "Unknown — no data",
    "not_applicable": "Not applicable — no posts in the target's staff groups",
}
TARGET_NAMES = {
    "nursing_capacity_growth": "Nursing capacity growth",
    "turnover_rate": "12-month turnover",
    "agency_reduction": "Agency use reduction",
}
MEASURE_FORMAT = {
    "nursing_capacity_wte": "wte",
    "turnover_rate_12m": "percent",
    "agency_wte": "wte",
}
# How a plan's target outcomes read: (name, format).
PLAN_TARGETS = {
    "nursing_capacity": ("Nursing capacity (WTE)", "wte"),
    "turnover": ("12-month turnover", "percent"),
    "agency_reduction": ("Agency use (WTE)", "wte"),
}


def plan_target_name(code: str) -> str:
    return PLAN_TARGETS.get(code, (code.replace("_", " ").capitalize(), ""))[0]


def plan_target_fmt(value: float | None, code: str) -> str:
    return fmt(value, PLAN_TARGETS.get(code, ("", "number"))[1])


# The month-by-month charts of a unit: (measure, title, format).
UNIT_CHARTS = (
    ("nursing_capacity_wte", "Nursing capacity (WTE)", "wte"),
    ("turnover_rate_12m", "12-month turnover rate", "percent"),
    ("vacancy_rate", "Vacancy rate", "percent"),
    ("temporary_staffing_share", "Temporary staffing share (bank and agency)", "percent"),
)
# Which target a chart's measure is held to, so its target value can be drawn.
CHART_TARGET = {
    "nursing_capacity_wte": "nursing_capacity_growth",
    "turnover_rate_12m": "turnover_rate",
}


def fmt(value: float | None, kind: str) -> str:
    """A figure as the pages print it."""
    if value is None:
        return "—"
    if kind == "percent":
        return f"{value * 100:.1f}%"
    if kind == "gbp":
        return f"£{value:,.0f}"
    if kind == "wte":
        return f"{value:,.1f}"
    if kind == "price":
        return f"£{value:,.2f}"
    return f"{value:g}"


def chart_json(charts: Sequence[dict[str, Any]]) -> str:
    """The charts of a page, for its ``<script type="application/json">`` element: with
    ``<``, ``>`` and ``&`` escaped, so that no label (a place's name is an admin's to set)
    can close the element."""
    text = json.dumps({chart["id"]: chart for chart in charts}, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def chart(
    chart_id: str,
    title: str,
    labels: Sequence[str],
    datasets: Sequence[dict[str, Any]],
    *,
    kind: str = "line",
    format: str = "wte",
    label_heading: str = "Month",
    stacked: bool = False,
) -> dict[str, Any]:
    """A chart and, from the same numbers, its data table."""
    return {
        "id": chart_id,
        "title": title,
        "kind": kind,
        "format": format,
        "stacked": stacked,
        "label_heading": label_heading,
        "labels": list(labels),
        "datasets": [
            {**dataset, "display": [fmt(v, format) for v in dataset["data"]]}
            for dataset in datasets
        ],
    }


@dataclass
class StatusRow:
    level: str
    code: str
    name: str
    target: str
    target_name: str
    baseline_period: str
    baseline: str
    latest_period: str | None
    latest: str
    latest_value: float | None
    required: str
    target_value: str
    rag: str
    rag_text: str
    synthetic: bool
    note: str | None = None


def status_rows(
    items: Iterable[TargetStatus], names: dict[str, str], *, by_unit: bool = False
) -> list[StatusRow]:
    """Rows of a status table; ``by_unit`` keeps each unit's targets together."""
    rows = []
    for item in items:
        kind = MEASURE_FORMAT.get(item.measure, "number")
        rows.append(
            StatusRow(
                level=item.level,
                code=item.code,
                name=names.get(item.code, item.code),
                target=item.target,
                target_name=TARGET_NAMES.get(item.target, item.target),
                baseline_period=item.baseline_period,
                baseline=fmt(item.baseline, kind),
                latest_period=item.latest_period,
                latest=fmt(item.latest, kind),
                latest_value=item.latest,
                required=fmt(item.required, kind),
                target_value=fmt(item.target_value, kind),
                rag=item.rag,
                rag_text=RAG_TEXT[item.rag],
                synthetic=item.synthetic,
                note=item.note,
            )
        )
    if by_unit:
        rows.sort(key=lambda row: row.name)  # stable: targets keep their order
    return rows


def organisation_names(session: Session) -> dict[str, str]:
    return {o.code: o.name for o in organisations_service.list_organisations(session)}


def organisation_places(session: Session) -> dict[str, str]:
    return {o.code: o.place for o in organisations_service.list_organisations(session)}


def first_period(session: Session) -> str | None:
    """The first month with a return: where the charts begin."""
    return session.scalar(select(func.min(Return.period)).where(Return.latest_revision > 0))


def target_status(
    session: Session,
    *,
    principal: Principal,
    level: Level,
    code: str | None = None,
    period: str | None = None,
) -> list[TargetStatus]:
    items = targets_service.status(session, principal=principal, level=level, period=period)
    return [item for item in items if code is None or item.code == code]


def data_status_text(status: metrics_service.DataStatus) -> str:
    """Which month the figures are of, and what a later partial month holds: "Based on
    2026-10, the latest month every organisation has returned; 2026-11: 1 of 14
    returned, partial." """
    if status.latest_complete_period is None:
        return "No returns yet."
    text = (
        f"Based on {status.latest_complete_period}, the latest month every organisation "
        "has returned"
    )
    partial = status.latest_partial
    if partial is not None:
        text += f"; {partial.period}: {partial.covered} of {partial.expected} returned, partial"
    return text + "."


@dataclass
class UnitView:
    level: Level
    code: str
    name: str
    first: str | None
    last: str | None
    status: list[StatusRow]
    charts: list[dict[str, Any]] = field(default_factory=list)
    synthetic: bool = False
    missing_periods: list[str] = field(default_factory=list)
    rated_period: str | None = None  # the latest complete month: what is rated
    data_status: str = ""  # data_status_text
    left_out: list[str] = field(default_factory=list)  # months not charted, and why


def unit_view(
    session: Session,
    *,
    principal: Principal,
    level: Level,
    code: str,
    name: str,
    status: metrics_service.DataStatus | None = None,
) -> UnitView:
    """A unit's standing against the targets in the latest complete month, and its
    measures month by month up to the latest month with returns; a month in which the
    unit has no return, or (for the system and a place) only some of its organisations
    returned, is left out of the charts rather than drawn as a fall."""
    status = status or metrics_service.data_status(session)
    first, last = first_period(session), metrics_service.latest_period(session)
    series: list[MetricItem] = []
    if first is not None and last is not None:
        # The series first: it refuses a unit the principal may not see, or does not exist.
        series = metrics_service.series(
            session,
            principal=principal,
            level=level,
            code=code,
            staff_group=None,
            first=first,
            last=last,
        )
    statuses = target_status(
        session, principal=principal, level=level, code=code, period=status.latest_complete_period
    )
    targets = {s.target: s for s in statuses}
    charted = [item.complete for item in series]
    left_out = [
        f"{item.period} (no return)"
        if not item.organisations_covered
        else f"{item.period} ({item.organisations_covered} of {item.organisations_expected} "
        "organisations returned)"
        for item in series
        if not item.complete and (item.organisations_covered or item.organisations_expected)
    ]
    labels = [item.period for item in series]
    charts = []
    for measure, title, kind in UNIT_CHARTS:
        datasets: list[dict[str, Any]] = [
            {
                "label": title,
                "data": [
                    getattr(item, measure) if shown else None
                    for item, shown in zip(series, charted, strict=True)
                ],
            }
        ]
        target = targets.get(CHART_TARGET.get(measure, ""))
        if target is not None and target.target_value is not None:
            datasets.append(
                {
                    "label": "Target",
                    "data": [target.target_value for _ in series],
                    "dashed": True,
                }
            )
        charts.append(chart(f"{level}-{measure}", title, labels, datasets, format=kind))
    rated = [item for item in series if item.period == status.latest_complete_period]
    return UnitView(
        level=level,
        code=code,
        name=name,
        first=first,
        last=last,
        status=status_rows(statuses, {code: name}),
        charts=charts,
        synthetic=any(item.synthetic for item in series) or any(s.synthetic for s in statuses),
        missing_periods=rated[0].missing_periods if rated else [],
        rated_period=status.latest_complete_period,
        data_status=data_status_text(status),
        left_out=left_out,
    )


# Plans ---------------------------------------------------------------------------------


@dataclass
class Breakdown:
    """Bank allocated over the horizon, grouped one way."""

    key: str
    name: str
    wte_months: float
    mean_wte: float
    cost: float


def allocation_breakdowns(
    plan: PlanRead, *, names: dict[str, str], places: dict[str, str]
) -> dict[str, list[Breakdown]]:
    """The plan's allocation rows summed by place, organisation and staff group."""
    groupings: dict[str, Callable[[Allocation], str]] = {
        "place": lambda row: places.get(row.organisation, "?"),
        "organisation": lambda row: row.organisation,
        "staff_group": lambda row: row.staff_group,
    }
    result: dict[str, list[Breakdown]] = {}
    for grouping, key_of in groupings.items():
        wte: dict[str, float] = defaultdict(float)
        cost: dict[str, float] = defaultdict(float)
        for row in plan.allocations or []:
            key = key_of(row)
            wte[key] += row.wte
            cost[key] += row.cost
        result[grouping] = [
            Breakdown(
                key=key,
                name=names.get(key, key) if grouping == "organisation" else key,
                wte_months=round(wte[key], 2),
                mean_wte=round(wte[key] / plan.months, 2),
                cost=round(cost[key], 2),
            )
            for key in sorted(wte, key=lambda k: (-wte[k], k))
        ]
    return result


@dataclass
class PoolPrice:
    pool: str
    name: str
    highest: float
    highest_period: str
    months_priced: int
    total: float


def pool_priorities(brief: Brief, names: Names, *, limit: int = 10) -> list[PoolPrice]:
    """The pools whose next WTE saves most, the highest monthly price (GBP per WTE-month)
    first: only when every target is met, since out of reach a pound price measures the
    edge of what is reachable rather than a cost."""
    by_pool: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for price in brief.cash_prices:
        by_pool[price.pool].append((price.value, price.period))
    rows = []
    for pool, values in by_pool.items():
        highest, highest_period = max(values, key=lambda v: (v[0], v[1]))
        if highest <= 0:
            continue
        rows.append(
            PoolPrice(
                pool=pool,
                name=names.pool(pool),
                highest=round(highest, 2),
                highest_period=highest_period,
                months_priced=sum(1 for v, _ in values if v > 0),
                total=round(sum(v for v, _ in values), 2),
            )
        )
    rows.sort(key=lambda r: (-r.highest, -r.total, r.pool))
    return rows[:limit]


@dataclass
class GapTarget:
    code: str
    name: str
    months: str
    months_count: int
    largest: str
    wte_months: float | None


@dataclass
class GapPrice:
    pool: str
    name: str
    months: str
    value: float
    sentence: str


@dataclass
class CostRow:
    """A line of the cost table: this plan, doing nothing, and the difference in words."""

    field: str
    label: str
    kind: str  # gbp or wte
    plan: float | None
    do_nothing: float | None
    versus: str = ""
    versus_value: float | None = None
    emphasis: bool = False


@dataclass
class PlanView:
    brief: Brief
    names: Names
    status_text: str
    headline: str
    cost_rows: list[CostRow]
    cost_sentence: str
    gap_targets: list[GapTarget]
    levers: list[tuple[plan_brief.GapLever, str]]
    gap_prices: list[GapPrice]
    pools: list[PoolPrice]


def _more_or_less(value: float, kind: str, more: str, less: str) -> str:
    text = fmt(abs(value), kind) + (" WTE-months" if kind == "wte" else "")
    return f"{text} {more if value > 0 else less}" if round(value, 1) else "the same"


def _cost_rows(brief: Brief) -> list[CostRow]:
    cost, nothing, versus = brief.cost, brief.do_nothing, brief.versus
    if cost is None:
        return []
    rows = [
        CostRow("bank", "Bank", "gbp", cost.bank, nothing.bank if nothing else None),
        CostRow("travel", "Travel", "gbp", cost.travel, nothing.travel if nothing else None),
        CostRow("agency", "Agency", "gbp", cost.agency, nothing.agency if nothing else None),
        CostRow(
            "cash",
            "Cash cost (money paid: bank, travel and agency)",
            "gbp",
            cost.cash,
            nothing.cash if nothing else None,
            emphasis=True,
        ),
        CostRow(
            "unfilled",
            "Unfilled posts (WTE-months)",
            "wte",
            cost.unfilled_wte_months,
            nothing.unfilled_wte_months if nothing else None,
        ),
        CostRow(
            "penalty",
            "Penalty on unfilled posts (notional, not money)",
            "gbp",
            cost.unfilled_penalty,
            nothing.unfilled_penalty if nothing else None,
        ),
    ]
    if versus is not None:
        rows[3].versus = "Cash difference: " + _more_or_less(
            versus.cash_difference, "gbp", "more cash", "less cash"
        )
        rows[3].versus_value = versus.cash_difference
        if versus.unfilled_wte_months_avoided is not None:
            rows[4].versus = "Unfilled WTE-months avoided: " + fmt(
                versus.unfilled_wte_months_avoided, "wte"
            )
            rows[4].versus_value = versus.unfilled_wte_months_avoided
        rows[5].versus = "Penalty avoided: " + fmt(versus.penalty_avoided, "gbp")
        rows[5].versus_value = versus.penalty_avoided
    return rows


def _headline(plan: PlanRead, brief: Brief) -> str:
    """What the plan achieves and what it costs, in a sentence or two."""
    if brief.cost is None or not brief.targets:
        return ""
    count = len(brief.targets)
    if brief.all_met:
        achieves = f"This plan meets all {count} targets."
    else:
        short = "; ".join(
            f"{t.name.lower()} is out of reach in {len(t.months_short) or 'some'} "
            f"month{'' if len(t.months_short) == 1 else 's'}"
            for t in brief.targets_short
        )
        achieves = f"This plan meets {brief.targets_met} of {count} targets: {short}."
    cash = f"It pays {fmt(brief.cost.cash, 'gbp')} in cash over {plan.months} months"
    if brief.versus is not None:
        cash += ", " + _more_or_less(
            brief.versus.cash_difference, "gbp", "more than", "less than"
        ).replace("the same", "the same as")
        cash += " doing nothing"
        if brief.versus.unfilled_wte_months_avoided is not None:
            cash += (
                f", and leaves {fmt(brief.versus.unfilled_wte_months_avoided, 'wte')} "
                "fewer WTE-months of posts unfilled"
            )
    return f"{achieves} {cash}."


def _gap_targets(brief: Brief) -> list[GapTarget]:
    rows = []
    for t in brief.targets_short:
        unit = " points" if t.kind == "percent" else " WTE"
        largest = (
            f"{t.shortfall * 100:.1f}{unit}" if t.kind == "percent" else fmt(t.shortfall, "wte")
        )
        rows.append(
            GapTarget(
                code=t.code,
                name=t.name,
                months=plan_brief.months_text(t.months_short) or "not reported",
                months_count=len(t.months_short),
                largest=largest + ("" if t.kind == "percent" else unit),
                wte_months=t.shortfall_wte_months,
            )
        )
    return rows


def plan_view(session: Session, plan: PlanRead) -> PlanView:
    """The plan page's brief: what the plan achieves, its cash cost against doing nothing,
    and where a target is out of reach what would close the gap, in WTE."""
    brief = plan_brief.read(plans_service.get_plan(session, plan_id=plan.id).result)
    names = plan_brief.load_names(session)
    versus = brief.versus
    if brief.cost is None:
        sentence = ""
    elif versus is None:
        sentence = (
            "This plan was solved before cash and penalty were reported apart: doing "
            "nothing's cash and unfilled posts are not known. Doing nothing's cash and "
            f"penalty together came to {fmt(brief.do_nothing_total, 'gbp')}."
        )
    else:
        sentence = (
            "Against doing nothing (no bank staff at all) the plan pays "
            + _more_or_less(versus.cash_difference, "gbp", "more cash", "less cash")
            + (
                f", avoids {fmt(versus.unfilled_wte_months_avoided, 'wte')} WTE-months "
                "of unfilled posts"
                if versus.unfilled_wte_months_avoided is not None
                else ""
            )
            + f" and {fmt(versus.penalty_avoided, 'gbp')} of notional penalty. The penalty "
            "is a price the model puts on an empty post so that it fills posts where it can; "
            "nobody pays it."
        )
    return PlanView(
        brief=brief,
        names=names,
        status_text=plan_brief.STATUS_TEXT.get(plan.status or "", ""),
        headline=_headline(plan, brief),
        cost_rows=_cost_rows(brief),
        cost_sentence=sentence,
        gap_targets=_gap_targets(brief),
        levers=[(lever, plan_brief.lever_sentence(lever, names)) for lever in brief.gap_levers],
        gap_prices=[
            GapPrice(
                pool=g.pool,
                name=names.pool(g.pool),
                months=plan_brief.months_text(g.periods),
                value=g.value,
                sentence=plan_brief.price_sentence(g, names),
            )
            for g in plan_brief.top_shortfall_prices(brief)
        ],
        pools=pool_priorities(brief, names),
    )


def plan_charts(plan: PlanRead, brief: Brief, *, places: dict[str, str]) -> list[dict[str, Any]]:
    """Trajectories against the targets, bank use by place, and cash against doing
    nothing."""
    labels = [month.period for month in plan.system or []]
    charts = _trajectory_charts(plan, brief, labels)
    charts.append(_bank_by_place_chart(plan, places, labels))
    if brief.cost is not None:
        charts.append(_cash_chart(brief.cost, brief.do_nothing))
    return charts


def _trajectory_charts(plan: PlanRead, brief: Brief, labels: list[str]) -> list[dict[str, Any]]:
    system = plan.system or []
    # The trajectory of a newer result; an older one has the final target only.
    stored_system = brief.system or tuple({} for _ in system)
    return [
        chart(
            "plan-nursing",
            "Nursing capacity against its target trajectory (WTE)",
            labels,
            [
                {"label": "Plan", "data": [m.nursing_capacity_wte for m in system]},
                {
                    "label": "Target trajectory",
                    "data": [m.nursing_capacity_trajectory_wte for m in system],
                    "dashed": True,
                },
            ],
        ),
        chart(
            "plan-turnover",
            "12-month turnover against its target trajectory",
            labels,
            [
                {"label": "Plan", "data": [m.turnover_rate_12m for m in system]},
                {
                    "label": "Target trajectory"
                    if any("turnover_trajectory" in m for m in stored_system)
                    else "Target",
                    "data": [
                        stored.get("turnover_trajectory", month.turnover_target)
                        for stored, month in zip(stored_system, system, strict=False)
                    ],
                    "dashed": True,
                },
            ],
            format="percent",
        ),
    ]


def _bank_by_place_chart(
    plan: PlanRead, places: dict[str, str], labels: list[str]
) -> dict[str, Any]:
    by_place: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for row in plan.allocations or []:
        by_place[places.get(row.organisation, "?")][row.period] += row.wte
    return chart(
        "plan-bank-by-place",
        "Bank WTE allocated, by place of the organisation served",
        labels,
        [
            {"label": place, "data": [round(by_place[place].get(p, 0.0), 2) for p in labels]}
            for place in sorted(by_place)
        ],
        kind="bar",
        stacked=True,
    )


def _cash_chart(cost: plan_brief.Costs, nothing: plan_brief.Costs | None) -> dict[str, Any]:
    return chart(
        "plan-cost",
        "Cash cost over the horizon: this plan against doing nothing (GBP)",
        ["This plan", "Doing nothing"],
        [
            {
                "label": label,
                "data": [
                    getattr(cost, part),
                    getattr(nothing, part) if nothing is not None else None,
                ],
            }
            for part, label in (
                ("bank", "Bank"),
                ("travel", "Travel"),
                ("agency", "Agency"),
            )
        ],
        kind="bar",
        format="gbp",
        label_heading="Plan",
        stacked=True,
    )


SCENARIO_LABELS = {
    "start": "First month",
    "months": "Horizon (months)",
    "organisations": "Organisations",
    "pools": "Bank pools",
    "nursing_capacity_growth": "Nursing capacity growth (gamma)",
    "target_period": "Target month (t*)",
    "turnover_target": "Turnover target (tau)",
    "agency_reduction": "Agency reduction (alpha)",
    "min_fill_rate": "Minimum fill rate (f)",
    "temporary_staffing_cap": "Temporary staffing cap (q)",
    "pipeline_factor": "Pipeline factor",
    "establishment_growth": "Establishment growth",
    "agency_cost_per_wte_month": "Agency cost per WTE-month",
    "unfilled_penalty_per_wte_month": "Unfilled penalty per WTE-month",
    "turnover_sensitivity": "Turnover sensitivity (beta)",
    "pool_capacity_wte": "Pool capacity (WTE)",
    "island_mainland_allowed": "Island and mainland share pools",
    "travel_cost_per_wte_month": "Travel cost per WTE-month (k)",
    "time_limit_s": "Solver time limit (s)",
}
DEFAULT_TEXT = "default"


def scenario_text(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(
            f"{k}: {v:g}" if isinstance(v, float) else f"{k}: {v}" for k, v in value.items()
        )
    return str(value)


def scenario_rows(plan: PlanRead) -> list[tuple[str, str, str]]:
    """(key, label, value) of what the plan's request set; the rest is the default."""
    request = {"start": plan.start, "months": plan.months, **plan.scenario}
    return [(key, SCENARIO_LABELS.get(key, key), scenario_text(v)) for key, v in request.items()]


@dataclass
class ScenarioDifference:
    key: str
    label: str
    values: list[str]


def scenario_differences(
    plans: Sequence[PlanRead],
) -> tuple[list[ScenarioDifference], list[ScenarioDifference]]:
    """The scenario keys whose values differ between the plans, and those that agree."""
    requests = [{"start": p.start, "months": p.months, **p.scenario} for p in plans]
    keys = [k for k in SCENARIO_LABELS if any(k in r for r in requests)]
    keys += sorted({k for r in requests for k in r} - set(keys))
    differ: list[ScenarioDifference] = []
    same: list[ScenarioDifference] = []
    for key in keys:
        raw = [r.get(key, DEFAULT_TEXT) for r in requests]
        row = ScenarioDifference(
            key=key,
            label=SCENARIO_LABELS.get(key, key),
            values=[DEFAULT_TEXT if v == DEFAULT_TEXT else scenario_text(v) for v in raw],
        )
        (differ if any(v != raw[0] for v in raw[1:]) else same).append(row)
    return differ, same


def plan_briefs(session: Session, plans: Sequence[PlanRead]) -> list[Brief]:
    """Each plan's brief, for the comparison."""
    return [
        plan_brief.read(plans_service.get_plan(session, plan_id=plan.id).result) for plan in plans
    ]


@dataclass
class ComparisonRow:
    field: str
    label: str
    kind: str
    values: list[float | None]


# The comparison's cost rows: (field, label, format, the figure of a brief).
COMPARISON_FIGURES: tuple[tuple[str, str, str, Callable[[Brief], float | None]], ...] = (
    ("cash", "Cash cost (money paid: bank, travel and agency)", "gbp",
     lambda b: b.cost.cash if b.cost else None),
    ("bank", "Bank", "gbp", lambda b: b.cost.bank if b.cost else None),
    ("travel", "Travel", "gbp", lambda b: b.cost.travel if b.cost else None),
    ("agency", "Agency", "gbp", lambda b: b.cost.agency if b.cost else None),
    ("unfilled", "Unfilled posts (WTE-months)", "wte",
     lambda b: b.cost.unfilled_wte_months if b.cost else None),
    ("penalty", "Penalty on unfilled posts (notional, not money)", "gbp",
     lambda b: b.cost.unfilled_penalty if b.cost else None),
    ("cash_difference", "Cash difference against doing nothing (positive: pays more)", "gbp",
     lambda b: b.versus.cash_difference if b.versus else None),
    ("unfilled_wte_months_avoided", "Unfilled WTE-months avoided against doing nothing", "wte",
     lambda b: b.versus.unfilled_wte_months_avoided if b.versus else None),
    ("penalty_avoided", "Penalty avoided against doing nothing (notional, not money)", "gbp",
     lambda b: b.versus.penalty_avoided if b.versus else None),
)  # fmt: skip


def comparison_rows(briefs: Sequence[Brief]) -> list[ComparisonRow]:
    """Cash, unfilled posts and penalty by plan, and each against doing nothing."""
    return [
        ComparisonRow(field, label, kind, [figure(b) for b in briefs])
        for field, label, kind, figure in COMPARISON_FIGURES
    ]


def comparison_charts(plans: Sequence[PlanRead], briefs: Sequence[Brief]) -> list[dict[str, Any]]:
    labels = sorted({m.period for p in plans for m in p.system or []})
    series: list[dict[str, Any]] = []
    turnover: list[dict[str, Any]] = []
    for plan in plans:
        by_period = {m.period: m for m in plan.system or []}
        series.append(
            {
                "label": f"Plan {plan.id}",
                "data": [
                    by_period[p].nursing_capacity_wte if p in by_period else None for p in labels
                ],
            }
        )
        turnover.append(
            {
                "label": f"Plan {plan.id}",
                "data": [
                    by_period[p].turnover_rate_12m if p in by_period else None for p in labels
                ],
            }
        )
    return [
        chart("compare-nursing", "Nursing capacity by plan (WTE)", labels, series),
        chart("compare-turnover", "12-month turnover by plan", labels, turnover, format="percent"),
        chart(
            "compare-cost",
            "Cash cost over the horizon by plan, and doing nothing (GBP)",
            [f"Plan {p.id}" for p in plans],
            [
                {"label": "Plan", "data": [b.cost.cash if b.cost else None for b in briefs]},
                {
                    "label": "Doing nothing",
                    "data": [b.do_nothing.cash if b.do_nothing else None for b in briefs],
                },
            ],
            kind="bar",
            format="gbp",
            label_heading="Plan",
        ),
    ]
