"""On the demo data the measures agree with the synthetic generator's own totals."""

from __future__ import annotations

from collections import defaultdict

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.db import session_scope
from seed import reference, synthetic
from seed.load import load_demo

UNTIL = "2020-03"


def test_three_requests_show_each_place_since_2019_and_agree_with_the_generator(
    client: TestClient, reader_headers: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    for session in session_scope(sessions):
        load_demo(session, until=UNTIL)
    place_of = {o.code: o.place for o in reference.ORGANISATIONS}
    staff: dict[str, float] = defaultdict(float)
    capacity: dict[str, float] = defaultdict(float)
    leavers: dict[str, float] = defaultdict(float)
    staff_months: dict[str, float] = defaultdict(float)
    for demo in synthetic.generate_returns(UNTIL):
        place = place_of[demo.organisation]
        for line in demo.lines:
            if demo.period == UNTIL:
                staff[place] += float(line.staff_in_post_wte)
                if line.staff_group in reference.NURSING_GROUPS:
                    capacity[place] += float(
                        line.staff_in_post_wte + line.bank_wte + line.agency_wte
                    )
            leavers[place] += float(line.leavers_wte)
            staff_months[place] += float(line.staff_in_post_wte)

    start = client.get("/v1/metrics?level=place&period=2019-04", headers=reader_headers).json()
    latest = client.get(f"/v1/metrics?level=place&period={UNTIL}", headers=reader_headers).json()
    status = client.get("/v1/targets/status?level=place", headers=reader_headers).json()

    places = {i["code"]: i for i in latest["items"] if i["staff_group"] is None}
    assert set(places) == set(reference.PLACES)
    for place, item in places.items():
        assert item["staff_in_post_wte"] == pytest.approx(staff[place], abs=0.01)
        assert item["nursing_capacity_wte"] == pytest.approx(capacity[place], abs=0.01)
        # The 12 months 2019-04..2020-03 are all there: leavers / mean staff in post.
        assert item["turnover_rate_12m"] == pytest.approx(
            leavers[place] / (staff_months[place] / 12), abs=1e-4
        )
        assert item["turnover_annualised"] is False
        assert item["synthetic"] is True
    assert {i["code"] for i in start["items"]} == set(reference.PLACES)
    rated = {(i["target"], i["code"]): i for i in status["items"]}
    for place in reference.PLACES:
        for target in ("nursing_capacity_growth", "turnover_rate"):
            assert rated[target, place]["rag"] in ("green", "amber", "red")
            assert rated[target, place]["baseline_period"] == "2019-04"
