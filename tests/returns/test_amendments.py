"""Amendments never lose staff groups silently; accepted returns carry warnings for what is
legal but unusual."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.conftest import line

URL = "/v1/organisations/RHM/returns/2024-04"
CSV_HEADER = (
    "staff_group,establishment_wte,staff_in_post_wte,starters_wte,leavers_wte,bank_wte,agency_wte"
)
Headers = Callable[[str], dict[str, str]]


def first_revision(client: TestClient, headers: dict[str, str]) -> None:
    groups = ("NURSE", "DOCTOR", "SUPPORT")
    response = client.put(URL, json={"lines": [line(g) for g in groups]}, headers=headers)
    assert response.status_code == 201, response.text


def test_an_amendment_leaving_out_staff_groups_is_refused_naming_them(
    client: TestClient, writer_headers: Headers
) -> None:
    headers = writer_headers("RHM")
    first_revision(client, headers)
    refused = client.put(
        URL,
        json={"amendment_reason": "late leavers", "lines": [line("NURSE", leavers_wte=14)]},
        headers=headers,
    )
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    body = refused.json()
    assert [e["pointer"] for e in body["errors"]] == ["/lines"]
    assert "DOCTOR, SUPPORT" in body["errors"][0]["message"]
    assert "replace_all" in body["detail"]
    # Nothing was stored: revision 1 still has its three groups.
    kept = client.get(URL, headers=headers).json()
    assert kept["revision"] == 1
    assert [x["staff_group"] for x in kept["lines"]] == ["DOCTOR", "NURSE", "SUPPORT"]

    # As CSV, the same.
    csv_body = f"{CSV_HEADER}\nNURSE,1200.5,1050,12.5,14,60.25,20\n"
    csv_headers = {**headers, "Content-Type": "text/csv"}
    refused_csv = client.put(
        f"{URL}?amendment_reason=late+leavers", content=csv_body, headers=csv_headers
    )
    assert refused_csv.status_code == 422
    assert "DOCTOR, SUPPORT" in refused_csv.json()["errors"][0]["message"]


def test_a_missing_reason_and_dropped_groups_are_reported_together(
    client: TestClient, writer_headers: Headers
) -> None:
    headers = writer_headers("RHM")
    first_revision(client, headers)
    refused = client.put(URL, json={"lines": [line("NURSE", leavers_wte=14)]}, headers=headers)
    assert [e["pointer"] for e in refused.json()["errors"]] == ["/amendment_reason", "/lines"]


def test_replace_all_replaces_the_whole_return(client: TestClient, writer_headers: Headers) -> None:
    headers = writer_headers("RHM")
    first_revision(client, headers)
    replaced = client.put(
        URL,
        json={
            "amendment_reason": "DOCTOR and SUPPORT were sent in error",
            "replace_all": True,
            "lines": [line("NURSE", leavers_wte=14), line("DOCTOR")],
        },
        headers=headers,
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["revision"] == 2
    assert [x["staff_group"] for x in replaced.json()["lines"]] == ["DOCTOR", "NURSE"]

    csv_headers = {**headers, "Content-Type": "text/csv", "If-Match": '"r2"'}
    csv_body = f"{CSV_HEADER}\nNURSE,1200.5,1050,12.5,15,60.25,20\n"
    refused = client.put(
        f"{URL}?amendment_reason=more+leavers", content=csv_body, headers=csv_headers
    )
    assert refused.status_code == 422
    assert "DOCTOR" in refused.json()["errors"][0]["message"]
    accepted = client.put(
        f"{URL}?amendment_reason=more+leavers&replace_all=true",
        content=csv_body,
        headers=csv_headers,
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["revision"] == 3
    assert [x["staff_group"] for x in accepted.json()["lines"]] == ["NURSE"]


def test_adding_a_staff_group_needs_no_flag(client: TestClient, writer_headers: Headers) -> None:
    headers = writer_headers("RHM")
    first_revision(client, headers)
    groups = ("NURSE", "DOCTOR", "SUPPORT", "MIDWIFE")
    added = client.put(
        URL,
        json={"amendment_reason": "midwives were missed", "lines": [line(g) for g in groups]},
        headers=headers,
    )
    assert added.status_code == 200, added.text


def test_staff_in_post_above_establishment_is_kept_and_flagged(
    client: TestClient, writer_headers: Headers, reader_headers: dict[str, str]
) -> None:
    response = client.put(
        URL,
        json={
            "lines": [
                line("NURSE", establishment_wte=100, staff_in_post_wte=900, leavers_wte=2),
                line("DOCTOR", establishment_wte=50, staff_in_post_wte=40, leavers_wte=1),
            ]
        },
        headers=writer_headers("RHM"),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["warnings"] == [
        {
            "code": "over_establishment",
            "pointer": "/lines/0/staff_in_post_wte",
            "message": "NURSE: staff in post 900 is above establishment 100 by 800 WTE; kept "
            "as over-establishment, with a vacancy of 0",
        }
    ]
    nurse = next(x for x in body["lines"] if x["staff_group"] == "NURSE")
    assert (nurse["staff_in_post_wte"], nurse["vacancy_wte"]) == (900, 0)

    metrics = client.get(
        "/v1/metrics?level=organisation&code=RHM&period=2024-04", headers=reader_headers
    ).json()["items"]
    by_group = {i["staff_group"]: i for i in metrics}
    assert by_group["NURSE"]["vacancy_wte"] == 0
    assert by_group["NURSE"]["over_establishment_wte"] == 800
    assert by_group["DOCTOR"]["over_establishment_wte"] == 0
    # All groups: DOCTOR's 10 vacant posts are not netted against NURSE's 800 over.
    assert by_group[None]["vacancy_wte"] == 10
    assert by_group[None]["over_establishment_wte"] == 800


def test_month_on_month_change_and_many_leavers_are_flagged(
    client: TestClient, writer_headers: Headers
) -> None:
    headers = writer_headers("RHM")
    march = [
        line("NURSE", staff_in_post_wte=1000),
        line("DOCTOR", staff_in_post_wte=200, leavers_wte=1),
    ]
    assert (
        client.put(
            "/v1/organisations/RHM/returns/2024-03", json={"lines": march}, headers=headers
        ).json()["warnings"]
        == []
    )
    april = [
        # 10% exactly is not "more than 10%"; 230 on 200 is +15%; 60 leavers of 1100 is 5.5%.
        line("NURSE", staff_in_post_wte=1100, leavers_wte=60),
        line("DOCTOR", staff_in_post_wte=230, leavers_wte=1),
        line("SUPPORT", staff_in_post_wte=10, leavers_wte=0.5),  # 5% exactly: no warning
    ]
    response = client.put(URL, json={"lines": april}, headers=headers)
    assert response.status_code == 201
    warnings = [(w["code"], w["pointer"]) for w in response.json()["warnings"]]
    assert warnings == [
        ("high_leavers", "/lines/0/leavers_wte"),
        ("staff_in_post_change", "/lines/1/staff_in_post_wte"),
    ]
    assert "+15.0%" in response.json()["warnings"][1]["message"]
    # An identical resend stores nothing and answers the same warnings.
    again = client.put(URL, json={"lines": april}, headers=headers)
    assert again.status_code == 201
    assert [(w["code"], w["pointer"]) for w in again.json()["warnings"]] == warnings
