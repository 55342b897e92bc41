"""Tokens: created by admins or the command line, shown once, stored hashed, revocable."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import cli
from app.config import Settings, get_settings
from app.main import create_app
from app.tokens.models import ApiToken
from tests.conftest import bearer


def test_admin_creates_a_token_shown_once(
    client: TestClient, admin_headers: dict[str, str], session: Session
) -> None:
    created = client.post(
        "/v1/tokens",
        json={"name": "UHS feed", "scopes": ["returns:write"], "organisation": "RHM"},
        headers=admin_headers,
    )
    assert created.status_code == 201
    body = created.json()
    assert body["token"].startswith("wf_")
    assert body["scopes"] == ["returns:write"]
    assert body["organisation"] == "RHM"

    listed = client.get("/v1/tokens", headers=admin_headers).json()
    mine = next(t for t in listed if t["id"] == body["id"])
    assert "token" not in mine
    assert body["token"] not in json.dumps(listed)

    stored = session.scalars(select(ApiToken).where(ApiToken.id == body["id"])).one()
    assert body["token"] not in {str(getattr(stored, c.key)) for c in ApiToken.__table__.columns}
    assert len(stored.token_hash) == 64


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"name": "x", "scopes": ["returns:write"]}, 422),
        ({"name": "x", "scopes": ["returns:write"], "organisation": "NOPE"}, 404),
        ({"name": "x", "scopes": ["superuser"]}, 422),
        ({"name": "", "scopes": ["read"]}, 422),
    ],
)
def test_bad_token_requests_are_refused(
    client: TestClient, admin_headers: dict[str, str], payload: dict[str, object], status: int
) -> None:
    assert client.post("/v1/tokens", json=payload, headers=admin_headers).status_code == status


def test_only_admins_manage_tokens(client: TestClient, reader_headers: dict[str, str]) -> None:
    payload = {"name": "x", "scopes": ["read"]}
    assert client.post("/v1/tokens", json=payload, headers=reader_headers).status_code == 403
    assert client.get("/v1/tokens", headers=reader_headers).status_code == 403
    assert client.post("/v1/tokens", json=payload).status_code == 401


def test_revoking_a_token_stops_it(client: TestClient, admin_headers: dict[str, str]) -> None:
    created = client.post(
        "/v1/tokens", json={"name": "r", "scopes": ["read"]}, headers=admin_headers
    ).json()
    assert client.get("/v1/staff-groups", headers=bearer(created["token"])).status_code == 200
    assert client.delete(f"/v1/tokens/{created['id']}", headers=admin_headers).status_code == 204
    assert client.get("/v1/staff-groups", headers=bearer(created["token"])).status_code == 401
    assert client.delete("/v1/tokens/nope", headers=admin_headers).status_code == 404


def test_the_environment_admin_token_works(settings: Settings, engine: object) -> None:
    value = "wf_environment-admin-for-tests"
    app = create_app(settings.model_copy(update={"admin_token": SecretStr(value)}))
    with TestClient(app) as client:
        response = client.post(
            "/v1/tokens", json={"name": "n", "scopes": ["read"]}, headers=bearer(value)
        )
        assert response.status_code == 201


def test_the_command_line_creates_lists_and_revokes(
    database_url: str,
    engine: object,
    client: TestClient,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        assert cli.main(["token", "create", "--name", "cli", "--scopes", "read"]) == 0
        created = json.loads(capsys.readouterr().out)
        assert client.get("/v1/staff-groups", headers=bearer(created["token"])).status_code == 200

        assert cli.main(["token", "list"]) == 0
        assert created["id"] in capsys.readouterr().out

        assert cli.main(["token", "revoke", created["id"]]) == 0
        assert client.get("/v1/staff-groups", headers=bearer(created["token"])).status_code == 401

        assert cli.main(["token", "create", "--name", "x", "--scopes", "returns:write"]) == 2
    finally:
        get_settings.cache_clear()


def test_a_bound_token_stored_with_system_scopes_acts_without_them(
    client: TestClient, session: Session, settings: Settings
) -> None:
    """Whatever the table holds (a row written by hand, a restore from before the rule), a
    bound token never acts as admin or planner, nor reads beyond its organisation."""
    from app.auth import hash_token

    value = "wf_bound-admin-written-by-hand"
    session.add(
        ApiToken(
            id="handmade",
            name="bound admin",
            token_hash=hash_token(value, settings),
            scopes="admin plans:write read",
            organisation_code="RHM",
        )
    )
    session.commit()
    headers = bearer(value)
    assert client.get("/v1/tokens", headers=headers).status_code == 403
    created = client.post("/v1/tokens", json={"name": "x", "scopes": ["admin"]}, headers=headers)
    assert created.status_code == 403
    assert (
        client.post(
            "/v1/plans", json={"start": "2024-03", "months": 1}, headers=headers
        ).status_code
        == 403
    )
    assert client.get("/v1/metrics?level=system", headers=headers).status_code == 403
    assert client.get("/v1/metrics?level=organisation&code=RHM", headers=headers).status_code == 200
