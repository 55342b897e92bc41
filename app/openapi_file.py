"""``openapi.yaml``: the app's OpenAPI document, rendered the same way every time."""

from __future__ import annotations

import json
from typing import Any

import yaml


def render(document: dict[str, Any]) -> str:
    # Round-trip through JSON so that only plain types reach the YAML writer.
    plain = json.loads(json.dumps(document))
    return yaml.safe_dump(plain, sort_keys=False, allow_unicode=True, width=100)
