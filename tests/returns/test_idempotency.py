"""Idempotency-Key, If-Match and If-None-Match."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.conftest import line

URL = "/v1/organisations/RHM/returns/2024-04"
Headers = Callable[[str], dict[str, str]]


def test_a_repeated_key_answers_as_before(client: TestClient, writer_headers: Headers) -> None:
    headers = {**writer_headers("RHM"), "Idempotency-Key": "batch-17"}
    first = client.put(URL, json={"lines": [line()]}, headers=headers)
    again = client.put(URL, json={"lines": [line()]}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()


def test_a_key_reused_for_another_body_is_409(client: TestClient, writer_headers: Headers) -> None:
    headers = {**writer_headers("RHM"), "Idempotency-Key": "batch-17"}
    client.put(URL, json={"lines": [line()]}, headers=headers)
    response = client.put(
        URL, json={"amendment_reason": "fix", "lines": [line(bank_wte=1)]}, headers=headers
    )
    assert response.status_code == 409
    assert client.get(URL, headers=headers).json()["revision"] == 1


def test_a_replayed_amendment_makes_one_revision(
    client: TestClient, writer_headers: Headers
) -> None:
    headers = writer_headers("RHM")
    client.put(URL, json={"lines": [line()]}, headers=headers)
    body = {"amendment_reason": "fix", "lines": [line(bank_wte=1)]}
    keyed = {**headers, "Idempotency-Key": "amend-1"}
    first = client.put(URL, json=body, headers=keyed)
    # Someone else amends in between; the replay still answers with the key's revision.
    client.put(URL, json={"amendment_reason": "more", "lines": [line(bank_wte=2)]}, headers=headers)
    replay = client.put(URL, json=body, headers=keyed)
    assert first.status_code == replay.status_code == 200
    assert replay.json()["revision"] == first.json()["revision"] == 2
    assert len(client.get(f"{URL}/revisions", headers=headers).json()) == 3


def test_keys_belong_to_their_organisation(client: TestClient, writer_headers: Headers) -> None:
    rhm = {**writer_headers("RHM"), "Idempotency-Key": "k"}
    rhu = {**writer_headers("RHU"), "Idempotency-Key": "k"}
    assert client.put(URL, json={"lines": [line()]}, headers=rhm).status_code == 201
    other = client.put(
        "/v1/organisations/RHU/returns/2024-04", json={"lines": [line(bank_wte=3)]}, headers=rhu
    )
    assert other.status_code == 201
    assert other.json()["organisation"] == "RHU"


def test_if_match_guards_against_a_lost_update(client: TestClient, writer_headers: Headers) -> None:
    headers = writer_headers("RHM")
    client.put(URL, json={"lines": [line()]}, headers=headers)
    amend = {"amendment_reason": "fix", "lines": [line(bank_wte=1)]}
    ok = client.put(URL, json=amend, headers={**headers, "If-Match": '"r1"'})
    assert ok.status_code == 200

    stale = client.put(
        URL,
        json={"amendment_reason": "other", "lines": [line(bank_wte=2)]},
        headers={**headers, "If-Match": '"r1"'},
    )
    assert stale.status_code == 412
    assert stale.headers["etag"] == '"r2"'
    assert client.get(URL, headers=headers).json()["lines"][0]["bank_wte"] == 1


def test_if_match_on_a_missing_return_is_412(client: TestClient, writer_headers: Headers) -> None:
    response = client.put(
        URL, json={"lines": [line()]}, headers={**writer_headers("RHM"), "If-Match": '"r1"'}
    )
    assert response.status_code == 412


def test_if_none_match_star_creates_only(client: TestClient, writer_headers: Headers) -> None:
    headers = {**writer_headers("RHM"), "If-None-Match": "*"}
    assert client.put(URL, json={"lines": [line()]}, headers=headers).status_code == 201
    again = client.put(
        URL, json={"amendment_reason": "x", "lines": [line(bank_wte=5)]}, headers=headers
    )
    assert again.status_code == 412
