"""Reference data: staff groups and organisations."""

from __future__ import annotations

from fastapi.testclient import TestClient

from seed import reference


def test_staff_groups_are_the_contracts(client: TestClient, reader_headers: dict[str, str]) -> None:
    groups = client.get("/v1/staff-groups", headers=reader_headers).json()
    assert {g["code"] for g in groups} == {
        "NURSE",
        "MIDWIFE",
        "DOCTOR",
        "STT",
        "SUPPORT",
        "AMBULANCE",
        "INFRA",
        "SOCIAL_CARE",
        "PRIMARY_CARE",
    }
    assert {g["code"] for g in groups if g["counts_as_nursing"]} == {"NURSE", "MIDWIFE"}


def test_the_hiow_organisations(client: TestClient, reader_headers: dict[str, str]) -> None:
    organisations = client.get("/v1/organisations", headers=reader_headers).json()
    assert len(organisations) == len(reference.ORGANISATIONS) == 14
    by_code = {o["code"]: o for o in organisations}
    assert by_code["RHM"]["place"] == "Southampton"
    assert by_code["R1F"]["place"] == "Isle of Wight"
    assert by_code["E10000014"]["kind"] == "social_care"
    island = client.get("/v1/organisations?place=Isle of Wight", headers=reader_headers).json()
    assert {o["code"] for o in island} == {"R1F", "E06000046", "GP-IOW"}
    assert client.get("/v1/organisations/NOPE", headers=reader_headers).status_code == 404


def test_admins_add_and_change_organisations(
    client: TestClient, admin_headers: dict[str, str], reader_headers: dict[str, str]
) -> None:
    new = {"code": "RXX", "name": "A new trust", "kind": "acute", "place": "Hampshire"}
    assert client.post("/v1/organisations", json=new, headers=reader_headers).status_code == 403
    created = client.post("/v1/organisations", json=new, headers=admin_headers)
    assert created.status_code == 201
    assert client.post("/v1/organisations", json=new, headers=admin_headers).status_code == 409
    bad = client.post(
        "/v1/organisations", json={**new, "code": "RYY", "kind": "zoo"}, headers=admin_headers
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["pointer"] == "/kind"
    patched = client.patch("/v1/organisations/RXX", json={"name": "Renamed"}, headers=admin_headers)
    assert patched.status_code == 200
    assert patched.json()["name"] == "Renamed"
    assert client.get("/v1/organisations/RXX", headers=reader_headers).json()["kind"] == "acute"
