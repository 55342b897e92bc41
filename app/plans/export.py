"""A plan as an Excel workbook that a workforce lead can forward as it is: a first sheet
that says what each sheet and figure means, the summary, what would close the gap when a
target is out of reach, then the tables, each with number formats, widths, a frozen header
row and a filter, and names beside codes."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.orm import Session

from app.plans import brief as plan_brief
from app.plans.brief import Brief, Names
from app.plans.models import Plan
from app.plans.schemas import PlanRead
from app.plans.service import to_read
from app.spreadsheet import is_formula_like

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SYNTHETIC_NOTE = "Built from synthetic demo returns: not real organisations' data."

# Number formats by kind of figure.
FORMATS = {
    "wte": "#,##0.0",
    "gbp": '"£"#,##0;-"£"#,##0',
    "price": '"£"#,##0.00',
    "percent": "0.0%",
    "ratio": "0.00",
    "count": "#,##0",
    "seconds": "0.00",
    "text": "@",
}
FONT = "Calibri"
BOLD = Font(name=FONT, bold=True)
TITLE = Font(name=FONT, bold=True, size=14)
HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
WRAP = Alignment(wrap_text=True, vertical="top")
NUMERIC_KINDS = frozenset(FORMATS) - {"text"}
LINE_HEIGHT = 14.5  # points a line of 11-point text takes
STATUS_TEXT = plan_brief.STATUS_TEXT


class Typed(NamedTuple):
    """A value with its own number format, where a column's format does not fit it."""

    value: Any
    kind: str


@dataclass(frozen=True)
class Column:
    header: str
    width: float
    kind: str = "text"


def _cell(sheet: WriteOnlyWorksheet, value: Any, kind: str = "text") -> WriteOnlyCell:
    if isinstance(value, Typed):
        value, kind = value
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        # Text is always text: never a formula, whatever a user typed into a name.
        cell.data_type = "s"
        if is_formula_like(value):
            cell.quotePrefix = True
    elif isinstance(value, int | float) and not isinstance(value, bool):
        cell.number_format = FORMATS.get(kind, "General")
    return cell


def _lines(text: Any, width: float) -> int:
    """How many lines ``text`` wraps to in a column ``width`` characters wide."""
    if not isinstance(text, str) or not text:
        return 1
    per_line = max(int(width * 1.1) - 2, 1)
    return sum(max(1, -(-len(part) // per_line)) for part in text.split("\n"))


def _append(
    sheet: WriteOnlyWorksheet, row: int, cells: Sequence[WriteOnlyCell], widths: Sequence[float]
) -> int:
    """Append ``cells`` as row ``row``, tall enough for its wrapped text (spreadsheet
    programs do not all size rows to their text on opening); the next row's number."""
    lines = max(
        (_lines(c.value, w) for c, w in zip(cells, widths, strict=False) if c.alignment.wrap_text),
        default=1,
    )
    if lines > 1:
        sheet.row_dimensions[row].height = LINE_HEIGHT * lines + 2
    sheet.append(list(cells))
    return row + 1


def _page_setup(sheet: WriteOnlyWorksheet, *, landscape: bool = True) -> None:
    sheet.page_setup.orientation = "landscape" if landscape else "portrait"
    sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True


def _table(
    book: Workbook,
    title: str,
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    *,
    empty: str | None = None,
) -> None:
    """A sheet holding one table: its header frozen, printed on every page and filtered."""
    sheet: WriteOnlyWorksheet = book.create_sheet(title)
    body = [list(row) for row in rows]
    widths = [column.width for column in columns]
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.print_title_rows = "1:1"
    _page_setup(sheet)
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(len(body), 1) + 1}"
    header = []
    for column in columns:
        cell = _cell(sheet, column.header)
        cell.font = BOLD
        cell.fill = HEADER_FILL
        numeric = column.kind in NUMERIC_KINDS
        cell.alignment = Alignment(
            wrap_text=True, vertical="bottom", horizontal="right" if numeric else "left"
        )
        header.append(cell)
    # Narrower than the column: room for the filter's button beside the header's text.
    _append(sheet, 1, header, [w - 2 for w in widths])
    for values in body:
        sheet.append([_cell(sheet, v, c.kind) for v, c in zip(values, columns, strict=True)])
    if not body and empty:
        sheet.append([_cell(sheet, empty)])


class Line(NamedTuple):
    """A line of a report sheet: a label, a value of some kind, and what it means."""

    label: str
    value: Any = None
    kind: str = "text"
    note: str = ""


def _report(
    book: Workbook,
    title: str,
    heading: str,
    blocks: Sequence[tuple[str, Sequence[Line]]],
    *,
    widths: tuple[float, float, float] = (30, 18, 52),
) -> None:
    """A sheet read top to bottom: a heading, then blocks of (label, value, meaning)."""
    sheet: WriteOnlyWorksheet = book.create_sheet(title)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    _page_setup(sheet, landscape=False)
    head = _cell(sheet, heading)
    head.font = TITLE
    sheet.row_dimensions[1].height = 22
    sheet.append([head])
    row = 2
    for block_title, lines in blocks:
        sheet.append([])
        row += 1
        if block_title:
            cell = _cell(sheet, block_title)
            cell.font = BOLD
            cell.fill = HEADER_FILL
            sheet.append([cell, _filled(sheet), _filled(sheet)])
            row += 1
        for line in lines:
            label = _cell(sheet, line.label)
            label.alignment = WRAP
            value = _cell(sheet, line.value, line.kind)
            value.alignment = Alignment(vertical="top", wrap_text=isinstance(line.value, str))
            note = _cell(sheet, line.note)
            note.alignment = WRAP
            row = _append(sheet, row, [label, value, note], widths)


def _filled(sheet: WriteOnlyWorksheet) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet)
    cell.fill = HEADER_FILL
    return cell


# The sheets ----------------------------------------------------------------------------

SHEETS = (
    (
        "Summary",
        "The plan at a glance: its outcome, cash cost, unfilled posts and penalty, "
        "the same for doing nothing, and the plan against doing nothing.",
    ),
    (
        "Closing the gap",
        "Only when a target is out of reach: the months and WTE short per "
        "target, the levers that would close the gap most, and the pools and months where one "
        "more bank WTE closes most of the shortfall.",
    ),
    (
        "Targets",
        "Each target: what it requires at its end, what the plan achieves, the "
        "largest monthly shortfall, the shortfall in WTE-months and the months short.",
    ),
    (
        "System by month",
        "The whole system month by month: nursing capacity and turnover "
        "against their target trajectories, the shortfall each month, agency and bank use, "
        "and staff above establishment.",
    ),
    (
        "Allocations",
        "The plan itself: bank WTE from each pool to each organisation and "
        "staff group each month, with its bank and travel cost.",
    ),
    (
        "Projections",
        "Each organisation and staff group month by month: staff in post, "
        "bank, agency, unfilled posts, leavers and fill rate.",
    ),
    (
        "Pool prices",
        "For each pool and month, what one more bank WTE there is worth: in "
        "pounds when every target is met; in WTE of shortfall closed when a target is out of "
        "reach.",
    ),
)
GLOSSARY = (
    Line("WTE", "WTE", "text", "Whole-time equivalent: one full-time post."),
    Line(
        "WTE-months",
        "WTE-months",
        "text",
        "WTE summed over months: 10 WTE for 3 months is 30 WTE-months.",
    ),
    Line(
        "Cash cost", "£", "text", "Bank, travel and agency over the horizon: money the system pays."
    ),
    Line(
        "Bank cost", "£", "text", "Each pool's cost per WTE-month times the bank WTE it supplies."
    ),
    Line(
        "Travel cost",
        "£",
        "text",
        "Bank staff working in another place than their pool's home, per WTE-month.",
    ),
    Line(
        "Agency cost",
        "£",
        "text",
        "Agency WTE times the agency cost per WTE-month of their staff group.",
    ),
    Line(
        "Unfilled posts",
        "WTE-months",
        "text",
        "Establishment covered by neither staff in post, bank nor agency, summed over the months.",
    ),
    Line(
        "Penalty on unfilled posts",
        "£, notional",
        "text",
        "NOT money: the price the "
        "model puts on an empty post (per staff group and WTE-month) so that it fills "
        "posts where it can. Nobody pays it.",
    ),
    Line(
        "Model total",
        "£, notional",
        "text",
        "Cash and penalty together: what the model "
        "makes least once the targets are as close as they can be. Not money, because "
        "the penalty is not.",
    ),
    Line(
        "Doing nothing",
        "",
        "text",
        "The same model with no bank staff at all: what happens without the plan.",
    ),
    Line(
        "Cash difference",
        "£",
        "text",
        "The plan's cash cost minus doing nothing's. "
        "Positive: the plan pays more cash; negative: it pays less.",
    ),
    Line(
        "Unfilled WTE-months avoided",
        "WTE-months",
        "text",
        "Doing nothing's unfilled posts minus the plan's.",
    ),
    Line(
        "Penalty avoided",
        "£, notional",
        "text",
        "Doing nothing's penalty minus the plan's. Not money saved.",
    ),
    Line(
        "Target trajectory",
        "WTE or %",
        "text",
        "Each target is a straight line from "
        "today's level to the target, reached at the target month and held after; the "
        "plan is held to it every month.",
    ),
    Line(
        "Shortfall",
        "WTE",
        "text",
        "How far a month falls below its target trajectory: "
        "WTE of nursing capacity, or WTE of leavers above the turnover trajectory. The "
        "largest monthly shortfall is the worst month, in the target's own measure (WTE, "
        "or turnover rate points).",
    ),
    Line(
        "Shortfall (WTE-months)",
        "WTE-months",
        "text",
        "The monthly shortfalls summed over the horizon; 0 when the target is met.",
    ),
    Line(
        "Target shadow price",
        "£ per percentage point",
        "text",
        "The extra cost of "
        "tightening the target by one point over its whole trajectory. Reported only when "
        "every target is met; 0 when the target does not bind.",
    ),
    Line(
        "Pool price",
        "£ per WTE-month",
        "text",
        "The cost saved by one more bank WTE in "
        "that pool and month. Reported only when every target is met; 0 when the pool is "
        "not the constraint.",
    ),
    Line(
        "Shortfall price",
        "WTE of shortfall per WTE-month",
        "text",
        "How much of the "
        "shortfall one more bank WTE in that pool and month closes. Reported only when a "
        "target is out of reach, when prices in pounds would measure the edge of what is "
        "reachable rather than a cost.",
    ),
    Line(
        "Above establishment",
        "WTE",
        "text",
        "Staff in post, bank and agency above a "
        "unit's funded establishment, summed over units: a plan that meets growth by "
        "staffing above funded posts says so here.",
    ),
    Line("Fill rate", "%", "text", "The share of a unit's vacancy that bank and agency fill."),
    Line(
        "Turnover",
        "%",
        "text",
        "Leavers over the last 12 months as a share of the mean staff in post.",
    ),
)


def _about(book: Workbook, plan: PlanRead) -> None:
    label = getattr(plan, "label", None)
    heading = f"Plan {plan.id}" + (f": {label}" if label else "")
    intro = [
        Line("Horizon", "", "text", f"{plan.start}, {plan.months} months"),
        Line(
            "Outcome",
            "",
            "text",
            f"{plan.status or plan.state}: {STATUS_TEXT.get(plan.status or '', '')}",
        ),
    ]
    if plan.synthetic_data:
        intro.insert(0, Line("Data", "Synthetic", "text", SYNTHETIC_NOTE))
    _report(
        book,
        "About",
        heading,
        [
            ("", intro),
            ("Sheet", [Line(name, None, "text", text) for name, text in SHEETS]),
            ("Figure, its unit and what it means", GLOSSARY),
        ],
        widths=(24, 16, 58),
    )


def _costs_lines(costs: plan_brief.Costs) -> list[Line]:
    return [
        Line("Bank", costs.bank, "gbp", "cash: bank staff"),
        Line("Travel", costs.travel, "gbp", "cash: bank staff working away from home"),
        Line("Agency", costs.agency, "gbp", "cash: agency staff"),
        Line("Cash cost", costs.cash, "gbp", "money the system pays: bank, travel and agency"),
        Line(
            "Unfilled posts (WTE-months)",
            costs.unfilled_wte_months,
            "wte",
            "establishment left empty, summed over the months"
            if costs.unfilled_wte_months is not None
            else "not reported for this plan",
        ),
        Line(
            "Penalty on unfilled posts",
            costs.unfilled_penalty,
            "gbp",
            "notional: a price on empty posts, not money",
        ),
    ]


def _summary_facts(plan: PlanRead, brief: Brief) -> list[Line]:
    label = getattr(plan, "label", None)
    # Text reads in the wide third column; the second holds figures.
    facts = [
        Line("Plan", None, "text", plan.id),
        *([Line("Label", None, "text", label)] if label else []),
        Line("State", None, "text", plan.state),
        Line(
            "Outcome",
            None,
            "text",
            f"{plan.status or '—'}: {STATUS_TEXT.get(plan.status or '', '')}".rstrip(": "),
        ),
        *([Line("Message", None, "text", plan.message)] if plan.message else []),
        Line("First month", None, "text", plan.start),
        Line("Months", plan.months, "count"),
        Line("Requested by", None, "text", plan.requested_by),
        Line("Created at", None, "text", plan.created_at.strftime("%Y-%m-%d %H:%M UTC")),
    ]
    if plan.synthetic_data:
        facts.insert(0, Line("Data", None, "text", SYNTHETIC_NOTE))
    if brief.targets:
        facts.append(
            Line(
                "Targets met",
                None,
                "text",
                f"{brief.targets_met} of {len(brief.targets)}: "
                + ", ".join(f"{t.name}: {'met' if t.met else 'short'}" for t in brief.targets),
            )
        )
    return facts


def _cost_blocks(brief: Brief) -> list[tuple[str, Sequence[Line]]]:
    """The plan's cash and penalty, doing nothing's, and the one against the other."""
    blocks: list[tuple[str, Sequence[Line]]] = []
    if brief.cost is not None:
        blocks.append(
            (
                "This plan over the horizon",
                [
                    *_costs_lines(brief.cost),
                    Line(
                        "Model total",
                        brief.cost.total,
                        "gbp",
                        "cash and penalty together: not money",
                    ),
                ],
            )
        )
        if brief.do_nothing is not None:
            blocks.append(("Doing nothing (no bank)", _costs_lines(brief.do_nothing)))
        elif brief.do_nothing_total is not None:
            blocks.append(
                (
                    "Doing nothing (no bank)",
                    [
                        Line(
                            "Model total",
                            brief.do_nothing_total,
                            "gbp",
                            "cash and penalty together: not money (this plan was solved "
                            "before they were reported apart)",
                        )
                    ],
                )
            )
        if brief.versus is not None:
            versus = brief.versus
            blocks.append(
                (
                    "This plan against doing nothing",
                    [
                        Line(
                            "Cash difference",
                            versus.cash_difference,
                            "gbp",
                            "the plan's cash minus doing nothing's; positive: the plan pays more",
                        ),
                        Line(
                            "Unfilled WTE-months avoided",
                            versus.unfilled_wte_months_avoided,
                            "wte",
                            "WTE-months",
                        ),
                        Line(
                            "Penalty avoided",
                            versus.penalty_avoided,
                            "gbp",
                            "notional: not money saved",
                        ),
                    ],
                )
            )
    return blocks


def _solve_and_notes_blocks(plan: PlanRead) -> list[tuple[str, Sequence[Line]]]:
    blocks: list[tuple[str, Sequence[Line]]] = []
    if plan.solve is not None:
        solve = plan.solve
        blocks.append(
            (
                "The solve",
                [
                    Line("Solver", None, "text", solve.solver),
                    Line("Variables", solve.variables, "count"),
                    Line("Constraints", solve.constraints, "count"),
                    Line("Non-zeros", solve.nonzeros, "count"),
                    Line("Build", solve.build_s, "seconds", "seconds"),
                    Line("Solve", solve.solve_s, "seconds", "seconds"),
                ],
            )
        )
    notes = [
        Line(
            str(n.get("kind") or "Note").replace("_", " ").capitalize(), None, "text", n["message"]
        )
        for n in plan.data_notes
        # The synthetic data is said at the top already.
        if n.get("message") and not (plan.synthetic_data and n.get("kind") == "synthetic")
    ]
    if notes:
        blocks.append(("Notes on the data", notes))
    return blocks


def _summary(book: Workbook, plan: PlanRead, brief: Brief) -> None:
    blocks: list[tuple[str, Sequence[Line]]] = [("The plan", _summary_facts(plan, brief))]
    blocks += _cost_blocks(brief)
    blocks += _solve_and_notes_blocks(plan)
    _report(book, "Summary", "Summary", blocks)


def _closing_the_gap(book: Workbook, brief: Brief, names: Names) -> None:
    short = [
        Line(
            t.name,
            Typed(t.shortfall, t.kind),
            "text",
            "largest monthly shortfall"
            + (" (rate points)" if t.kind == "percent" else " (WTE)")
            + (
                f"; {t.shortfall_wte_months:,.1f} WTE-months in all"
                if t.shortfall_wte_months is not None
                else ""
            )
            + (f"; short in {plan_brief.months_text(t.months_short)}" if t.months_short else ""),
        )
        for t in brief.targets_short
    ]
    levers = [
        Line(
            lever.name,
            Typed(lever.shortfall_closed_wte, "wte"),
            "text",
            plan_brief.lever_sentence(lever, names),
        )
        for lever in brief.gap_levers
    ]
    prices = [
        Line(
            names.pool(g.pool), Typed(g.value, "ratio"), "text", plan_brief.price_sentence(g, names)
        )
        for g in plan_brief.top_shortfall_prices(brief, limit=10)
    ]
    blocks: list[tuple[str, Sequence[Line]]] = [("Targets out of reach", short)]
    if levers:
        blocks.append(("What would close the gap (WTE-months of shortfall closed)", levers))
    if prices:
        blocks.append(("Where one more bank WTE closes most (WTE of shortfall per WTE)", prices))
    _report(book, "Closing the gap", "What would close the gap", blocks)


def _targets(book: Workbook, brief: Brief) -> None:
    _table(
        book,
        "Targets",
        (
            Column("Target", 22),
            Column("Measured in", 12),
            Column("Required at the end", 14, "wte"),
            Column("Achieved", 14, "wte"),
            Column("Largest monthly shortfall", 14, "wte"),
            Column("Shortfall (WTE-months)", 14, "wte"),
            Column("Months short", 10, "count"),
            Column("Which months", 44),
            Column("Met", 8),
            Column("Shadow price (£ per percentage point)", 18, "price"),
        ),
        (
            (
                t.name,
                "%" if t.kind == "percent" else "WTE",
                Typed(t.required, t.kind),
                Typed(t.achieved, t.kind),
                Typed(t.shortfall, t.kind),
                t.shortfall_wte_months,
                len(t.months_short),
                plan_brief.months_text(t.months_short),
                "yes" if t.met else "no",
                t.shadow_price if t.shadow_price is not None else "not reported",
            )
            for t in brief.targets
        ),
    )


SYSTEM_COLUMNS = (
    ("period", Column("Month", 10)),
    ("nursing_capacity_wte", Column("Nursing capacity (WTE)", 14, "wte")),
    ("nursing_capacity_trajectory_wte", Column("Nursing trajectory (WTE)", 14, "wte")),
    ("nursing_shortfall_wte", Column("Nursing shortfall (WTE)", 13, "wte")),
    ("turnover_rate_12m", Column("12-month turnover", 12, "percent")),
    ("turnover_trajectory", Column("Turnover trajectory", 12, "percent")),
    ("turnover_shortfall_wte", Column("Turnover shortfall (WTE of leavers)", 14, "wte")),
    ("agency_wte", Column("Agency (WTE)", 12, "wte")),
    ("agency_baseline_wte", Column("Agency baseline (WTE)", 12, "wte")),
    ("bank_wte", Column("Bank (WTE)", 12, "wte")),
    ("bank_capacity_wte", Column("Bank capacity (WTE)", 12, "wte")),
    ("over_establishment_nursing_wte", Column("Nursing above establishment (WTE)", 14, "wte")),
    ("over_establishment_wte", Column("All groups above establishment (WTE)", 14, "wte")),
)


def _system(book: Workbook, system: Sequence[Mapping[str, Any]]) -> None:
    # Older plans lack some columns: show only what the plan reports.
    keys = [k for k, _ in SYSTEM_COLUMNS if k == "period" or any(k in m for m in system)]
    columns = dict(SYSTEM_COLUMNS)
    _table(
        book,
        "System by month",
        [columns[k] for k in keys],
        ([m.get(k) for k in keys] for m in system),
    )


def _allocations(book: Workbook, rows: Sequence[Mapping[str, Any]], names: Names) -> None:
    _table(
        book,
        "Allocations",
        (
            Column("Pool", 12),
            Column("Pool name", 44),
            Column("Organisation", 13),
            Column("Organisation name", 44),
            Column("Place", 16),
            Column("Staff group", 14),
            Column("Month", 10),
            Column("WTE", 10, "wte"),
            Column("Cost (£)", 12, "gbp"),
        ),
        (
            (
                a["pool"],
                names.pool(a["pool"]),
                a["organisation"],
                names.organisation(a["organisation"]),
                names.places.get(a["organisation"], ""),
                a["staff_group"],
                a["period"],
                a["wte"],
                a["cost"],
            )
            for a in rows
        ),
        empty="The plan allocates no bank staff.",
    )


def _projections(book: Workbook, rows: Sequence[Mapping[str, Any]], names: Names) -> None:
    _table(
        book,
        "Projections",
        (
            Column("Organisation", 13),
            Column("Organisation name", 44),
            Column("Staff group", 14),
            Column("Month", 10),
            Column("Staff in post (WTE)", 12, "wte"),
            Column("Bank (WTE)", 10, "wte"),
            Column("Agency (WTE)", 10, "wte"),
            Column("Unfilled (WTE)", 10, "wte"),
            Column("Leavers (WTE)", 10, "wte"),
            Column("Fill rate", 9, "percent"),
        ),
        (
            (
                p["organisation"],
                names.organisation(p["organisation"]),
                p["staff_group"],
                p["period"],
                p["staff_in_post_wte"],
                p["bank_wte"],
                p["agency_wte"],
                p["unfilled_wte"],
                p["leavers_wte"],
                p.get("fill_rate"),
            )
            for p in rows
        ),
    )


def _pool_prices(book: Workbook, brief: Brief, names: Names) -> None:
    if brief.all_met:
        value = Column("£ saved by one more bank WTE (£ per WTE-month)", 22, "price")
        prices = brief.cash_prices
        empty = "No pool prices reported."
    else:
        value = Column("WTE of shortfall closed by one more bank WTE (per WTE-month)", 24, "ratio")
        prices = brief.shortfall_prices
        empty = (
            "A target is out of reach: prices in pounds are not reported, and this plan "
            "reports no shortfall prices."
        )
    _table(
        book,
        "Pool prices",
        (Column("Pool", 13), Column("Pool name", 46), Column("Month", 10), value),
        ((p.pool, names.pool(p.pool), p.period, p.value) for p in prices),
        empty=empty,
    )


def workbook_bytes(plan: PlanRead, result: Mapping[str, Any] | None, *, names: Names) -> bytes:
    """The workbook of ``plan``, whose stored result is ``result``."""
    result = result or {}
    brief = plan_brief.read(result)
    book = Workbook(write_only=True)
    _about(book, plan)
    _summary(book, plan, brief)
    if brief.targets_short:
        _closing_the_gap(book, brief, names)
    _targets(book, brief)
    _system(book, result.get("system") or [])
    _allocations(book, result.get("allocations") or [], names)
    _projections(book, result.get("projections") or [], names)
    _pool_prices(book, brief, names)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def plan_workbook(session: Session, plan: Plan) -> bytes:
    """The workbook of a stored plan, with the names of its organisations and pools."""
    return workbook_bytes(to_read(plan), plan.result, names=plan_brief.load_names(session))
