"""Submitting, amending and reading returns through HTTP, as JSON and as CSV."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import TokenFactory, bearer, line

URL = "/v1/organisations/RHM/returns/2024-04"
CSV_HEADER = (
    "staff_group,establishment_wte,staff_in_post_wte,starters_wte,leavers_wte,bank_wte,agency_wte"
)
# line() and line("DOCTOR") as CSV rows, in CSV_HEADER's order.
NURSE_ROW = "NURSE,1200.5,1050,12.5,11,60.25,20"
DOCTOR_ROW = "DOCTOR,1200.5,1050,12.5,11,60.25,20"

Headers = Callable[[str], dict[str, str]]


def csv_headers(headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "Content-Type": "text/csv"}


def json_headers(headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "Content-Type": "application/json"}


def revision_count(client: TestClient, headers: dict[str, str], url: str = URL) -> int:
    response = client.get(f"{url}/revisions", headers=headers)
    assert response.status_code == 200, response.text
    return len(response.json())


def raw_line(figures: str) -> str:
    """A one-line return as JSON text, so that the numbers are spelt exactly as given."""
    return (
        '{"lines": [{"staff_group": "NURSE", "establishment_wte": 1200.5, '
        f'"starters_wte": 12.5, "leavers_wte": 11, "bank_wte": 60.25, {figures}}}]}}'
    )


def test_first_submission_is_revision_one(client: TestClient, writer_headers: Headers) -> None:
    headers = writer_headers("RHM")
    response = client.put(
        URL, json={"source": "ESR", "lines": [line(), line("DOCTOR")]}, headers=headers
    )
    assert response.status_code == 201
    assert response.headers["etag"] == '"r1"'
    assert response.headers["location"] == URL
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["organisation"] == "RHM"
    assert body["period"] == "2024-04"
    assert body["revision"] == body["latest_revision"] == 1
    assert body["source"] == "ESR"
    assert body["amendment_reason"] is None
    assert body["synthetic"] is False
    assert body["submitted_by"].startswith("RHM (")
    assert body["submitted_at"]
    # Lines come back sorted by staff group, every field present, as JSON numbers.
    assert [x["staff_group"] for x in body["lines"]] == ["DOCTOR", "NURSE"]
    assert body["lines"][1] == {
        "staff_group": "NURSE",
        "establishment_wte": 1200.5,
        "staff_in_post_wte": 1050,
        "vacancy_wte": 150.5,
        "starters_wte": 12.5,
        "leavers_wte": 11,
        "bank_wte": 60.25,
        "agency_wte": 20,
        "bank_spend_gbp": None,
        "agency_spend_gbp": None,
        "sickness_absence_rate": None,
    }

    read = client.get(URL, headers=headers)
    assert read.status_code == 200
    assert read.headers["etag"] == '"r1"'
    assert read.json() == body


def test_optional_fields_are_kept(client: TestClient, writer_headers: Headers) -> None:
    optional = {
        "vacancy_wte": 100,
        "bank_spend_gbp": 250000.5,
        "agency_spend_gbp": 99999.99,
        "sickness_absence_rate": 0.0475,
    }
    response = client.put(URL, json={"lines": [line(**optional)]}, headers=writer_headers("RHM"))
    assert response.status_code == 201, response.text
    stored = response.json()["lines"][0]
    assert {key: stored[key] for key in optional} == optional


def test_source_defaults_to_the_tokens_name(client: TestClient, make_token: TokenFactory) -> None:
    headers = bearer(make_token("returns:write", organisation="RHM", name="UHS ESR feed"))
    body = client.put(URL, json={"lines": [line()]}, headers=headers).json()
    assert body["source"] == "UHS ESR feed"
    assert body["submitted_by"].startswith("UHS ESR feed (")


@pytest.mark.parametrize(
    ("establishment", "staff_in_post", "vacancy"),
    [(1200.5, 1050, 150.5), (100, 105, 0), (100, 100, 0), (0, 0, 0), (10.25, 0.1, 10.15)],
)
def test_vacancy_defaults_to_the_unfilled_establishment(
    client: TestClient,
    writer_headers: Headers,
    establishment: float,
    staff_in_post: float,
    vacancy: float,
) -> None:
    response = client.put(
        URL,
        json={"lines": [line(establishment_wte=establishment, staff_in_post_wte=staff_in_post)]},
        headers=writer_headers("RHM"),
    )
    assert response.status_code == 201, response.text
    assert response.json()["lines"][0]["vacancy_wte"] == vacancy


def test_a_reported_vacancy_is_kept(client: TestClient, writer_headers: Headers) -> None:
    # Posts being recruited to can differ from establishment minus staff in post.
    response = client.put(
        URL, json={"lines": [line(vacancy_wte=80)]}, headers=writer_headers("RHM")
    )
    assert response.json()["lines"][0]["vacancy_wte"] == 80


def test_identical_resend_answers_as_before(client: TestClient, writer_headers: Headers) -> None:
    headers = writer_headers("RHM")
    first = client.put(URL, json={"source": "ESR", "lines": [line()]}, headers=headers)
    again = client.put(URL, json={"source": "ESR", "lines": [line()]}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["etag"] == '"r1"'
    assert again.json() == first.json()
    assert revision_count(client, headers) == 1


def test_identical_resend_with_a_reason_is_no_amendment(
    client: TestClient, writer_headers: Headers
) -> None:
    headers = writer_headers("RHM")
    first = client.put(URL, json={"lines": [line()]}, headers=headers)
    again = client.put(
        URL, json={"amendment_reason": "just in case", "lines": [line()]}, headers=headers
    )
    assert again.status_code == 201
    assert again.json() == first.json()
    assert revision_count(client, headers) == 1


@pytest.mark.parametrize(
    "spelling",
    [
        '"staff_in_post_wte": 1050.00, "agency_wte": 20.0',
        '"staff_in_post_wte": "1050.00", "agency_wte": "20"',
        '"staff_in_post_wte": 1.05e3, "agency_wte": 2E1',
    ],
    ids=["trailing-zeros", "strings", "exponents"],
)
def test_numbers_spelt_differently_are_the_same_content(
    client: TestClient, writer_headers: Headers, spelling: str
) -> None:
    headers = writer_headers("RHM")
    first = client.put(
        URL,
        content=raw_line('"staff_in_post_wte": 1050, "agency_wte": 20'),
        headers=json_headers(headers),
    )
    assert first.status_code == 201, first.text
    again = client.put(URL, content=raw_line(spelling), headers=json_headers(headers))
    assert again.status_code == 201, again.text
    assert again.json() == first.json()
    assert revision_count(client, headers) == 1


def test_the_order_of_lines_does_not_matter(client: TestClient, writer_headers: Headers) -> None:
    headers = writer_headers("RHM")
    client.put(URL, json={"lines": [line(), line("DOCTOR")]}, headers=headers)
    again = client.put(URL, json={"lines": [line("DOCTOR"), line()]}, headers=headers)
    assert again.status_code == 201
    assert revision_count(client, headers) == 1


@pytest.mark.parametrize("reason", [None, "", "   "], ids=["absent", "empty", "blank"])
def test_an_amendment_needs_a_reason(
    client: TestClient, writer_headers: Headers, reason: str | None
) -> None:
    headers = writer_headers("RHM")
    client.put(URL, json={"lines": [line()]}, headers=headers)
    body: dict[str, Any] = {"lines": [line(leavers_wte=14)]}
    if reason is not None:
        body["amendment_reason"] = reason
    refused = client.put(URL, json=body, headers=headers)
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert [e["pointer"] for e in refused.json()["errors"]] == ["/amendment_reason"]
    assert revision_count(client, headers) == 1
    assert client.get(URL, headers=headers).json()["lines"][0]["leavers_wte"] == 11


def test_an_amendment_is_the_next_revision_and_keeps_the_earlier(
    client: TestClient, make_token: TokenFactory
) -> None:
    esr = bearer(make_token("returns:write", organisation="RHM", name="ESR feed"))
    analyst = bearer(make_token("returns:write", organisation="RHM", name="Workforce analyst"))
    first = client.put(URL, json={"source": "ESR", "lines": [line()]}, headers=esr)
    assert first.status_code == 201

    amended = client.put(
        URL,
        json={"amendment_reason": "late leavers", "lines": [line(leavers_wte=14)]},
        headers=analyst,
    )
    assert amended.status_code == 200
    assert "location" not in amended.headers
    assert amended.headers["etag"] == '"r2"'
    body = amended.json()
    assert body["revision"] == body["latest_revision"] == 2
    assert body["amendment_reason"] == "late leavers"
    assert body["submitted_by"].startswith("Workforce analyst (")

    revisions = client.get(f"{URL}/revisions", headers=esr).json()
    assert [
        (r["revision"], r["amendment_reason"], r["submitted_by"].split(" (")[0]) for r in revisions
    ] == [(1, None, "ESR feed"), (2, "late leavers", "Workforce analyst")]
    assert all(r["latest_revision"] == 2 for r in revisions)

    original = client.get(f"{URL}/revisions/1", headers=esr)
    assert original.status_code == 200
    assert original.json()["lines"] == first.json()["lines"]
    assert original.json()["lines"][0]["leavers_wte"] == 11
    assert original.json()["latest_revision"] == 2

    latest = client.get(URL, headers=esr)
    assert latest.headers["etag"] == '"r2"'
    assert latest.json()["lines"][0]["leavers_wte"] == 14
    assert client.get(f"{URL}/revisions/2", headers=esr).json() == latest.json()

    # The amended content sent again changes nothing and answers as the amendment did.
    again = client.put(
        URL,
        json={"amendment_reason": "late leavers", "lines": [line(leavers_wte=14)]},
        headers=analyst,
    )
    assert again.status_code == 200
    assert again.json() == body
    assert revision_count(client, esr) == 2

    missing = client.get(f"{URL}/revisions/3", headers=esr)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


def test_going_back_to_earlier_content_is_a_new_revision(
    client: TestClient, writer_headers: Headers
) -> None:
    headers = writer_headers("RHM")
    client.put(URL, json={"lines": [line()]}, headers=headers)
    client.put(URL, json={"amendment_reason": "a", "lines": [line(bank_wte=1)]}, headers=headers)
    back = client.put(URL, json={"amendment_reason": "undo", "lines": [line()]}, headers=headers)
    assert back.status_code == 200
    assert back.json()["revision"] == 3


def test_reading_a_missing_return_is_404(client: TestClient, writer_headers: Headers) -> None:
    headers = writer_headers("RHM")
    for url in (URL, f"{URL}/revisions", f"{URL}/revisions/1"):
        response = client.get(url, headers=headers)
        assert response.status_code == 404, url
        assert response.headers["content-type"].startswith("application/problem+json")


# --- CSV ---------------------------------------------------------------------------------


def test_csv_body_is_the_same_return_as_json(client: TestClient, writer_headers: Headers) -> None:
    headers = writer_headers("RHM")
    response = client.put(
        f"{URL}?source=ESR+extract",
        content=f"{CSV_HEADER}\n{NURSE_ROW}\n{DOCTOR_ROW}\n",
        headers=csv_headers(headers),
    )
    assert response.status_code == 201, response.text
    assert response.headers["etag"] == '"r1"'
    assert response.headers["location"] == URL
    body = response.json()
    assert body["source"] == "ESR extract"

    # The same lines as JSON are an identical resend: the same answer, no new revision.
    as_json = client.put(
        URL, json={"source": "ESR extract", "lines": [line(), line("DOCTOR")]}, headers=headers
    )
    assert as_json.status_code == 201
    assert as_json.json() == body
    assert revision_count(client, headers) == 1


def test_csv_amendment_takes_its_reason_from_the_query(
    client: TestClient, writer_headers: Headers
) -> None:
    headers = writer_headers("RHM")
    client.put(URL, content=f"{CSV_HEADER}\n{NURSE_ROW}\n", headers=csv_headers(headers))
    changed = f"{CSV_HEADER}\nNURSE,1200.5,1051,12.5,11,60.25,20\n"

    refused = client.put(URL, content=changed, headers=csv_headers(headers))
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["pointer"] == "/amendment_reason"

    amended = client.put(
        f"{URL}?amendment_reason=typo+in+staff+in+post",
        content=changed,
        headers={**headers, "Content-Type": "text/csv; charset=utf-8"},
    )
    assert amended.status_code == 200
    assert amended.json()["revision"] == 2
    assert amended.json()["amendment_reason"] == "typo in staff in post"
    assert amended.json()["lines"][0]["staff_in_post_wte"] == 1051


def test_csv_columns_in_any_order_with_optional_cells_blank(
    client: TestClient, writer_headers: Headers
) -> None:
    text = (
        "\ufeffagency_wte,staff_group,vacancy_wte,bank_wte,leavers_wte,starters_wte,"
        "staff_in_post_wte,establishment_wte,sickness_absence_rate\r\n"
        "20,NURSE,,60.25,11,12.5,1050,1200.5,0.05\r\n"
        "1,DOCTOR,3,2,0,0,40,45,\r\n"
        "\r\n"
    )
    response = client.put(URL, content=text.encode(), headers=csv_headers(writer_headers("RHM")))
    assert response.status_code == 201, response.text
    doctor, nurse = response.json()["lines"]
    assert nurse["vacancy_wte"] == 150.5  # blank: the default
    assert nurse["sickness_absence_rate"] == 0.05
    assert doctor["vacancy_wte"] == 3
    assert doctor["sickness_absence_rate"] is None


@pytest.mark.parametrize(
    ("row", "pointer"),
    [
        ("DOCTOR,abc,10,1,1,1,1", "/lines/1/establishment_wte"),
        ("DOCTOR,45,-1,1,1,1,1", "/lines/1/staff_in_post_wte"),
        ("DOCTOR,45,40,1.234,1,1,1", "/lines/1/starters_wte"),
        ("DOCTOR,45,40,1,1,1,", "/lines/1/agency_wte"),
    ],
    ids=["not-a-number", "negative", "three-decimals", "blank-required"],
)
def test_a_bad_csv_cell_names_its_row_and_column(
    client: TestClient, writer_headers: Headers, row: str, pointer: str
) -> None:
    response = client.put(
        URL,
        content=f"{CSV_HEADER}\n{NURSE_ROW}\n{row}\n",
        headers=csv_headers(writer_headers("RHM")),
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    errors = response.json()["errors"]
    assert [e["pointer"] for e in errors] == [pointer]
    assert errors[0]["message"].startswith("CSV row 3: ")  # the header is row 1


def test_a_csv_row_of_the_wrong_length_is_422(client: TestClient, writer_headers: Headers) -> None:
    response = client.put(
        URL,
        content=f"{CSV_HEADER}\n{NURSE_ROW}\nDOCTOR,1,2\n",
        headers=csv_headers(writer_headers("RHM")),
    )
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["pointer"] == "/lines/1"
    assert "CSV row 3" in error["message"]


@pytest.mark.parametrize(
    ("text", "pointers"),
    [
        ("group,wte\nNURSE,1\n", {"/header/group", "/header/wte", "/header/establishment_wte"}),
        (f"{CSV_HEADER.replace(',bank_wte', '')}\n", {"/header/bank_wte"}),
        (f"{CSV_HEADER},staff_group\n", {"/header"}),
        # No header: the first line is read as one, and its cells are not column names.
        (f"{NURSE_ROW}\n", {"/header/NURSE", "/header/staff_group"}),
    ],
    ids=["foreign", "missing-column", "repeated-column", "no-header"],
)
def test_a_csv_header_that_is_not_ours_is_422(
    client: TestClient, writer_headers: Headers, text: str, pointers: set[str]
) -> None:
    response = client.put(URL, content=text, headers=csv_headers(writer_headers("RHM")))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert pointers <= {e["pointer"] for e in response.json()["errors"]}


@pytest.mark.parametrize("text", ["", "\n\n", f"{CSV_HEADER}\n"], ids=["empty", "blank", "header"])
def test_a_csv_without_lines_is_422(client: TestClient, writer_headers: Headers, text: str) -> None:
    response = client.put(URL, content=text, headers=csv_headers(writer_headers("RHM")))
    assert response.status_code == 422, response.text
    assert "/lines" in [e["pointer"] for e in response.json()["errors"]]


@pytest.mark.parametrize(
    "content",
    [
        b"\xff\xfe\x00bad",
        f'{CSV_HEADER}\nNURSE,"1200"5,1050,12.5,11,60.25,20\n'.encode(),
        f'{CSV_HEADER}\nNURSE,"1200.5,1050,12.5,11,60.25,20\n'.encode(),
    ],
    ids=["not-utf8", "stray-quote", "unclosed-quote"],
)
def test_unparseable_csv_is_400(
    client: TestClient, writer_headers: Headers, content: bytes
) -> None:
    headers = writer_headers("RHM")
    response = client.put(URL, content=content, headers=csv_headers(headers))
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 400
    assert client.get(URL, headers=headers).status_code == 404


@pytest.mark.parametrize(
    "content_type", ["text/xml", "application/x-www-form-urlencoded", "text/plain"]
)
def test_other_media_types_are_415(
    client: TestClient, writer_headers: Headers, content_type: str
) -> None:
    response = client.put(
        URL, content="<return/>", headers={**writer_headers("RHM"), "Content-Type": content_type}
    )
    assert response.status_code == 415
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 415
