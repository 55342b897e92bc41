"""The ways a return is refused: each as problem+json naming the bad field, nothing stored."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from app.periods import add_months, current_period, is_period
from tests.conftest import line

URL = "/v1/organisations/RHM/returns/2024-04"
REQUIRED = (
    "staff_group",
    "establishment_wte",
    "staff_in_post_wte",
    "starters_wte",
    "leavers_wte",
    "bank_wte",
    "agency_wte",
)
Headers = Callable[[str], dict[str, str]]


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == status
    assert all(isinstance(body[key], str) and body[key] for key in ("type", "title", "detail"))
    return body


def pointers(body: dict[str, Any]) -> list[str]:
    errors = body.get("errors")
    assert isinstance(errors, list), body
    assert errors, body
    for error in errors:
        assert {"pointer", "field", "message"} <= error.keys()
    return [error["pointer"] for error in errors]


@pytest.fixture
def nothing_stored(client: TestClient, writer_headers: Headers) -> Iterator[None]:
    """After the test, RHM has no return for 2024-04."""
    yield
    assert client.get(URL, headers=writer_headers("RHM")).status_code == 404


def without(field: str) -> dict[str, Any]:
    return {key: value for key, value in line().items() if key != field}


BAD_LINES: dict[str, tuple[list[dict[str, Any]], str]] = {
    "negative": ([line(establishment_wte=-1)], "/lines/0/establishment_wte"),
    "negative-hundredth": ([line(leavers_wte=-0.01)], "/lines/0/leavers_wte"),
    "not-a-number": ([line(establishment_wte="abc")], "/lines/0/establishment_wte"),
    "not-a-number-2": ([line(staff_in_post_wte="abc")], "/lines/0/staff_in_post_wte"),
    "boolean": ([line(agency_wte=True)], "/lines/0/agency_wte"),
    "null": ([line(agency_wte=None)], "/lines/0/agency_wte"),
    "three-decimals": ([line(establishment_wte=1.234)], "/lines/0/establishment_wte"),
    "three-decimals-string": ([line(bank_wte="60.255")], "/lines/0/bank_wte"),
    "vacancy-above-establishment": ([line(vacancy_wte=1300)], "/lines/0/vacancy_wte"),
    "negative-spend": ([line(bank_spend_gbp=-5)], "/lines/0/bank_spend_gbp"),
    "rate-above-one": ([line(sickness_absence_rate=1.5)], "/lines/0/sickness_absence_rate"),
    "unknown-staff-group": ([line("PORTERS")], "/lines/0/staff_group"),
    "lower-case-staff-group": ([line("nurse")], "/lines/0/staff_group"),
    "repeated-staff-group": ([line(), line("DOCTOR"), line("NURSE")], "/lines/2/staff_group"),
    "unknown-field": ([line(unknown_field=1)], "/lines/0/unknown_field"),
    "no-lines": ([], "/lines"),
    "too-many-lines": ([line(f"G{i}") for i in range(101)], "/lines"),
    **{f"missing-{field}": ([without(field)], f"/lines/0/{field}") for field in REQUIRED},
}


@pytest.mark.usefixtures("nothing_stored")
@pytest.mark.parametrize(("lines", "pointer"), BAD_LINES.values(), ids=BAD_LINES.keys())
def test_bad_lines_are_422_naming_the_field(
    client: TestClient, writer_headers: Headers, lines: list[dict[str, Any]], pointer: str
) -> None:
    response = client.put(URL, json={"lines": lines}, headers=writer_headers("RHM"))
    assert pointer in pointers(assert_problem(response, 422))


@pytest.mark.usefixtures("nothing_stored")
@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({}, "/lines"),
        ({"lines": [line()], "extra": 1}, "/extra"),
        ({"lines": "NURSE"}, "/lines"),
        ({"lines": [line()], "source": "x" * 201}, "/source"),
        ([line()], ""),
        ("lines", ""),
    ],
    ids=["empty-object", "unknown-field", "lines-not-a-list", "long-source", "array", "string"],
)
def test_a_body_of_the_wrong_shape_is_422(
    client: TestClient, writer_headers: Headers, body: Any, pointer: str
) -> None:
    response = client.put(URL, json=body, headers=writer_headers("RHM"))
    assert pointer in pointers(assert_problem(response, 422))


@pytest.mark.usefixtures("nothing_stored")
def test_every_bad_field_is_reported_at_once(client: TestClient, writer_headers: Headers) -> None:
    lines = [line(establishment_wte=-1, bank_wte="x"), line(leavers_wte=None)]
    body = assert_problem(
        client.put(URL, json={"lines": lines}, headers=writer_headers("RHM")), 422
    )
    assert set(pointers(body)) == {
        "/lines/0/establishment_wte",
        "/lines/0/bank_wte",
        "/lines/1/leavers_wte",
    }
    assert "lines[0].establishment_wte" in {error["field"] for error in body["errors"]}


@pytest.mark.usefixtures("nothing_stored")
def test_content_problems_are_reported_together(
    client: TestClient, writer_headers: Headers
) -> None:
    lines = [line("PORTERS"), line(vacancy_wte=5000), line("NURSE")]
    body = assert_problem(
        client.put(URL, json={"lines": lines}, headers=writer_headers("RHM")), 422
    )
    assert set(pointers(body)) == {
        "/lines/0/staff_group",
        "/lines/1/vacancy_wte",
        "/lines/2/staff_group",
    }


@pytest.mark.usefixtures("nothing_stored")
@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_numbers_are_refused(
    client: TestClient, writer_headers: Headers, number: str
) -> None:
    content = (
        '{"lines": [{"staff_group": "NURSE", "establishment_wte": 10, "staff_in_post_wte": 9,'
        f' "starters_wte": 0, "leavers_wte": 0, "bank_wte": 0, "agency_wte": {number}}}]}}'
    )
    response = client.put(
        URL,
        content=content,
        headers={**writer_headers("RHM"), "Content-Type": "application/json"},
    )
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("period", ["2024-13", "2024-1", "abcd", "2024-00", "24-04", "1999-12"])
def test_bad_periods_are_422_naming_the_period(
    client: TestClient, writer_headers: Headers, period: str
) -> None:
    headers = writer_headers("RHM")
    url = f"/v1/organisations/RHM/returns/{period}"
    body = assert_problem(client.put(url, json={"lines": [line()]}, headers=headers), 422)
    assert pointers(body) == ["/period"]
    assert period in body["errors"][0]["message"]
    if not is_period(period):
        # Reading one is refused the same way (a month before 2000 is merely empty).
        assert pointers(assert_problem(client.get(url, headers=headers), 422)) == ["/period"]


def test_a_bad_period_is_reported_with_the_bodys_problems(
    client: TestClient, writer_headers: Headers
) -> None:
    response = client.put(
        "/v1/organisations/RHM/returns/2024-13",
        json={"lines": [line(bank_wte=-1)]},
        headers=writer_headers("RHM"),
    )
    assert set(pointers(assert_problem(response, 422))) == {"/period", "/lines/0/bank_wte"}


def test_a_period_after_the_current_month_is_refused(
    client: TestClient, writer_headers: Headers
) -> None:
    headers = writer_headers("RHM")
    for months_ahead in (1, 13):
        future = add_months(current_period(), months_ahead)
        response = client.put(
            f"/v1/organisations/RHM/returns/{future}", json={"lines": [line()]}, headers=headers
        )
        body = assert_problem(response, 422)
        assert pointers(body) == ["/period"]
        assert "after the current month" in body["errors"][0]["message"]
    this_month = client.put(
        f"/v1/organisations/RHM/returns/{current_period()}",
        json={"lines": [line()]},
        headers=headers,
    )
    assert this_month.status_code == 201


@pytest.mark.parametrize("method", ["PUT", "GET"])
def test_unknown_organisation_is_404(
    client: TestClient, writer_headers: Headers, admin_headers: dict[str, str], method: str
) -> None:
    for headers in (admin_headers, writer_headers("RHM")):
        response = client.request(
            method,
            "/v1/organisations/XXX/returns/2024-04",
            json={"lines": [line()]} if method == "PUT" else None,
            headers=headers,
        )
        assert "XXX" in assert_problem(response, 404)["detail"]


@pytest.mark.usefixtures("nothing_stored")
@pytest.mark.parametrize(
    "content",
    [b'{"lines": [', b"", b"lines=1", b'{"lines": []}}', b"\xff\xfe{}"],
    ids=["truncated", "empty", "form", "trailing", "not-utf8"],
)
def test_invalid_json_is_400(client: TestClient, writer_headers: Headers, content: bytes) -> None:
    response = client.put(
        URL, content=content, headers={**writer_headers("RHM"), "Content-Type": "application/json"}
    )
    assert_problem(response, 400)


@pytest.mark.usefixtures("nothing_stored")
def test_a_body_over_the_limit_is_413(client: TestClient, writer_headers: Headers) -> None:
    big = {"lines": [line()], "source": "x" * 1_100_000}
    response = client.put(URL, json=big, headers=writer_headers("RHM"))
    assert "1048576" in assert_problem(response, 413)["detail"]


@pytest.mark.usefixtures("nothing_stored")
def test_a_streamed_body_over_the_limit_is_413(client: TestClient, writer_headers: Headers) -> None:
    """Without a Content-Length the limit is counted as the body arrives."""

    def chunks() -> Iterator[bytes]:
        yield b'{"lines": [], "source": "'
        for _ in range(20):
            yield b"x" * 64_000
        yield b'"}'

    response = client.put(
        URL,
        content=chunks(),
        headers={**writer_headers("RHM"), "Content-Type": "application/json"},
    )
    assert "content-length" not in response.request.headers
    assert_problem(response, 413)


@pytest.mark.usefixtures("nothing_stored")
def test_a_csv_body_over_the_limit_is_413(client: TestClient, writer_headers: Headers) -> None:
    header = (
        "staff_group,establishment_wte,staff_in_post_wte,starters_wte,leavers_wte,bank_wte,"
        "agency_wte\n"
    )
    rows = "NURSE,1200.5,1050,12.5,11,60.25,20\n" * 40_000
    response = client.put(
        URL, content=header + rows, headers={**writer_headers("RHM"), "Content-Type": "text/csv"}
    )
    assert_problem(response, 413)
