"""A plan as an Excel workbook, since workforce leads work in spreadsheets."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from app.plans.schemas import PlanRead

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SYNTHETIC_NOTE = "Built from synthetic demo returns: not real organisations' data."


def _sheet(
    book: Workbook, title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    sheet: WriteOnlyWorksheet = book.create_sheet(title)
    bold = Font(bold=True)
    cells = []
    for name in header:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        cells.append(cell)
    sheet.append(cells)
    for row in rows:
        sheet.append(list(row))


def workbook_bytes(plan: PlanRead) -> bytes:
    book = Workbook(write_only=True)
    cost = plan.cost
    summary: list[tuple[str, Any]] = [
        ("Plan", plan.id),
        ("State", plan.state),
        ("Status", plan.status),
        ("Message", plan.message),
        ("Start", plan.start),
        ("Months", plan.months),
        ("Requested by", plan.requested_by),
        ("Created at", plan.created_at.isoformat()),
    ]
    if plan.synthetic_data:
        summary.insert(0, ("Data", SYNTHETIC_NOTE))
    if cost is not None:
        summary += [
            ("Bank cost (GBP)", cost.bank),
            ("Travel cost (GBP)", cost.travel),
            ("Agency cost (GBP)", cost.agency),
            ("Unfilled penalty (GBP)", cost.unfilled_penalty),
            ("Total cost (GBP)", cost.total),
            ("Do-nothing cost (GBP)", plan.do_nothing_cost),
            ("Saving (GBP)", plan.saving),
            ("Objective", plan.objective),
        ]
    if plan.solve is not None:
        summary += [
            ("Variables", plan.solve.variables),
            ("Constraints", plan.solve.constraints),
            ("Non-zeros", plan.solve.nonzeros),
            ("Build seconds", plan.solve.build_s),
            ("Solve seconds", plan.solve.solve_s),
            ("Solver", plan.solve.solver),
        ]
    summary += [(f"Note: {n.get('kind', '')}", n.get("message", "")) for n in plan.data_notes]
    _sheet(book, "Summary", ("Item", "Value"), summary)
    _sheet(
        book,
        "Allocations",
        ("Pool", "Organisation", "Staff group", "Month", "WTE", "Cost (GBP)"),
        (
            (a.pool, a.organisation, a.staff_group, a.period, a.wte, a.cost)
            for a in plan.allocations or []
        ),
    )
    _sheet(
        book,
        "Projections",
        (
            "Organisation",
            "Staff group",
            "Month",
            "Staff in post WTE",
            "Bank WTE",
            "Agency WTE",
            "Unfilled WTE",
            "Leavers WTE",
            "Fill rate",
        ),
        (
            (
                p.organisation,
                p.staff_group,
                p.period,
                p.staff_in_post_wte,
                p.bank_wte,
                p.agency_wte,
                p.unfilled_wte,
                p.leavers_wte,
                p.fill_rate,
            )
            for p in plan.projections or []
        ),
    )
    _sheet(
        book,
        "System by month",
        (
            "Month",
            "Nursing capacity WTE",
            "Nursing trajectory WTE",
            "Turnover 12m",
            "Turnover target",
            "Agency WTE",
            "Agency baseline WTE",
            "Bank WTE",
            "Bank capacity WTE",
        ),
        (
            (
                m.period,
                m.nursing_capacity_wte,
                m.nursing_capacity_trajectory_wte,
                m.turnover_rate_12m,
                m.turnover_target,
                m.agency_wte,
                m.agency_baseline_wte,
                m.bank_wte,
                m.bank_capacity_wte,
            )
            for m in plan.system or []
        ),
    )
    _sheet(
        book,
        "Targets",
        ("Target", "Required", "Achieved", "Shortfall", "Met", "Shadow price (GBP per point)"),
        (
            (name, t.required, t.achieved, t.shortfall, t.met, t.shadow_price)
            for name, t in (plan.targets or {}).items()
        ),
    )
    _sheet(
        book,
        "Shadow prices",
        ("Pool", "Month", "GBP per extra WTE-month"),
        ((s.pool, s.period, s.value) for s in plan.pool_shadow_prices or []),
    )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
