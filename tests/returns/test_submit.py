"""Submitting, amending and reading returns through HTTP."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.conftest import line

URL = "/v1/organisations/RHM/returns/2024-04"
CSV_HEADER = (
    "staff_group,establishment_wte,staff_in_post_wte,starters_wte,leavers_wte,bank_wte,agency_wte"
)

Headers = Callable[[str], dict[str, str]]


def test_first_submission_is_revision_one(client: TestClient, writer_headers: Headers) -> None:
    headers = writer_headers("RHM")
    response = client.put(
        URL, json={"source": "ESR", "lines": [line(), line("DOCTOR")]}, headers=headers
    )
    assert response.status_code == 201
    assert response.headers["etag"] == '"r1"'
    assert response.headers["location"] == URL
    body = response.json()
    assert body["revision"] == body["latest_revision"] == 1
    assert body["source"] == "ESR"
    assert body["synthetic"] is False
    assert body["submitted_by"].startswith("RHM (")
    assert [x["staff_group"] for x in body["lines"]] == ["DOCTOR", "NURSE"]
    nurse = body["lines"][1]
    # vacancy defaults to max(0, establishment - staff in post) = 1200.5 - 1050
    assert nurse["vacancy_wte"] == 150.5
    assert nurse["bank_wte"] == 60.25

    read = client.get(URL, headers=headers)
    assert read.status_code == 200
    assert read.headers["etag"] == '"r1"'
    assert read.json() == {k: v for k, v in body.items() if k != "warnings"}
    assert body["warnings"] == []


def test_vacancy_is_never_negative_by_default(client: TestClient, writer_headers: Headers) -> None:
    response = client.put(
        URL,
        json={"lines": [line(establishment_wte=100, staff_in_post_wte=105)]},
        headers=writer_headers("RHM"),
    )
    assert response.json()["lines"][0]["vacancy_wte"] == 0


def test_identical_resend_changes_nothing(client: TestClient, writer_headers: Headers) -> None:
    headers = writer_headers("RHM")
    first = client.put(URL, json={"lines": [line()]}, headers=headers)
    # The same numbers spelt differently are the same content.
    again = client.put(
        URL, json={"lines": [line(staff_in_post_wte="1050.00", agency_wte=20.0)]}, headers=headers
    )
    assert again.status_code == 201
    assert again.json() == first.json()
    revisions = client.get(f"{URL}/revisions", headers=headers).json()
    assert len(revisions) == 1


def test_amendment_needs_a_reason_and_keeps_every_revision(
    client: TestClient, writer_headers: Headers
) -> None:
    headers = writer_headers("RHM")
    client.put(URL, json={"lines": [line()]}, headers=headers)

    refused = client.put(URL, json={"lines": [line(leavers_wte=14)]}, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["pointer"] == "/amendment_reason"

    amended = client.put(
        URL,
        json={"amendment_reason": "late leavers", "lines": [line(leavers_wte=14)]},
        headers=headers,
    )
    assert amended.status_code == 200
    assert amended.headers["etag"] == '"r2"'
    assert amended.json()["revision"] == 2

    revisions = client.get(f"{URL}/revisions", headers=headers).json()
    assert [(r["revision"], r["amendment_reason"]) for r in revisions] == [
        (1, None),
        (2, "late leavers"),
    ]
    first = client.get(f"{URL}/revisions/1", headers=headers).json()
    assert first["lines"][0]["leavers_wte"] == 11
    assert first["latest_revision"] == 2
    assert client.get(URL, headers=headers).json()["lines"][0]["leavers_wte"] == 14
    assert client.get(f"{URL}/revisions/3", headers=headers).status_code == 404


def test_csv_body_is_the_same_return_as_json(client: TestClient, writer_headers: Headers) -> None:
    headers = writer_headers("RHM")
    csv_body = f"{CSV_HEADER}\nNURSE,1200.5,1050,12.5,11,60.25,20\n"
    response = client.put(
        f"{URL}?source=ESR+extract",
        content=csv_body,
        headers={**headers, "Content-Type": "text/csv"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["source"] == "ESR extract"
    # The same content as JSON is an identical resend.
    again = client.put(URL, json={"source": "ESR extract", "lines": [line()]}, headers=headers)
    assert again.json()["revision"] == 1

    amended = client.put(
        f"{URL}?amendment_reason=typo",
        content=f"{CSV_HEADER}\nNURSE,1200.5,1051,12.5,11,60.25,20\n",
        headers={**headers, "Content-Type": "text/csv; charset=utf-8"},
    )
    assert amended.status_code == 200
    assert amended.json()["amendment_reason"] == "typo"


def test_bad_csv_cell_names_row_and_column(client: TestClient, writer_headers: Headers) -> None:
    response = client.put(
        URL,
        content=f"{CSV_HEADER}\nNURSE,1200.5,1050,12.5,11,60.25,20\nDOCTOR,abc,10,1,1,1,1\n",
        headers={**writer_headers("RHM"), "Content-Type": "text/csv"},
    )
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["pointer"] == "/lines/1/establishment_wte"
    assert "CSV row 3" in error["message"]


def test_csv_with_a_foreign_header_is_refused(client: TestClient, writer_headers: Headers) -> None:
    response = client.put(
        URL,
        content="group,wte\nNURSE,1\n",
        headers={**writer_headers("RHM"), "Content-Type": "text/csv"},
    )
    assert response.status_code == 422
    pointers = {e["pointer"] for e in response.json()["errors"]}
    assert "/header/group" in pointers
    assert "/header/establishment_wte" in pointers


def test_unparseable_csv_is_400(client: TestClient, writer_headers: Headers) -> None:
    response = client.put(
        URL,
        content=b"\xff\xfe\x00bad",
        headers={**writer_headers("RHM"), "Content-Type": "text/csv"},
    )
    assert response.status_code == 400


def test_other_media_types_are_415(client: TestClient, writer_headers: Headers) -> None:
    response = client.put(
        URL, content="<return/>", headers={**writer_headers("RHM"), "Content-Type": "text/xml"}
    )
    assert response.status_code == 415
    assert response.headers["content-type"].startswith("application/problem+json")
