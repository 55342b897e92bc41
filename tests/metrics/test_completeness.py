"""Complete months: measures and ratings speak for the latest month every expected
organisation returned; a later month is partial, and a unit without a return says so."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import line

Headers = Callable[[str], dict[str, str]]
SOUTHAMPTON_COUNCIL = "E06000045"


def send(client: TestClient, headers: Headers, org: str, period: str, **figures: Any) -> None:
    lines = [line("NURSE", **figures), line("DOCTOR")]
    response = client.put(
        f"/v1/organisations/{org}/returns/{period}", json={"lines": lines}, headers=headers(org)
    )
    assert response.status_code == 201, response.text


@pytest.fixture
def partial(client: TestClient, writer_headers: Headers) -> None:
    """Three organisations return January to March 2024; only RHM returns April."""
    for period in ("2024-01", "2024-02", "2024-03"):
        for org in ("RHM", "RHU", "R1F"):
            send(client, writer_headers, org, period)
    send(client, writer_headers, "RHM", "2024-04", staff_in_post_wte=1100)


def system(items: list[dict[str, Any]]) -> dict[str, Any]:
    return next(i for i in items if i["code"] == "HIOW" and i["staff_group"] is None)


def test_the_default_month_is_the_latest_complete_one(
    client: TestClient, reader_headers: dict[str, str], partial: None
) -> None:
    page = client.get("/v1/metrics", headers=reader_headers).json()
    assert page["period"] == page["latest_complete_period"] == "2024-03"
    assert page["complete"] is True
    assert (page["organisations_covered"], page["organisations_expected"]) == (3, 3)
    assert page["latest_partial_period"] == "2024-04"
    assert page["latest_partial"] == {
        "period": "2024-04",
        "organisations_covered": 1,
        "organisations_expected": 3,
    }
    whole = system(page["items"])
    assert whole["period"] == "2024-03"
    assert whole["complete"] is True
    assert whole["coverage_note"] is None
    assert whole["staff_in_post_wte"] == 3 * (1050 + 1050)

    # Asked for, the partial month is given, and says it is partial.
    april = client.get("/v1/metrics?period=2024-04", headers=reader_headers).json()
    assert (april["period"], april["complete"]) == ("2024-04", False)
    item = system(april["items"])
    assert (item["organisations_covered"], item["organisations_expected"]) == (1, 3)
    assert item["complete"] is False
    assert item["coverage_note"] == "partial: 1 of 3 organisations returned for 2024-04"


def test_an_organisation_without_a_return_has_nulls_and_a_reason(
    client: TestClient, reader_headers: dict[str, str], partial: None
) -> None:
    items = client.get(
        "/v1/metrics?level=organisation&period=2024-04", headers=reader_headers
    ).json()["items"]
    rhu = [i for i in items if i["code"] == "RHU"]
    assert [i["staff_group"] for i in rhu] == [None, "DOCTOR", "NURSE"]
    for item in rhu:
        assert item["staff_in_post_wte"] is None
        assert item["nursing_capacity_wte"] is None
        assert item["vacancy_rate"] is None
        assert item["coverage_note"] == "RHU sent no return for 2024-04"
        assert (item["organisations_covered"], item["organisations_expected"]) == (0, 1)
        assert item["turnover_rate_12m"] is not None  # over the window, from months present
    rhm = next(i for i in items if i["code"] == "RHM" and i["staff_group"] is None)
    assert rhm["complete"] is True
    assert rhm["staff_in_post_wte"] == 1100 + 1050

    series = client.get(
        "/v1/metrics/series?level=organisation&code=RHU&from=2024-02&to=2024-05",
        headers=reader_headers,
    ).json()["items"]
    assert [i["staff_in_post_wte"] for i in series] == [2100, 2100, None, None]
    assert [i["coverage_note"] for i in series][2:] == [
        "RHU sent no return for 2024-04",
        "RHU sent no return for 2024-05",
    ]


def test_the_system_series_marks_the_partial_month(
    client: TestClient, reader_headers: dict[str, str], partial: None
) -> None:
    page = client.get("/v1/metrics/series?from=2024-02&to=2024-05", headers=reader_headers).json()
    assert page["latest_complete_period"] == "2024-03"
    assert page["latest_partial_period"] == "2024-04"
    assert [i["complete"] for i in page["items"]] == [True, True, False, False]
    assert [i["organisations_covered"] for i in page["items"]] == [3, 3, 1, 0]
    assert page["items"][3]["nursing_capacity_wte"] is None  # nobody returned: not zero


def test_targets_are_rated_on_the_complete_month(
    client: TestClient, reader_headers: dict[str, str], partial: None, writer_headers: Headers
) -> None:
    status = client.get("/v1/targets/status?level=organisation", headers=reader_headers).json()
    assert status["period"] == "2024-03"
    assert status["latest_partial_period"] == "2024-04"
    assert status["latest_partial"]["organisations_covered"] == 1
    assert {i["latest_period"] for i in status["items"]} == {"2024-03"}
    rated = {(i["target"], i["code"]): i for i in status["items"]}
    assert rated["nursing_capacity_growth", "RHU"]["rag"] in ("green", "amber", "red")

    # Once every expected organisation has returned, April is the month rated.
    for org in ("RHU", "R1F"):
        send(client, writer_headers, org, "2024-04")
    after = client.get("/v1/targets/status", headers=reader_headers).json()
    assert after["period"] == "2024-04"
    assert after["latest_partial_period"] is None
    metrics = client.get("/v1/metrics", headers=reader_headers).json()
    assert (metrics["period"], metrics["complete"]) == ("2024-04", True)


def test_an_organisation_silent_for_twelve_months_is_no_longer_expected(
    client: TestClient, reader_headers: dict[str, str], writer_headers: Headers
) -> None:
    send(client, writer_headers, "R1F", "2023-01")
    for period in ("2023-12", "2024-01"):
        send(client, writer_headers, "RHM", period)

    def month(period: str) -> dict[str, Any]:
        page = client.get(f"/v1/metrics?period={period}", headers=reader_headers).json()
        return {k: page[k] for k in ("complete", "organisations_covered", "organisations_expected")}

    # 2023-12: R1F returned within the 12 months ending there, so it is expected.
    assert month("2023-12") == {
        "complete": False,
        "organisations_covered": 1,
        "organisations_expected": 2,
    }
    # 2024-01: its last return is 12 months back; it has stopped, not gone missing.
    assert month("2024-01") == {
        "complete": True,
        "organisations_covered": 1,
        "organisations_expected": 1,
    }
    assert client.get("/v1/metrics", headers=reader_headers).json()["period"] == "2024-01"


def test_a_unit_without_nursing_posts_is_not_applicable_on_nursing(
    client: TestClient, reader_headers: dict[str, str], writer_headers: Headers
) -> None:
    for period in ("2019-04", "2020-04"):
        send(client, writer_headers, "RHM", period)
        council = client.put(
            f"/v1/organisations/{SOUTHAMPTON_COUNCIL}/returns/{period}",
            json={"lines": [line("SOCIAL_CARE", staff_in_post_wte=900, establishment_wte=950)]},
            headers=writer_headers(SOUTHAMPTON_COUNCIL),
        )
        assert council.status_code == 201, council.text
    status = client.get("/v1/targets/status?level=organisation", headers=reader_headers).json()
    rated = {(i["target"], i["code"]): i for i in status["items"]}
    nursing = rated["nursing_capacity_growth", SOUTHAMPTON_COUNCIL]
    assert nursing["rag"] == "not_applicable"
    assert nursing["note"] == (
        f"{SOUTHAMPTON_COUNCIL} has no establishment in the nursing groups in 2020-04"
    )
    assert nursing["required"] is None
    assert rated["turnover_rate", SOUTHAMPTON_COUNCIL]["rag"] in ("green", "amber", "red")
    assert rated["nursing_capacity_growth", "RHM"]["rag"] in ("green", "amber", "red")
    # The place has nurses (RHM's): its nursing target applies.
    places = client.get("/v1/targets/status?level=place", headers=reader_headers).json()
    southampton = next(
        i
        for i in places["items"]
        if i["code"] == "Southampton" and i["target"] == "nursing_capacity_growth"
    )
    assert southampton["rag"] in ("green", "amber", "red")


def test_the_complete_month_is_found_however_far_back(
    client: TestClient, reader_headers: dict[str, str], partial: None, writer_headers: Headers
) -> None:
    for period in ("2024-05", "2024-06", "2025-01", "2025-02"):
        send(client, writer_headers, "RHM", period)
    page = client.get("/v1/metrics", headers=reader_headers).json()
    # RHU and R1F last returned 2024-03, so are expected until 2025-02, and every month
    # from 2024-04 on is partial: the system speaks for 2024-03.
    assert page["period"] == "2024-03"
    assert page["latest_partial"] == {
        "period": "2025-02",
        "organisations_covered": 1,
        "organisations_expected": 3,
    }
    send(client, writer_headers, "RHM", "2025-03")  # a year after the others' last return
    assert client.get("/v1/metrics", headers=reader_headers).json()["period"] == "2025-03"
