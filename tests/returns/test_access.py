"""Who may write and read which returns; listing, filters, pages and CSV export."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.conftest import bearer, line

Headers = Callable[[str], dict[str, str]]


def put(client: TestClient, headers: dict[str, str], org: str, period: str) -> None:
    response = client.put(
        f"/v1/organisations/{org}/returns/{period}",
        json={"lines": [line(), line("DOCTOR")]},
        headers=headers,
    )
    assert response.status_code == 201, response.text


def test_no_token_or_a_bad_token_is_401(client: TestClient) -> None:
    response = client.get("/v1/returns")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].lower().startswith("bearer")
    assert client.get("/v1/returns", headers=bearer("wf_nope")).status_code == 401


def test_a_revoked_token_is_401(
    client: TestClient, admin_headers: dict[str, str], writer_headers: Headers
) -> None:
    created = client.post(
        "/v1/tokens",
        json={"name": "feed", "scopes": ["returns:write"], "organisation": "RHM"},
        headers=admin_headers,
    ).json()
    headers = bearer(created["token"])
    put(client, headers, "RHM", "2024-04")
    assert client.delete(f"/v1/tokens/{created['id']}", headers=admin_headers).status_code in (
        200,
        204,
    )
    response = client.put(
        "/v1/organisations/RHM/returns/2024-05", json={"lines": [line()]}, headers=headers
    )
    assert response.status_code == 401


def test_a_token_writes_for_its_own_organisation_only(
    client: TestClient, writer_headers: Headers, reader_headers: dict[str, str]
) -> None:
    body = {"lines": [line()]}
    other = client.put(
        "/v1/organisations/RHU/returns/2024-04", json=body, headers=writer_headers("RHM")
    )
    assert other.status_code == 403
    read_only = client.put(
        "/v1/organisations/RHU/returns/2024-04", json=body, headers=reader_headers
    )
    assert read_only.status_code == 403


def test_a_bound_token_reads_only_its_organisation(
    client: TestClient, writer_headers: Headers, reader_headers: dict[str, str]
) -> None:
    rhm, rhu = writer_headers("RHM"), writer_headers("RHU")
    put(client, rhm, "RHM", "2024-04")
    put(client, rhu, "RHU", "2024-04")

    assert client.get("/v1/organisations/RHM/returns/2024-04", headers=rhm).status_code == 200
    assert client.get("/v1/organisations/RHU/returns/2024-04", headers=rhm).status_code == 403
    assert (
        client.get("/v1/organisations/RHU/returns/2024-04/revisions", headers=rhm).status_code
        == 403
    )
    listed = client.get("/v1/returns", headers=rhm).json()
    assert {item["organisation"] for item in listed["items"]} == {"RHM"}
    assert client.get("/v1/returns?organisation=RHU", headers=rhm).status_code == 403
    exported = client.get("/v1/returns?format=csv", headers=rhm).text
    assert "RHU" not in exported

    everyone = client.get("/v1/returns", headers=reader_headers).json()
    assert {item["organisation"] for item in everyone["items"]} == {"RHM", "RHU"}


def test_listing_filters_and_pages(
    client: TestClient, writer_headers: Headers, reader_headers: dict[str, str]
) -> None:
    rhm = writer_headers("RHM")
    for period in ("2024-01", "2024-02", "2024-03", "2024-04"):
        put(client, rhm, "RHM", period)
    put(client, writer_headers("RN5"), "RN5", "2024-02")

    page = client.get("/v1/returns?limit=2", headers=reader_headers).json()
    assert page["total"] == 5
    assert len(page["items"]) == 2
    assert page["next"] is not None
    rest = client.get(page["next"], headers=reader_headers).json()
    assert [i["period"] for i in rest["items"]] == ["2024-03", "2024-04"]

    window = client.get(
        "/v1/returns?organisation=RHM&from=2024-02&to=2024-03", headers=reader_headers
    ).json()
    assert [i["period"] for i in window["items"]] == ["2024-02", "2024-03"]
    assert window["next"] is None

    doctors = client.get("/v1/returns?staff_group=DOCTOR&limit=1", headers=reader_headers).json()
    assert [x["staff_group"] for x in doctors["items"][0]["lines"]] == ["DOCTOR"]

    assert client.get("/v1/returns?from=2024-13", headers=reader_headers).status_code == 422


def test_csv_export_has_one_row_per_line(
    client: TestClient, writer_headers: Headers, reader_headers: dict[str, str]
) -> None:
    put(client, writer_headers("RHM"), "RHM", "2024-04")
    response = client.get("/v1/returns?format=csv", headers=reader_headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["organisation"], r["period"], r["staff_group"]) for r in rows] == [
        ("RHM", "2024-04", "DOCTOR"),
        ("RHM", "2024-04", "NURSE"),
    ]
    assert rows[1]["establishment_wte"] == "1200.50"
    assert rows[1]["synthetic"] == "false"
