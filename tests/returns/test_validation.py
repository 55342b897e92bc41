"""The ways a return is refused, each naming the bad field."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.periods import add_months
from tests.conftest import line

URL = "/v1/organisations/RHM/returns/2024-04"
Headers = Callable[[str], dict[str, str]]


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == status
    return body


@pytest.mark.parametrize(
    ("lines", "pointer"),
    [
        ([line(establishment_wte=-1)], "/lines/0/establishment_wte"),
        ([line(staff_in_post_wte="abc")], "/lines/0/staff_in_post_wte"),
        ([line(bank_wte=1.234)], "/lines/0/bank_wte"),
        ([line(vacancy_wte=1300)], "/lines/0/vacancy_wte"),
        ([line("PORTERS")], "/lines/0/staff_group"),
        ([line(), line("DOCTOR"), line("NURSE")], "/lines/2/staff_group"),
        ([{k: v for k, v in line().items() if k != "leavers_wte"}], "/lines/0/leavers_wte"),
        ([line(sickness_absence_rate=1.5)], "/lines/0/sickness_absence_rate"),
        ([line(unknown_field=1)], "/lines/0/unknown_field"),
        ([], "/lines"),
    ],
)
def test_bad_lines_are_422_naming_the_field(
    client: TestClient, writer_headers: Headers, lines: list[dict[str, Any]], pointer: str
) -> None:
    response = client.put(URL, json={"lines": lines}, headers=writer_headers("RHM"))
    body = assert_problem(response, 422)
    assert pointer in [e["pointer"] for e in body["errors"]], body["errors"]


def test_every_bad_field_is_reported_at_once(client: TestClient, writer_headers: Headers) -> None:
    lines = [line(establishment_wte=-1, bank_wte="x"), line("PORTERS")]
    body = assert_problem(
        client.put(URL, json={"lines": lines}, headers=writer_headers("RHM")), 422
    )
    pointers = {e["pointer"] for e in body["errors"]}
    assert {"/lines/0/establishment_wte", "/lines/0/bank_wte"} <= pointers


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
    assert client.get(URL, headers=writer_headers("RHM")).status_code == 404


@pytest.mark.parametrize("period", ["2024-13", "2024-1", "abcd", "1999-12"])
def test_malformed_periods_are_422(
    client: TestClient, writer_headers: Headers, period: str
) -> None:
    response = client.put(
        f"/v1/organisations/RHM/returns/{period}",
        json={"lines": [line()]},
        headers=writer_headers("RHM"),
    )
    body = assert_problem(response, 422)
    assert body["errors"][0]["pointer"] == "/period"


def test_only_a_month_that_has_ended_is_accepted(
    app: FastAPI, client: TestClient, writer_headers: Headers
) -> None:
    app.state.clock = lambda: date(2026, 12, 1)
    for period in ("2027-01", "2026-12"):  # later, and the month that has barely begun
        response = client.put(
            f"/v1/organisations/RHM/returns/{period}",
            json={"lines": [line()]},
            headers=writer_headers("RHM"),
        )
        body = assert_problem(response, 422)
        assert body["errors"][0]["pointer"] == "/period"
        sendable = add_months(period, 1) + "-01"
        assert body["detail"].startswith(
            f"{period} has not ended yet: its return can be sent from {sendable}; "
            "the latest month that can be sent now is 2026-11"
        )
    # The refusal does not wait for a valid body, nor hides the body's own problems.
    both = client.put(
        "/v1/organisations/RHM/returns/2026-12",
        json={"lines": [line(leavers_wte=-1)]},
        headers=writer_headers("RHM"),
    )
    pointers = [e["pointer"] for e in assert_problem(both, 422)["errors"]]
    assert pointers == ["/period", "/lines/0/leavers_wte"]
    last_month = client.put(
        "/v1/organisations/RHM/returns/2026-11",
        json={"lines": [line()]},
        headers=writer_headers("RHM"),
    )
    assert last_month.status_code == 201
    # The same month, a day later by the clock, is refused no more.
    app.state.clock = lambda: date(2027, 1, 1)
    assert (
        client.put(
            "/v1/organisations/RHM/returns/2026-12",
            json={"lines": [line()]},
            headers=writer_headers("RHM"),
        ).status_code
        == 201
    )


def test_unknown_organisation_is_404(client: TestClient, admin_headers: dict[str, str]) -> None:
    assert_problem(
        client.put(
            "/v1/organisations/XXX/returns/2024-04", json={"lines": [line()]}, headers=admin_headers
        ),
        404,
    )


def test_invalid_json_is_400(client: TestClient, writer_headers: Headers) -> None:
    response = client.put(
        URL,
        content=b'{"lines": [',
        headers={**writer_headers("RHM"), "Content-Type": "application/json"},
    )
    assert_problem(response, 400)


def test_a_body_over_the_limit_is_413(client: TestClient, writer_headers: Headers) -> None:
    big = {"source": "x" * 100, "lines": [line()], "padding": "x" * 1_100_000}
    response = client.put(URL, json=big, headers=writer_headers("RHM"))
    assert_problem(response, 413)
    assert client.get(URL, headers=writer_headers("RHM")).status_code == 404
