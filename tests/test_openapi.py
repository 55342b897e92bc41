"""The committed openapi.yaml is the app's own document, and the app keeps to it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.core.result import Ok

from app.main import create_app
from app.openapi_file import render

ROOT = Path(__file__).resolve().parent.parent


def test_openapi_yaml_matches_the_app() -> None:
    committed = (ROOT / "openapi.yaml").read_text()
    assert committed == render(create_app().openapi()), (
        "openapi.yaml is stale: run `make openapi` and commit it"
    )


def test_every_operation_has_an_id_and_a_description() -> None:
    document = create_app().openapi()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation.get("operationId"), f"{method} {path}"
            assert operation.get("description") or operation.get("summary"), f"{method} {path}"


# The pytest plugin of Schemathesis does not run on this pytest; drive Hypothesis directly.
@pytest.mark.parametrize("authenticated", [True, False], ids=["admin", "anonymous"])
def test_the_api_keeps_its_contract(
    app: FastAPI, admin_headers: dict[str, str], authenticated: bool
) -> None:
    """Generated requests to every operation: no 5xx, and every answer as documented."""
    headers = admin_headers if authenticated else {}
    with TestClient(app):  # runs the lifespan: the engine and sessions exist
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        operations = []
        for result in schema.get_all_operations():
            assert isinstance(result, Ok), result.err()
            operations.append(result.ok())
        assert len(operations) > 10
        for operation in operations:

            @given(case=operation.as_strategy())
            @settings(
                max_examples=8 if authenticated else 3,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            def check(case: schemathesis.Case[Any]) -> None:
                # Schema-valid bodies may still be refused (422) for what a schema cannot
                # say: an unknown staff group, vacancy above establishment, and the like.
                case.call_and_validate(
                    headers=headers, excluded_checks=[schemathesis.checks.positive_data_acceptance]
                )

            check()
