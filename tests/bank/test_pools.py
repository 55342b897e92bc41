"""Bank pools through HTTP: seeded, read by readers, edited by admins only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from seed import reference
from seed.pools import bank_use_by_place_and_group, hiow_pools

POOL: dict[str, Any] = {
    "code": "SOT-THEATRES",
    "name": "Southampton theatre nursing bank",
    "home_place": "Southampton",
    "covers": ["NURSE"],
    "cost_per_wte_month": 4650.5,
    "capacity_wte": 40,
    "monthly_growth_rate": 0.004,
}


def test_seeded_pools_cover_each_place_and_kind(
    client: TestClient, reader_headers: dict[str, str]
) -> None:
    response = client.get("/v1/bank/pools", headers=reader_headers)
    assert response.status_code == 200
    pools = {p["code"]: p for p in response.json()}
    assert len(pools) == len(reference.PLACES) * len(reference.POOL_KINDS) == 16
    nursing = pools["IOW-NURSING"]
    assert nursing["home_place"] == "Isle of Wight"
    assert nursing["covers"] == ["MIDWIFE", "NURSE"]
    assert nursing["capacity_by_period"] == {}


def test_seeded_capacity_is_last_years_bank_use_plus_the_initial_increase() -> None:
    """The demo's shared bank starts 30% above last year's bank use."""
    until = "2024-03"
    use = bank_use_by_place_and_group(until)
    pools = {p.code: p for p in hiow_pools(until)}
    expected = (use["Southampton", "NURSE"] + use["Southampton", "MIDWIFE"]) * 130 / 100
    assert float(pools["SOT-NURSING"].capacity_wte) == pytest.approx(float(expected), abs=0.01)


def test_admin_creates_reads_updates_and_sets_capacity(
    client: TestClient, admin_headers: dict[str, str], reader_headers: dict[str, str]
) -> None:
    created = client.post("/v1/bank/pools", json=POOL, headers=admin_headers)
    assert created.status_code == 201, created.text
    assert created.json()["cost_per_wte_month"] == 4650.5

    assert client.post("/v1/bank/pools", json=POOL, headers=admin_headers).status_code == 409

    patched = client.patch(
        "/v1/bank/pools/SOT-THEATRES",
        json={"covers": ["NURSE", "MIDWIFE"], "capacity_wte": 45.5},
        headers=admin_headers,
    )
    assert patched.status_code == 200
    assert patched.json()["covers"] == ["MIDWIFE", "NURSE"]
    assert patched.json()["capacity_wte"] == 45.5
    assert patched.json()["name"] == POOL["name"]

    capacity = client.put(
        "/v1/bank/pools/SOT-THEATRES/capacity",
        json={"2025-02": 50, "2025-01": 48.25},
        headers=admin_headers,
    )
    assert capacity.status_code == 200
    assert capacity.json()["capacity_by_period"] == {"2025-01": 48.25, "2025-02": 50}

    read = client.get("/v1/bank/pools/SOT-THEATRES", headers=reader_headers)
    assert read.json() == capacity.json()


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"home_place": "Dorset"}, "/home_place"),
        ({"covers": ["NURSE", "PORTERS"]}, "/covers/1"),
        ({"covers": ["NURSE", "NURSE"]}, "/covers/1"),
        ({"cost_per_wte_month": -1}, "/cost_per_wte_month"),
        ({"capacity_wte": 1.234}, "/capacity_wte"),
        ({"code": "has space"}, "/code"),
        ({"monthly_growth_rate": 2}, "/monthly_growth_rate"),
    ],
)
def test_bad_pools_are_refused_naming_the_field(
    client: TestClient, admin_headers: dict[str, str], change: dict[str, Any], pointer: str
) -> None:
    response = client.post("/v1/bank/pools", json={**POOL, **change}, headers=admin_headers)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert pointer in [e["pointer"] for e in response.json()["errors"]]


def test_bad_capacity_months_are_refused(client: TestClient, admin_headers: dict[str, str]) -> None:
    response = client.put(
        "/v1/bank/pools/HAM-NURSING/capacity", json={"2025-13": 5}, headers=admin_headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/2025-13"
    missing = client.put("/v1/bank/pools/NOPE/capacity", json={}, headers=admin_headers)
    assert missing.status_code == 404


def test_only_admins_edit_and_only_readers_read(
    client: TestClient,
    reader_headers: dict[str, str],
    writer_headers: Callable[[str], dict[str, str]],
) -> None:
    assert client.get("/v1/bank/pools").status_code == 401
    assert client.get("/v1/bank/pools", headers=writer_headers("RHM")).status_code == 403
    assert client.post("/v1/bank/pools", json=POOL, headers=reader_headers).status_code == 403
    assert (
        client.patch(
            "/v1/bank/pools/HAM-NURSING", json={"capacity_wte": 1}, headers=reader_headers
        ).status_code
        == 403
    )
    assert client.get("/v1/bank/pools/NOPE", headers=reader_headers).status_code == 404
