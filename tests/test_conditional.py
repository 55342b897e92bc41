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


@pytest.mark.parametrize("url", ["/v1/metrics?staff_group=%C2%A9", "/v1/metrics?period=1999-13"])
def test_if_none_match_never_answers_for_a_request_the_app_refuses(
    client: TestClient, url: str, reader_headers: dict[str, str]
) -> None:
    """``If-None-Match: *`` matches any tag; a request that is itself invalid still gets
    its 422, not a 304 for an answer that never was."""
    response = client.get(url, headers={**reader_headers, "If-None-Match": "*"})
    assert response.status_code == 422, response.text


def test_if_none_match_never_answers_for_a_token_the_app_refuses(
    client: TestClient, make_token: Callable[..., str], writer_headers: Headers
) -> None:
    """A token bound to RHM may not read the system's measures: 403, with or without a
    tag to match."""
    submit(client, writer_headers("RHM"), "2024-03")
    bound = bearer(make_token("read", organisation="RHM"))
    for extra in ({}, {"If-None-Match": "*"}):
        response = client.get("/v1/metrics", headers={**bound, **extra})
        assert response.status_code == 403, response.text


def test_a_match_is_confirmed_without_the_cache_too(
    client: TestClient, writer_headers: Headers, reader_headers: dict[str, str]
) -> None:
    """With the answer no longer kept (evicted, or the cache off), a matching tag still
    gets 304, once the app has answered 200 for it."""
    submit(client, writer_headers("RHM"), "2024-03")
    first = client.get("/v1/metrics", headers=reader_headers)
    tag = first.headers["etag"]
    cache = next(m for m in _middlewares(client) if hasattr(m, "entries"))
    cache.entries.clear()
    again = client.get("/v1/metrics", headers={**reader_headers, "If-None-Match": tag})
    assert again.status_code == 304
    assert again.content == b""


def _middlewares(client: TestClient) -> list[Any]:
    found, app = [], client.app.middleware_stack  # type: ignore[attr-defined]
    while app is not None:
        found.append(app)
        app = getattr(app, "app", None)
    return found
