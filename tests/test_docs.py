"""The front door and the API docs over plain HTTP: ``/`` leads to the pages, and /docs
and /redoc load their scripts and styles from the service itself (the browser test,
``tests/ui/test_browser.py``, renders them with the network cut off)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient


def test_the_root_leads_to_the_pages(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "/ui/"


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_load_nothing_from_elsewhere(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', response.text)
    assert assets
    for asset in assets:
        assert asset.startswith("/"), asset
        loaded = client.get(asset)
        assert loaded.status_code == 200, asset
        assert len(loaded.content) > 1000, asset
    assert "cdn" not in response.text.lower()
