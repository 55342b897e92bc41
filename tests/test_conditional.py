"""The measures carry an ETag that changes only when their data does; 304 to a match."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import bearer, line

Headers = Callable[[str], dict[str, str]]
MEASURES = (
    "/v1/metrics",
    "/v1/metrics?level=organisation&period=2024-04",
    "/v1/metrics/series?from=2024-03&to=2024-04&level=organisation&code=RHM",
    "/v1/targets/status",
)


def submit(
    client: TestClient,
    headers: dict[str, str],
    period: str,
    reason: str | None = None,
    **values: Any,
) -> None:
    body = {"lines": [line(**values)], "amendment_reason": reason}
    response = client.put(f"/v1/organisations/RHM/returns/{period}", json=body, headers=headers)
    assert response.status_code in (200, 201), response.text


@pytest.mark.parametrize("url", MEASURES)
def test_a_measure_is_not_sent_again_until_a_return_changes_it(
    client: TestClient, url: str, writer_headers: Headers, reader_headers: dict[str, str]
) -> None:
    hr = writer_headers("RHM")
    submit(client, hr, "2024-03")
    submit(client, hr, "2024-04")

    first = client.get(url, headers=reader_headers)
    assert first.status_code == 200, first.text
    tag = first.headers["etag"]
    assert first.headers["vary"] == "Authorization"
    again = client.get(url, headers=reader_headers)
    assert again.status_code == 200
    assert again.headers["etag"] == tag
    assert again.content == first.content

    unchanged = client.get(url, headers={**reader_headers, "If-None-Match": tag})
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert unchanged.headers["etag"] == tag

    submit(client, hr, "2024-04", "late leavers", leavers_wte=30)
    changed = client.get(url, headers={**reader_headers, "If-None-Match": tag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != tag


def test_the_figures_after_a_return_are_the_new_ones(
    client: TestClient, writer_headers: Headers, reader_headers: dict[str, str]
) -> None:
    hr = writer_headers("RHM")
    url = "/v1/metrics?level=organisation&code=RHM&period=2024-04&staff_group=NURSE"
    submit(client, hr, "2024-04", staff_in_post_wte=1000)
    before = client.get(url, headers=reader_headers).json()["items"][0]["staff_in_post_wte"]
    submit(client, hr, "2024-04", "recount", staff_in_post_wte=1100)
    after = client.get(url, headers=reader_headers).json()["items"][0]["staff_in_post_wte"]
    assert (before, after) == (1000, 1100)


def test_a_tag_is_not_shared_between_tokens(
    client: TestClient,
    writer_headers: Headers,
    reader_headers: dict[str, str],
    make_token: Callable[..., str],
) -> None:
    submit(client, writer_headers("RHM"), "2024-04")
    tag = client.get("/v1/metrics", headers=reader_headers).headers["etag"]
    other = bearer(make_token("read", name="another reader"))
    answer = client.get("/v1/metrics", headers={**other, "If-None-Match": tag})
    assert answer.status_code == 200
    assert answer.headers["etag"] != tag


def test_no_token_no_tag(client: TestClient) -> None:
    answer = client.get("/v1/metrics", headers={"If-None-Match": "*"})
    assert answer.status_code == 401
    assert "etag" not in answer.headers
