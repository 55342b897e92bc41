"""Every measure against figures worked out by hand from a small set of returns posted
through HTTP: a missing month, an amended return, a group with no establishment."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from seed import reference
from tests.conftest import line

Headers = Callable[[str], dict[str, str]]


@pytest.fixture
def returns(client: TestClient, writer_headers: Headers) -> None:
    """RHM (Southampton) returns 2024-01..03, its March amended; RHU (Portsmouth) misses
    February. RHM's doctors have no establishment and no staff, only 1 WTE of bank."""
    rhm, rhu = writer_headers("RHM"), writer_headers("RHU")

    def put(headers: dict[str, str], org: str, period: str, lines: list[Any], **body: Any) -> None:
        response = client.put(
            f"/v1/organisations/{org}/returns/{period}",
            json={"lines": lines, **body},
            headers=headers,
        )
        assert response.status_code in (200, 201), response.text

    nurse = {
        "establishment_wte": 100,
        "starters_wte": 2,
        "leavers_wte": 1,
        "bank_wte": 4,
        "agency_wte": 2,
    }
    put(
        rhm,
        "RHM",
        "2024-01",
        [line("NURSE", **nurse, staff_in_post_wte=90, bank_spend_gbp=1000, agency_spend_gbp=800)],
    )
    put(rhm, "RHM", "2024-02", [line("NURSE", **nurse, staff_in_post_wte=91)])
    march = {"establishment_wte": 100, "starters_wte": 1, "bank_wte": 3, "agency_wte": 1}
    doctors = line(
        "DOCTOR",
        establishment_wte=0,
        staff_in_post_wte=0,
        starters_wte=0,
        leavers_wte=0,
        bank_wte=1,
        agency_wte=0,
    )
    put(
        rhm,
        "RHM",
        "2024-03",
        [line("NURSE", **march, staff_in_post_wte=92, leavers_wte=2), doctors],
    )
    put(
        rhm,
        "RHM",
        "2024-03",
        [line("NURSE", **march, staff_in_post_wte=93, leavers_wte=3), doctors],
        amendment_reason="late leavers",
    )
    put(
        rhu,
        "RHU",
        "2024-01",
        [
            line(
                establishment_wte=50,
                staff_in_post_wte=40,
                starters_wte=1,
                leavers_wte=2,
                bank_wte=5,
                agency_wte=3,
            )
        ],
    )
    put(
        rhu,
        "RHU",
        "2024-03",
        [
            line(
                establishment_wte=50,
                staff_in_post_wte=41,
                starters_wte=1,
                leavers_wte=1,
                bank_wte=5,
                agency_wte=2,
            )
        ],
    )


def item(items: list[dict[str, Any]], code: str, group: str | None = None) -> dict[str, Any]:
    return next(i for i in items if i["code"] == code and i["staff_group"] == group)


def test_system_measures_by_hand(
    client: TestClient, reader_headers: dict[str, str], returns: None
) -> None:
    body = client.get("/v1/metrics?level=system&period=2024-03", headers=reader_headers).json()
    system = item(body["items"], "HIOW")
    assert system["staff_in_post_wte"] == 134  # 93 (the amended March) + 0 + 41
    assert system["establishment_wte"] == 150  # 100 + 0 + 50
    assert system["vacancy_wte"] == 16  # 7 + 0 + 9
    assert system["vacancy_rate"] == 0.1067  # 16 / 150
    # Leavers over the window 5 (RHM 1+1+3) + 3 (RHU 2+1) = 8 over 355 staff-months
    # present (274 + 81): 12·8/355; RHU's February is missing, so it is annualised.
    assert system["turnover_rate_12m"] == 0.2704
    assert system["turnover_annualised"] is True
    assert system["missing_periods"] == ["2024-02"]
    assert (system["organisations_covered"], system["organisations_expected"]) == (2, 2)
    assert (system["starters_wte"], system["leavers_wte"]) == (2, 4)
    assert (system["bank_wte"], system["agency_wte"]) == (9, 3)
    assert system["temporary_staffing_share"] == 0.0822  # 12 / (134 + 12)
    assert system["temporary_staffing_spend_gbp"] is None  # none reported in March
    assert system["nursing_capacity_wte"] == 145  # (93 + 3 + 1) + (41 + 5 + 2)
    assert system["synthetic"] is False

    nurses = item(body["items"], "HIOW", "NURSE")
    assert nurses["bank_wte"] == 8
    assert nurses["temporary_staffing_share"] == 0.0759  # 11 / 145


def test_places_organisations_and_a_group_with_no_posts(
    client: TestClient, reader_headers: dict[str, str], returns: None
) -> None:
    places = client.get("/v1/metrics?level=place&period=2024-03", headers=reader_headers).json()
    southampton = item(places["items"], "Southampton")
    assert southampton["vacancy_rate"] == 0.07
    assert southampton["turnover_rate_12m"] == 0.219  # 12·5/274
    assert southampton["missing_periods"] == []
    portsmouth = item(places["items"], "Portsmouth")
    assert portsmouth["missing_periods"] == ["2024-02"]
    assert portsmouth["turnover_rate_12m"] == 0.4444  # 12·3/81
    # Places without a return say so, with null figures rather than zeros.
    assert {i["code"] for i in places["items"]} == set(reference.PLACES)
    for place in set(reference.PLACES) - {"Southampton", "Portsmouth"}:
        nothing = [i for i in places["items"] if i["code"] == place]
        assert len(nothing) == 1
        assert nothing[0]["staff_group"] is None
        assert nothing[0]["staff_in_post_wte"] is None
        assert nothing[0]["nursing_capacity_wte"] is None
        assert nothing[0]["organisations_covered"] == 0
        assert nothing[0]["complete"] is False
        assert nothing[0]["coverage_note"] == f"no organisation of {place} returned for 2024-03"

    one = client.get(
        "/v1/metrics?level=place&code=Portsmouth&period=2024-03", headers=reader_headers
    ).json()["items"]
    assert {i["code"] for i in one} == {"Portsmouth"}
    organisations = client.get(
        "/v1/metrics?level=organisation&period=2024-03&staff_group=DOCTOR",
        headers=reader_headers,
    ).json()["items"]
    doctors = item(organisations, "RHM", "DOCTOR")
    assert doctors["vacancy_rate"] is None  # no establishment: no rate, not an error
    assert doctors["turnover_rate_12m"] is None
    assert doctors["temporary_staffing_share"] == 1.0
    assert doctors["nursing_capacity_wte"] == 0
    assert [i["code"] for i in organisations] == ["RHM"]


def test_series_month_by_month_as_json_and_csv(
    client: TestClient, reader_headers: dict[str, str], returns: None
) -> None:
    url = "/v1/metrics/series?level=system&code=HIOW&from=2024-01&to=2024-03"
    items = client.get(url, headers=reader_headers).json()["items"]
    assert [i["period"] for i in items] == ["2024-01", "2024-02", "2024-03"]
    january, february, march = items
    assert january["vacancy_rate"] == 0.1333  # 20 / 150
    assert january["turnover_rate_12m"] == 0.2769  # 12·3/130
    assert january["temporary_staffing_spend_gbp"] == 1800
    assert february["organisations_covered"] == 1
    assert february["missing_periods"] == ["2024-02"]
    assert february["staff_in_post_wte"] == 91  # RHU's missing month is not counted as 0...
    assert february["turnover_rate_12m"] == 0.2172  # ...nor in the rate: 12·4/221
    assert march["turnover_rate_12m"] == 0.2704  # as in the single-month query

    response = client.get(url + "&format=csv", headers=reader_headers)
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["period"] for r in rows] == ["2024-01", "2024-02", "2024-03"]
    assert rows[1]["missing_periods"] == "2024-02"


def test_a_bound_token_sees_only_its_organisation(
    client: TestClient, writer_headers: Headers, returns: None
) -> None:
    rhm = writer_headers("RHM")
    own = client.get("/v1/metrics?level=organisation&period=2024-03", headers=rhm).json()
    assert {i["code"] for i in own["items"]} == {"RHM"}
    assert client.get("/v1/metrics?level=system", headers=rhm).status_code == 403
    assert client.get("/v1/metrics?level=place", headers=rhm).status_code == 403
    other = "/v1/metrics/series?level=organisation&code=RHU&from=2024-01&to=2024-03"
    assert client.get(other, headers=rhm).status_code == 403
    assert client.get("/v1/targets/status?level=system", headers=rhm).status_code == 403


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/v1/metrics?level=galaxy", 422),
        ("/v1/metrics?period=2024-13", 422),
        ("/v1/metrics/series?level=place&code=Dorset&from=2024-01&to=2024-03", 404),
        ("/v1/metrics/series?from=2024-03&to=2024-01", 422),
        ("/v1/metrics/series?from=2000-01&to=2024-01", 422),
        ("/v1/metrics/series?from=0000-01&to=0000-02", 422),
        ("/v1/metrics?period=1999-12", 422),
        ("/v1/metrics?staff_group=PORTERS", 422),
    ],
)
def test_bad_requests(
    client: TestClient, reader_headers: dict[str, str], returns: None, url: str, status: int
) -> None:
    assert client.get(url, headers=reader_headers).status_code == status
