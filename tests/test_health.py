"""Liveness, readiness and the Prometheus endpoint."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.conftest import alembic_config, line


def test_healthz_needs_no_token(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_when_migrated(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["schema_revision"] == body["expected_revision"]


def test_readyz_is_503_on_an_unmigrated_database(settings: Settings, tmp_path: Path) -> None:
    empty = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'empty.db'}"})
    with TestClient(create_app(empty)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


def test_readyz_is_503_behind_the_latest_migration(settings: Settings, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "head")
    command.stamp(alembic_config(url), "base")
    with TestClient(create_app(settings.model_copy(update={"database_url": url}))) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["schema_revision"] is None


def test_metrics_needs_a_token(client: TestClient) -> None:
    assert client.get("/metrics").status_code == 401


def test_metrics_count_requests_and_returns(
    client: TestClient,
    reader_headers: dict[str, str],
    writer_headers: Callable[[str], dict[str, str]],
) -> None:
    writer = writer_headers("RHM")
    url = "/v1/organisations/RHM/returns"
    assert client.put(f"{url}/2024-04", json={"lines": [line()]}, headers=writer).status_code == 201
    refused = client.put(
        f"{url}/2024-05", json={"lines": [line(establishment_wte=-1)]}, headers=writer
    )
    assert refused.status_code == 422

    text = client.get("/metrics", headers=reader_headers).text
    assert "returns_accepted_total 1.0" in text
    assert "returns_refused_total 1.0" in text
    route = "/v1/organisations/{code}/returns/{period}"
    assert f'http_requests_total{{method="PUT",route="{route}",status="201"}} 1.0' in text
    assert f'http_requests_total{{method="PUT",route="{route}",status="422"}} 1.0' in text
    assert "http_request_duration_seconds_bucket" in text
    assert "plan_solve_duration_seconds" in text
