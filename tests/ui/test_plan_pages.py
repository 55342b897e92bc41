"""The plan page as a workforce lead's brief and the comparison, on plans whose results
are stored in the shape that reports cash apart from penalty (written by hand and inserted
directly), and on an older result."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.bank.models import BankPool
from tests.plans import constructed
from tests.ui.test_pages import browser, lead, sign_in

__all__ = ["browser", "lead"]  # fixtures, used by name


def _position(html: str, marker: str) -> int:
    index = html.find(marker)
    assert index >= 0, marker
    return index


def _values(html: str, table_id: str, attribute: str) -> dict[str, str]:
    table = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    return dict(re.findall(rf'{attribute}="([^"]+)" data-value="([^"]*)"', table))


def test_an_unreachable_plan_leads_with_what_would_close_the_gap(
    browser: TestClient, lead: str, session: Session
) -> None:
    plan_id = constructed.insert_plan(session, constructed.v2_result(reachable=False))
    pool = session.get(BankPool, "SOT-NURSING")
    assert pool is not None
    session.commit()
    sign_in(browser, lead)
    html = browser.get(f"/ui/plans/{plan_id}").text

    # Top to bottom: what the plan achieves in a sentence, the gap, the targets, the cash.
    headline = _position(html, 'id="plan-headline"')
    assert (
        headline
        < _position(html, "What would close the gap")
        < _position(html, "What the plan achieves")
        < _position(html, "Cash cost against doing nothing")
    )
    assert "This plan meets 2 of 3 targets: nursing capacity is out of reach in 5 months." in html
    gap = html.split('id="gap"', 1)[1].split("</section>", 1)[0]
    assert "2026-11 to 2027-03 (5 months)" in gap
    assert "200.0 WTE" in gap
    assert _values(html, "gap-targets", "data-field") == {"shortfall_wte_months": "600.0"}
    assert re.findall(r'data-lever="([a-z_]+)"', gap) == ["target_month", "pipeline", "pool"]
    assert (
        "Take on more newly qualified nurses: 10% more starters closes 120.0 WTE-months of "
        "shortfall."
    ) in gap
    assert (
        "One more bank WTE in Portsmouth registered nursing and midwifery bank (POR-NURSING) in "
        "every month would close about 4.0 WTE-months of shortfall."
    ) in gap
    assert (
        f"One more bank WTE in {pool.name} (SOT-NURSING) closes 0.80 WTE of the shortfall in "
        "each of 2026-11 to 2027-03 (5 months)."
    ) in gap
    # No pound prices while a target is out of reach.
    assert 'id="pools-table"' not in html
    assert "Shadow price" not in html
    # Cash, unfilled posts and penalty, each against doing nothing.
    cost = _values(html, "cost-table", "data-field")
    assert float(cost["cash"]) == 34_620_000
    assert float(cost["do_nothing_cash"]) == 31_000_000
    assert float(cost["versus_cash"]) == 3_620_000
    assert float(cost["unfilled"]) == 360
    assert float(cost["versus_unfilled"]) == 1_480
    assert float(cost["versus_penalty"]) == 7_400_000
    assert "Cash difference: £3,620,000 more cash" in html
    assert "Penalty on unfilled posts (notional, not money)" in html
    assert "saving" not in html.lower()
    # Months staffed above establishment.
    assert re.findall(r'<tr data-period="([0-9-]+)">', html) == ["2027-01", "2027-02", "2027-03"]


def test_a_plan_meeting_every_target_prices_pools_in_pounds(
    browser: TestClient, lead: str, session: Session
) -> None:
    plan_id = constructed.insert_plan(session, constructed.v2_result(reachable=True))
    pool = session.get(BankPool, "SOT-NURSING")
    assert pool is not None
    session.commit()
    sign_in(browser, lead)
    html = browser.get(f"/ui/plans/{plan_id}").text
    assert 'id="gap"' not in html
    assert "This plan meets all 3 targets." in html
    assert "Shadow price (£ per percentage point)" in html
    assert "£41,000.00" in html
    pools = html.split('id="pools-table"', 1)[1].split("</table>", 1)[0]
    assert "(£ per WTE-month)" in pools
    first = re.search(r'<tr data-pool="([^"]+)"><th scope="row">([^<]+) <span', pools)
    assert first is not None
    assert (first[1], first[2]) == ("SOT-NURSING", pool.name)
    assert "£2,150.00" in pools


def test_an_older_plan_shows_what_it_can_and_no_pound_prices_out_of_reach(
    browser: TestClient, lead: str, session: Session
) -> None:
    plan_id = constructed.insert_plan(session, constructed.v1_result(reachable=False))
    session.commit()
    sign_in(browser, lead)
    page = browser.get(f"/ui/plans/{plan_id}")
    assert page.status_code == 200
    html = page.text
    cost = _values(html, "cost-table", "data-field")
    assert float(cost["cash"]) == 34_620_000  # bank, travel and agency
    assert float(cost["unfilled"]) == 360  # from the projections
    assert cost["do_nothing_cash"] == ""
    assert "solved before cash and penalty were reported apart" in html
    assert 'id="gap"' in html
    assert "2,892,564" not in html
    assert "saving" not in html.lower()


def test_the_comparison_shows_cash_unfilled_posts_and_penalty_against_doing_nothing(
    browser: TestClient, lead: str, session: Session
) -> None:
    ids = [
        constructed.insert_plan(session, constructed.v2_result(reachable=True)),
        constructed.insert_plan(session, constructed.v2_result(reachable=False)),
        constructed.insert_plan(session, constructed.v1_result(reachable=False)),
    ]
    session.commit()
    sign_in(browser, lead)
    html = browser.get("/ui/compare?" + "&".join(f"plan={i}" for i in ids)).text
    table = html.split('id="comparison"', 1)[1].split("</table>", 1)[0]
    rows = {
        field: re.findall(r'data-value="([^"]*)"', cells)
        for field, cells in re.findall(r'<tr data-field="([a-z_]+)">(.*?)</tr>', table, re.S)
    }
    assert rows["cash"] == ["34620000.0"] * 3
    assert rows["cash_difference"] == ["3620000.0", "3620000.0", ""]
    assert rows["unfilled_wte_months_avoided"] == ["1480.0", "1480.0", ""]
    assert rows["penalty_avoided"] == ["7400000.0", "7400000.0", ""]
    assert "600.0 WTE-months short" in table
    assert "saving" not in html.lower()
