"""The workbook and the CSV exports: text a user typed never becomes a formula, and the
workbook reads as a formatted report (formats, widths, frozen headers, filters, names,
cash apart from penalty)."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from openpyxl.workbook import Workbook
from sqlalchemy.orm import Session

from app.bank.models import BankPool
from app.spreadsheet import csv_cell, is_formula_like
from tests.conftest import bearer, line
from tests.plans import constructed
from tests.plans.constructed import FORMULA
from tests.plans.test_plans import HAND_SCENARIO, small_system

__all__ = ["small_system"]  # a fixture, used by name

Headers = Callable[[str], dict[str, str]]


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (FORMULA, "'" + FORMULA),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("  =1", "'  =1"),
        ("-12.5", "-12.5"),  # a number written as text is no formula
        ("Southampton", "Southampton"),
        ("", ""),
        (-12.5, -12.5),
        (0, 0),
        (None, None),
    ],
)
def test_csv_cells_that_could_be_formulas_are_written_as_text(value: Any, written: Any) -> None:
    assert csv_cell(value) == written


def _formula_cells(book: Workbook) -> list[str]:
    return [
        f"{sheet.title}!{cell.coordinate}"
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type == "f"
    ]


def _xml_has_formula(content: bytes) -> bool:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return any(
            b"<f>" in archive.read(name) or b"<f " in archive.read(name)
            for name in archive.namelist()
            if name.startswith("xl/worksheets/")
        )


def _summary(book: Workbook) -> dict[str, Any]:
    """The Summary sheet's labels and values; this plan's block comes before doing
    nothing's, so a label's first value is the plan's."""
    values: dict[str, Any] = {}
    for label, value, *_ in book["Summary"].iter_rows(min_row=2, values_only=True):
        if label is not None:
            values.setdefault(label, value)
    return values


def test_a_formula_in_a_token_or_organisation_name_stays_text_in_the_workbook(
    client: TestClient,
    make_token: Callable[..., str],
    admin_headers: dict[str, str],
    small_system: None,
) -> None:
    renamed = client.patch("/v1/organisations/RHM", json={"name": FORMULA}, headers=admin_headers)
    assert renamed.status_code == 200
    planner = bearer(make_token("plans:write", "read", name=FORMULA))
    plan = client.post(
        "/v1/plans",
        json={"start": "2024-03", "months": 1, "scenario": HAND_SCENARIO},
        headers=planner,
    ).json()
    requested_by = plan["requested_by"]
    assert requested_by.startswith(FORMULA)  # the token's name and its id

    response = client.get(f"/v1/plans/{plan['id']}/workbook", headers=planner)
    assert response.status_code == 200
    assert not _xml_has_formula(response.content)
    book = load_workbook(io.BytesIO(response.content))
    assert _formula_cells(book) == []
    requested = next(
        row[2] for row in book["Summary"].iter_rows() if row[0].value == "Requested by"
    )
    assert requested.value == requested_by  # shown as typed, as text
    assert requested.data_type == "s"
    assert requested.quotePrefix
    names = [row[3] for row in book["Allocations"].iter_rows(min_row=2) if row[2].value == "RHM"]
    assert names
    assert all(cell.value == FORMULA and cell.data_type == "s" for cell in names)

    # The CSV of the same allocations: the organisation is a code, and stays as it was.
    text = client.get(f"/v1/plans/{plan['id']}/allocations?format=csv", headers=planner).text
    assert all(not cell.startswith("=") for row in csv.reader(io.StringIO(text)) for cell in row)


def test_a_formula_as_a_place_s_name_stays_text_in_the_metrics_csv(
    client: TestClient, admin_headers: dict[str, str], writer_headers: Headers
) -> None:
    organisation = {"code": "RXX", "name": FORMULA, "kind": "acute", "place": FORMULA}
    assert client.post("/v1/organisations", json=organisation, headers=admin_headers).is_success
    submitted = client.put(
        "/v1/organisations/RXX/returns/2024-03",
        json={"lines": [line()]},
        headers=writer_headers("RXX"),
    )
    assert submitted.status_code == 201, submitted.text

    response = client.get(
        "/v1/metrics/series",
        params={"level": "place", "code": FORMULA, "from": "2024-03", "to": "2024-03"}
        | {"format": "csv"},
        headers=admin_headers,
    )
    assert response.status_code == 200, response.text
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["code"] for row in rows] == ["'" + FORMULA]
    assert float(rows[0]["nursing_capacity_wte"]) > 0  # numbers stay numbers
    cells = [cell for row in csv.reader(io.StringIO(response.text)) for cell in row]
    assert not any(is_formula_like(cell) for cell in cells)


# The workbook as a report ----------------------------------------------------------------


@pytest.fixture
def reader(make_token: Callable[..., str]) -> dict[str, str]:
    return bearer(make_token("read", "plans:write", name="workforce lead"))


def _book(client: TestClient, headers: dict[str, str], plan_id: str) -> Workbook:
    response = client.get(f"/v1/plans/{plan_id}/workbook", headers=headers)
    assert response.status_code == 200
    assert not _xml_has_formula(response.content)
    return load_workbook(io.BytesIO(response.content))


def _header(book: Workbook, sheet: str) -> list[str]:
    return [str(c.value) for c in next(book[sheet].iter_rows(max_row=1))]


def _column(book: Workbook, sheet: str, header: str) -> list[Any]:
    index = _header(book, sheet).index(header)
    return [row[index] for row in book[sheet].iter_rows(min_row=2)]


TABLES = ("Targets", "System by month", "Allocations", "Projections", "Pool prices")


def test_the_workbook_of_an_unreachable_plan_reads_as_a_report(
    client: TestClient, session: Session, reader: dict[str, str]
) -> None:
    plan_id = constructed.insert_plan(session, constructed.v2_result(reachable=False))
    session.commit()
    book = _book(client, reader, plan_id)
    assert book.sheetnames == [
        "About",
        "Summary",
        "Closing the gap",
        "Targets",
        "System by month",
        "Allocations",
        "Projections",
        "Pool prices",
    ]
    # Every table: a frozen, filtered header row and set widths.
    for title in TABLES:
        sheet = book[title]
        assert sheet.freeze_panes == "A2", title
        last = sheet.cell(1, sheet.max_column).column_letter
        assert sheet.auto_filter.ref == f"A1:{last}{sheet.max_row}", title
        for index in range(1, sheet.max_column + 1):
            letter = sheet.cell(1, index).column_letter
            assert sheet.column_dimensions[letter].width >= 8, (title, letter)
    # Number formats: WTE to one decimal, pounds with thousands separators, rates as %.
    assert {c.number_format for c in _column(book, "Allocations", "WTE")} == {"#,##0.0"}
    assert {c.number_format for c in _column(book, "Allocations", "Cost (£)")} == {
        '"£"#,##0;-"£"#,##0'
    }
    assert {c.number_format for c in _column(book, "Projections", "Fill rate")} == {"0.0%"}
    assert {c.number_format for c in _column(book, "System by month", "12-month turnover")} == {
        "0.0%"
    }
    turnover = next(
        r for r in book["Targets"].iter_rows(min_row=2) if r[0].value == "12-month turnover"
    )
    assert turnover[2].number_format == "0.0%"
    # Names beside codes.
    pool_name = session.get(BankPool, "SOT-NURSING")
    assert pool_name is not None
    rows = {
        (r[0].value, r[2].value): (r[1].value, r[3].value, r[4].value)
        for r in book["Allocations"].iter_rows(min_row=2)
    }
    assert rows["SOT-NURSING", "RHM"] == (
        pool_name.name,
        "University Hospital Southampton NHS Foundation Trust",
        "Southampton",
    )
    assert {c.value for c in _column(book, "Projections", "Organisation name")} >= {
        "Portsmouth Hospitals University NHS Trust"
    }
    # Cash apart from penalty, against doing nothing; nothing called a saving.
    summary = _summary(book)
    assert summary["Cash cost"] == 34_620_000
    assert summary["Unfilled posts (WTE-months)"] == 360
    assert summary["Penalty on unfilled posts"] == 1_800_000
    assert summary["Cash difference"] == 3_620_000
    assert summary["Unfilled WTE-months avoided"] == 1_480
    assert summary["Penalty avoided"] == 7_400_000
    texts = [
        str(c.value).lower() for s in book.worksheets for r in s.iter_rows() for c in r if c.value
    ]
    assert not any("saving" in t for t in texts)
    # What would close the gap, in WTE; no prices in pounds.
    gap = [str(c.value) for r in book["Closing the gap"].iter_rows() for c in r if c.value]
    assert "Nursing capacity" in gap
    assert any("Take on more newly qualified nurses" in t for t in gap)
    assert (
        f"One more bank WTE in {pool_name.name} (SOT-NURSING) closes 0.80 WTE of the shortfall "
        "in each of 2026-11 to 2027-03 (5 months)."
    ) in gap
    assert "WTE of shortfall closed" in _header(book, "Pool prices")[3]
    assert [c.value for c in _column(book, "Targets", "Shadow price (£ per percentage point)")] == [
        "not reported"
    ] * 3
    # The first sheet says what each sheet and figure means, with units.
    about = {r[0].value: (r[1].value, r[2].value) for r in book["About"].iter_rows() if r[0].value}
    for sheet in book.sheetnames[1:]:
        assert sheet in about
    assert about["Penalty on unfilled posts"][0] == "£, notional"
    assert about["Shortfall price"][0] == "WTE of shortfall per WTE-month"
    assert about["Pool price"][0] == "£ per WTE-month"


def test_the_workbook_of_a_met_plan_prices_pools_in_pounds(
    client: TestClient, session: Session, reader: dict[str, str]
) -> None:
    plan_id = constructed.insert_plan(session, constructed.v2_result(reachable=True))
    session.commit()
    book = _book(client, reader, plan_id)
    assert "Closing the gap" not in book.sheetnames
    assert _header(book, "Pool prices")[3].startswith("£ saved by one more bank WTE")
    prices = _column(book, "Pool prices", _header(book, "Pool prices")[3])
    assert prices[0].value == 2_150
    assert prices[0].number_format == '"£"#,##0.00'
    shadow = _column(book, "Targets", "Shadow price (£ per percentage point)")
    assert [c.value for c in shadow] == [41_000, 0, 0]


def test_an_older_plan_s_workbook_works_out_cash_and_leaves_out_what_it_lacks(
    client: TestClient, session: Session, reader: dict[str, str]
) -> None:
    result = constructed.v1_result(reachable=False)
    plan_id = constructed.insert_plan(session, result)
    session.commit()
    book = _book(client, reader, plan_id)
    summary = _summary(book)
    assert summary["Cash cost"] == 6_500_000 + 120_000 + 28_000_000
    assert summary["Unfilled posts (WTE-months)"] == 3 * 12 * 10  # from the projections
    assert "Cash difference" not in summary
    assert "Nursing shortfall (WTE)" not in _header(book, "System by month")
    # A target was out of reach: its pounds prices measure the edge, and are not shown.
    assert next(c.value for c in _column(book, "Pool prices", "Pool")).startswith(
        "A target is out of reach"
    )
