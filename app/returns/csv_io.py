"""Returns as CSV: one row per line, a header row naming the line fields."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from app.errors import BadRequest, ValidationFailed, field_error
from app.returns.schemas import LINE_FIELDS
from app.spreadsheet import csv_cell

REQUIRED = frozenset(
    {
        "staff_group",
        "establishment_wte",
        "staff_in_post_wte",
        "starters_wte",
        "leavers_wte",
        "bank_wte",
        "agency_wte",
    }
)
EXPORT_FIELDS = ("organisation", "period", "revision", "synthetic", *LINE_FIELDS)


def parse_lines(body: bytes) -> list[dict[str, Any]]:
    """CSV lines as dictionaries of strings; empty cells are left out (so optional ones
    default). Refuses an unreadable body (400) or a header that is not ours (422)."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BadRequest("The CSV body is not UTF-8 text.") from error
    try:
        reader = csv.reader(io.StringIO(text, newline=""), strict=True)
        rows = [row for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as error:
        raise BadRequest(f"The CSV body could not be parsed: {error}.") from error
    if not rows:
        raise ValidationFailed(
            "The CSV body is empty.", errors=[field_error(("lines",), "no header row and no lines")]
        )
    header = [cell.strip() for cell in rows[0]]
    unknown = [name for name in header if name not in LINE_FIELDS]
    missing = sorted(REQUIRED - set(header))
    problems = [field_error(("header", name), "unknown column") for name in unknown]
    problems += [field_error(("header", name), "required column is missing") for name in missing]
    if len(set(header)) != len(header):
        problems.append(field_error(("header",), "a column is named twice"))
    if problems:
        raise ValidationFailed(
            f"The CSV header must name the line fields: {', '.join(LINE_FIELDS)}.", errors=problems
        )
    lines = []
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise ValidationFailed(
                f"CSV row {number} has {len(row)} cells; the header has {len(header)}.",
                errors=[field_error(("lines", number - 2), f"CSV row {number}: wrong cell count")],
            )
        lines.append(
            {name: cell.strip() for name, cell in zip(header, row, strict=True) if cell.strip()}
        )
    return lines


def render(rows: Iterable[dict[str, Any]], fields: Sequence[str] = EXPORT_FIELDS) -> Iterator[str]:
    """CSV text, a header naming ``fields`` and then one row per dictionary, chunk by chunk;
    text that a spreadsheet could take for a formula is written as text."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else csv_cell(v)) for k, v in row.items()})
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
