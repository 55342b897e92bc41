"""Hostile input answers 4xx naming what is wrong, never 500: control characters in any
text, integers past the database's, deeply nested JSON, malformed bodies, wrong methods."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.conftest import line

Headers = Callable[[str], dict[str, str]]
PROBLEM = "application/problem+json"


def assert_refused(response: object, status: int, pointer: str | None = None) -> dict[str, object]:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"].startswith(PROBLEM)  # type: ignore[attr-defined]
    body: dict[str, object] = response.json()  # type: ignore[attr-defined]
    if pointer is not None:
        pointers = [error["pointer"] for error in body["errors"]]  # type: ignore[attr-defined]
        assert pointer in pointers, body
    return body


@pytest.mark.parametrize(
    ("url", "pointer"),
    [
        ("/v1/organisations?place=a%00b", "/query/place"),
        ("/v1/organisations?place=a%1Bb", "/query/place"),
        ("/v1/organisations/RH%00M", "/path/code"),
        ("/v1/returns?organisation=RHM%00", "/query/organisation"),
        ("/v1/returns?staff_group=%C2%85", "/query/staff_group"),
        ("/v1/metrics?level=organisation&code=R%00HM", "/query/code"),
        ("/v1/metrics/series?from=2024-01&to=2024-02&level=place&code=%00", "/query/code"),
        ("/v1/organisations/RHM/returns/2024-0%00/revisions", "/path/period"),
        ("/v1/plans/a%00b", "/path/plan_id"),
        ("/v1/bank/pools/%7F", "/path/code"),
    ],
)
def test_control_characters_in_parameters_are_422_naming_them(
    client: TestClient, reader_headers: dict[str, str], url: str, pointer: str
) -> None:
    body = assert_refused(client.get(url, headers=reader_headers), 422, pointer)
    assert "control characters" in str(body["errors"])


@pytest.mark.parametrize(
    ("payload", "pointer"),
    [
        ({"source": "ESR\u0000", "lines": [line()]}, "/source"),
        ({"amendment_reason": "late\u0007", "lines": [line()]}, "/amendment_reason"),
        ({"lines": [line(staff_group="NUR\u0000SE")]}, "/lines/0/staff_group"),
        ({"lines": [line()], "x\u0000": 1}, "/x\u0000"),
    ],
)
def test_control_characters_in_json_are_422_naming_the_field(
    client: TestClient, writer_headers: Headers, payload: dict[str, object], pointer: str
) -> None:
    response = client.put(
        "/v1/organisations/RHM/returns/2024-03", json=payload, headers=writer_headers("RHM")
    )
    assert_refused(response, 422, pointer)
    assert client.get("/v1/returns", headers=writer_headers("RHM")).json()["total"] == 0


def test_control_characters_in_csv_cells_are_422_naming_the_cell(
    client: TestClient, writer_headers: Headers
) -> None:
    csv = (
        "staff_group,establishment_wte,staff_in_post_wte,starters_wte,leavers_wte,bank_wte,"
        "agency_wte\nNURSE\x00,100,90,1,1,5,2\n"
    )
    response = client.put(
        "/v1/organisations/RHM/returns/2024-03",
        content=csv.encode(),
        headers={**writer_headers("RHM"), "Content-Type": "text/csv"},
    )
    body = assert_refused(response, 422, "/lines/0/staff_group")
    assert "CSV row 2" in str(body["errors"])


def test_control_characters_in_admin_bodies_are_422(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    organisation = {"code": "TST", "name": "Te\u0000st", "kind": "acute", "place": "Southampton"}
    response = client.post("/v1/organisations", json=organisation, headers=admin_headers)
    assert_refused(response, 422, "/name")
    token = {"name": "feed\u0000", "scopes": ["read"]}
    assert_refused(client.post("/v1/tokens", json=token, headers=admin_headers), 422, "/name")


def test_tab_and_line_breaks_are_text(client: TestClient, writer_headers: Headers) -> None:
    response = client.put(
        "/v1/organisations/RHM/returns/2024-03",
        json={"source": "ESR\textract", "lines": [line()]},
        headers=writer_headers("RHM"),
    )
    assert response.status_code == 201, response.text
    amended = client.put(
        "/v1/organisations/RHM/returns/2024-03",
        json={"amendment_reason": "late leavers\r\nfrom ward 4", "lines": [line(leavers_wte=12)]},
        headers=writer_headers("RHM"),
    )
    assert amended.status_code == 200, amended.text
    assert amended.json()["amendment_reason"] == "late leavers\r\nfrom ward 4"


@pytest.mark.parametrize(
    "url",
    [
        "/v1/returns?offset=9223372036854775808",
        "/v1/returns?offset=2147483648",
        "/v1/plans?offset=9223372036854775808",
        "/v1/organisations/RHM/returns/2024-03/revisions/2147483648",
        "/v1/organisations/RHM/returns/2024-03/revisions/99999999999999999999",
    ],
)
def test_integers_past_the_database_are_422(
    client: TestClient, admin_headers: dict[str, str], url: str
) -> None:
    assert_refused(client.get(url, headers=admin_headers), 422)


def test_the_largest_offset_is_an_empty_page(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    for url in ("/v1/returns?offset=2147483647", "/v1/plans?offset=2147483647"):
        response = client.get(url, headers=admin_headers)
        assert response.status_code == 200, response.text
        assert response.json()["items"] == []


NESTED = b"[" * 1000 + b"]" * 1000  # 2 kB


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("PUT", "/v1/organisations/RHM/returns/2024-03"),
        ("POST", "/v1/plans"),
        ("POST", "/v1/organisations"),
        ("POST", "/v1/tokens"),
    ],
)
@pytest.mark.parametrize("who", ["none", "reader", "writer"])
def test_deeply_nested_json_is_400_before_anything_parses_it(
    client: TestClient,
    reader_headers: dict[str, str],
    writer_headers: Headers,
    method: str,
    url: str,
    who: str,
) -> None:
    headers = {"none": {}, "reader": reader_headers, "writer": writer_headers("RHM")}[who]
    started = time.perf_counter()
    response = client.request(
        method, url, content=NESTED, headers={**headers, "Content-Type": "application/json"}
    )
    elapsed = time.perf_counter() - started
    body = assert_refused(response, 400)
    assert "nests" in str(body["detail"])
    assert elapsed < 1.0


def test_nesting_inside_strings_does_not_count(client: TestClient, writer_headers: Headers) -> None:
    payload = {"source": "[{" * 90, "lines": [line()]}
    response = client.put(
        "/v1/organisations/RHM/returns/2024-03", json=payload, headers=writer_headers("RHM")
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("PUT", "/v1/organisations/RHM/returns/2024-03"),
        ("POST", "/v1/organisations"),
        ("PATCH", "/v1/organisations/RHM"),
        ("POST", "/v1/tokens"),
        ("POST", "/v1/plans"),
    ],
)
def test_a_malformed_body_is_400(
    client: TestClient, admin_headers: dict[str, str], method: str, url: str
) -> None:
    response = client.request(
        method, url, content=b"{\x00", headers={**admin_headers, "Content-Type": "application/json"}
    )
    assert_refused(response, 400)


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("/v1/organisations", {"GET", "POST"}),
        ("/v1/organisations/RHM", {"GET", "PATCH"}),
        ("/v1/bank/pools", {"GET", "POST"}),
        ("/v1/bank/pools/X", {"GET", "PATCH"}),
        ("/v1/tokens", {"GET", "POST"}),
        ("/v1/organisations/RHM/returns/2024-03", {"GET", "PUT"}),
        ("/v1/plans", {"GET", "POST"}),
    ],
)
def test_a_405_allows_every_method_of_the_path(
    client: TestClient, url: str, allowed: set[str]
) -> None:
    response = client.request("OPTIONS", url)
    assert_refused(response, 405)
    assert set(response.headers["allow"].split(", ")) == allowed


@pytest.mark.parametrize(
    ("method", "url", "allowed"),
    [
        ("PUT", "/v1/targets/status", "GET"),
        ("DELETE", "/v1/plans/sweeps", "GET, POST"),
    ],
)
def test_a_named_resource_is_not_taken_for_an_id(
    client: TestClient, admin_headers: dict[str, str], method: str, url: str, allowed: str
) -> None:
    """``/v1/targets/status`` is the targets' status, not a target called "status"."""
    response = client.request(method, url, headers=admin_headers)
    assert_refused(response, 405)
    assert response.headers["allow"] == allowed
