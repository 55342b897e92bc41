"""The running totals kept on submission equal the totals built afresh from the latest
lines, whatever order returns, amendments and moves between places come in."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.metrics import totals
from app.metrics.models import UnitTotal
from tests.conftest import line

Headers = Callable[[str], dict[str, str]]
Snapshot = dict[tuple[str, str, str, str], dict[str, Any]]


def snapshot(session: Session) -> Snapshot:
    """Every stored total, zero rows left out (an addition may leave a row of zeros where
    a rebuild writes none)."""
    rows: Snapshot = {}
    for total in session.scalars(select(UnitTotal)):
        # Sums in another order differ in the last bits of a double, not in the cents.
        values = {name: round(getattr(total, name), 6) for name in totals.COLUMNS}
        if any(values.values()):
            rows[total.level, total.period, total.code, total.staff_group] = values
    return rows


def submit(client: TestClient, headers: Headers, org: str, period: str, rng: random.Random) -> None:
    groups = rng.sample(["NURSE", "MIDWIFE", "DOCTOR", "SUPPORT"], rng.randint(1, 3))
    lines = [
        line(
            group,
            establishment_wte=rng.randint(0, 200),
            staff_in_post_wte=rng.randint(0, 180),
            starters_wte=rng.randint(0, 5),
            leavers_wte=rng.randint(0, 5),
            bank_wte=round(rng.uniform(0, 20), 2),
            agency_wte=round(rng.uniform(0, 10), 2),
            bank_spend_gbp=rng.choice([None, 1000.5]),
        )
        for group in groups
    ]
    response = client.put(
        f"/v1/organisations/{org}/returns/{period}",
        json={"lines": lines, "amendment_reason": "corrected", "replace_all": True},
        headers=headers(org),
    )
    assert response.status_code in (200, 201), response.text


def test_totals_kept_on_submission_equal_a_rebuild(
    client: TestClient,
    writer_headers: Headers,
    admin_headers: dict[str, str],
    sessions: sessionmaker[Session],
) -> None:
    rng = random.Random(4)
    periods = ["2023-11", "2023-12", "2024-01", "2024-02", "2024-03", "2025-01"]
    for _ in range(30):  # new returns and amendments, some months skipped
        submit(client, writer_headers, rng.choice(["RHM", "RHU", "R1F"]), rng.choice(periods), rng)
    moved = client.patch(
        "/v1/organisations/R1F", json={"place": "Portsmouth"}, headers=admin_headers
    )
    assert moved.status_code == 200, moved.text
    for _ in range(5):
        submit(client, writer_headers, rng.choice(["RHM", "R1F"]), rng.choice(periods), rng)

    with sessions() as session:
        kept = snapshot(session)
        written = totals.rebuild_from_latest_lines(session)
        session.commit()
        built = snapshot(session)
    assert written >= len(built) > 0
    assert kept == built
    # The moved organisation counts in its new place only.
    assert not any(k[0] == "place" and k[2] == "Isle of Wight" for k in built)
    assert any(k[0] == "place" and k[2] == "Portsmouth" for k in built)


def test_the_window_carries_a_month_into_the_next_eleven(
    client: TestClient, writer_headers: Headers, sessions: sessionmaker[Session]
) -> None:
    """One return in 2024-01: its leavers count in every window from 2024-01 to
    2024-12 and in none after."""
    response = client.put(
        "/v1/organisations/RHM/returns/2024-01",
        json={"lines": [line("NURSE", leavers_wte=3, staff_in_post_wte=100)]},
        headers=writer_headers("RHM"),
    )
    assert response.status_code == 201, response.text
    with sessions() as session:
        rows = {
            t.period: t
            for t in session.scalars(
                select(UnitTotal).where(
                    UnitTotal.level == "organisation",
                    UnitTotal.code == "RHM",
                    UnitTotal.staff_group == "NURSE",
                )
            )
        }
    assert sorted(rows) == [f"2024-{m:02d}" for m in range(1, 13)]
    assert all(rows[p].window_leavers_wte == 3 for p in rows)
    assert all(rows[p].window_staff_in_post_wte == 100 for p in rows)
    assert rows["2024-01"].leavers_wte == 3
    assert rows["2024-02"].leavers_wte == 0
