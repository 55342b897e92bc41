"""Text written to a CSV file or a workbook, made safe from spreadsheet formulas.

Names, labels and sources are typed by users; a spreadsheet program reads a cell that
starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return before one) as a
formula, and a formula can fetch a web page or run a command when the file is opened. Such
text is written with a leading apostrophe in CSV, which spreadsheets take as "this is
text" and do not show, and as an explicit text cell in a workbook. Numbers stay numbers.
"""

from __future__ import annotations

import re
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
# A plain decimal number written as text ("-12.5") is not a formula in any spreadsheet.
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def is_formula_like(text: str) -> bool:
    """Whether a spreadsheet could read ``text`` as a formula (leading spaces ignored, as
    some programs ignore them)."""
    stripped = text.lstrip(" ")
    return stripped.startswith(FORMULA_STARTS) and _NUMBER.fullmatch(stripped) is None


def csv_cell(value: Any) -> Any:
    """A value for a CSV cell: text that could be read as a formula gets a leading
    apostrophe; anything else (numbers, dates, None) is returned as it is."""
    if isinstance(value, str) and is_formula_like(value):
        return "'" + value
    return value
