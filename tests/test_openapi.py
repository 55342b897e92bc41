"""The committed openapi.yaml is the app's own document, and the app keeps to it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks
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


# Every check Schemathesis has; those about state (use after free, resource availability)
# find nothing to look at in single calls and pass.
load_all_checks()
# Some are classes (stateful checks); call_and_validate takes them all the same.
ALL_CHECKS = cast("list[schemathesis.CheckFunction]", CHECKS.get_all())
PRINCIPALS = {
    # name: (scopes, organisation, examples of each mode per operation)
    "all-scopes": (("admin", "read", "plans:write"), None, 8),
    "RHM-bound HR": (("returns:write", "read"), "RHM", 5),
    "anonymous": ((), None, 3),
}


# The pytest plugin of Schemathesis does not run on this pytest; drive Hypothesis directly.
@pytest.mark.slow
@pytest.mark.parametrize("principal", list(PRINCIPALS))
def test_the_api_keeps_its_contract(
    app: FastAPI, make_token: Callable[..., str], principal: str
) -> None:
    """Generated requests to every operation, valid and invalid, with every check: no 5xx,
    every answer as documented, invalid data refused, valid data accepted (schemathesis.toml
    says which operations may refuse schema-valid content with 422, and why)."""
    scopes, organisation, examples = PRINCIPALS[principal]
    headers = (
        {"Authorization": f"Bearer {make_token(*scopes, organisation=organisation)}"}
        if scopes
        else {}
    )
    with TestClient(app):  # runs the lifespan: the engine and sessions exist
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        operations = []
        for result in schema.get_all_operations():
            assert isinstance(result, Ok), result.err()
            operations.append(result.ok())
        assert len(operations) > 10
        for operation in operations:
            strategy = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(
                GenerationMode.NEGATIVE
            )

            @given(case=strategy)
            @settings(
                max_examples=2 * examples,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            def check(case: schemathesis.Case[Any]) -> None:
                case.call_and_validate(headers=headers, checks=ALL_CHECKS)

            check()
