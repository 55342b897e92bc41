"""Targets: seeded, editable by admins, and rated against the measures."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.metrics.test_metrics import returns  # noqa: F401 (the fixture)


def put(client: TestClient, headers: dict[str, str], code: str, **body: Any) -> Any:
    return client.put(f"/v1/targets/{code}", json=body, headers=headers)


def test_the_hiow_commitments_are_seeded(
    client: TestClient, reader_headers: dict[str, str]
) -> None:
    targets = {t["code"]: t for t in client.get("/v1/targets", headers=reader_headers).json()}
    assert targets["nursing_capacity_growth"]["value"] == 0.05
    assert targets["turnover_rate"]["value"] == 0.12
    assert targets["agency_reduction"]["value"] == 0.1
    assert targets["turnover_rate"]["direction"] == "decrease"
    assert targets["nursing_capacity_growth"]["baseline_period"] == "2019-03"


def test_admins_edit_targets(
    client: TestClient, admin_headers: dict[str, str], reader_headers: dict[str, str]
) -> None:
    body = {
        "name": "Turnover",
        "value": 0.11,
        "baseline_period": "2019-03",
        "target_period": "2026-03",
    }
    assert put(client, reader_headers, "turnover_rate", **body).status_code == 403
    changed = put(client, admin_headers, "turnover_rate", **body)
    assert changed.status_code == 200
    assert changed.json()["value"] == 0.11
    assert put(client, admin_headers, "happiness", **body).status_code == 422
    backwards = put(client, admin_headers, "turnover_rate", **{**body, "target_period": "2018-01"})
    assert backwards.status_code == 422
    assert put(client, admin_headers, "turnover_rate", **{**body, "value": 3}).status_code == 422
    negative = put(client, admin_headers, "turnover_rate", **{**body, "value": -0.5})
    assert negative.status_code == 422
    assert negative.json()["errors"][0]["pointer"] == "/value"


def test_status_rates_each_target_by_hand(
    client: TestClient,
    admin_headers: dict[str, str],
    reader_headers: dict[str, str],
    returns: None,  # noqa: F811
) -> None:
    window = {"baseline_period": "2024-01", "target_period": "2024-03"}
    put(client, admin_headers, "nursing_capacity_growth", name="n", value=0.05, **window)
    put(client, admin_headers, "turnover_rate", name="t", value=0.25, **window)
    put(client, admin_headers, "agency_reduction", name="a", value=0.10, **window)
    items = client.get("/v1/targets/status?level=system", headers=reader_headers).json()["items"]
    by_target = {i["target"]: i for i in items}

    # Nursing capacity 144 in January (96 + 48), 145 in March: 0.7% growth where the
    # trajectory needs the whole 5% by March (151.2): red.
    nursing = by_target["nursing_capacity_growth"]
    assert (nursing["baseline"], nursing["latest"], nursing["required"]) == (144, 145, 151.2)
    assert nursing["rag"] == "red"
    # Turnover 27.69% in January, 27.04% in March against 25%: within 10% of it, amber.
    turnover = by_target["turnover_rate"]
    assert (turnover["baseline"], turnover["latest"], turnover["required"]) == (
        0.2769,
        0.2704,
        0.25,
    )
    assert turnover["rag"] == "amber"
    # Agency 5 WTE in January, 3 in March, against 5·0.9 = 4.5: green.
    agency = by_target["agency_reduction"]
    assert (agency["baseline"], agency["latest"], agency["required"]) == (5, 3, 4.5)
    assert agency["rag"] == "green"

    places = client.get("/v1/targets/status?level=place", headers=reader_headers).json()["items"]
    assert {(i["target"], i["code"]) for i in places} >= {
        ("nursing_capacity_growth", "Southampton"),
        ("turnover_rate", "Portsmouth"),
    }
