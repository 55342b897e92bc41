"""Nothing lost: concurrent amendments through a real server, and a write that fails half way."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.main import create_app
from app.returns.models import Return, ReturnLine, ReturnRevision
from tests.conftest import line
from tests.serving import served

AMENDMENTS = 50
URL = "/v1/organisations/RHM/returns/2024-04"


@pytest.fixture
def server(engine: Engine, settings: Settings) -> Iterator[str]:
    """The app behind a real uvicorn server on a free port, in a thread. Amendments of
    one return queue for its lock one after another: let them all wait their turn
    rather than be refused with 503 after the default 2 s."""
    patient = settings.model_copy(update={"request_queue_timeout_s": 60})
    with served(create_app(patient)) as url:
        yield url


def test_fifty_concurrent_amendments_make_fifty_consecutive_revisions(
    server: str,
    writer_headers: Callable[[str], dict[str, str]],
    sessions: sessionmaker[Session],
) -> None:
    headers = writer_headers("RHM")
    with httpx.Client(base_url=server, headers=headers, timeout=120) as client:
        first = client.put(URL, json={"source": "ESR", "lines": [line(staff_in_post_wte=1000)]})
        assert first.status_code == 201, first.text

        def amend(n: int) -> httpx.Response:
            body: dict[str, Any] = {
                "source": "ESR",
                "amendment_reason": f"correction {n}",
                "lines": [line(staff_in_post_wte=1000 + n)],
            }
            return client.put(URL, json=body)

        barrier_free = ThreadPoolExecutor(max_workers=AMENDMENTS)
        with barrier_free:
            responses = list(barrier_free.map(amend, range(1, AMENDMENTS + 1)))

    assert [r.status_code for r in responses] == [200] * AMENDMENTS, [
        r.text for r in responses if r.status_code != 200
    ]
    answered = sorted(r.json()["revision"] for r in responses)
    assert answered == list(range(2, AMENDMENTS + 2))

    with sessions() as session:
        revisions = session.execute(
            select(ReturnRevision.revision, ReturnRevision.amendment_reason, ReturnLine)
            .join(ReturnLine, ReturnLine.revision_id == ReturnRevision.id)
            .order_by(ReturnRevision.revision)
        ).all()
        latest = session.scalar(select(Return.latest_revision))
    assert [r.revision for r in revisions] == list(range(1, AMENDMENTS + 2))
    assert latest == AMENDMENTS + 1
    # Each amendment's content is stored once, under the revision its answer named.
    stored = {int(r.ReturnLine.staff_in_post_wte) - 1000 for r in revisions[1:]}
    assert stored == set(range(1, AMENDMENTS + 1))
    by_reason = {r.amendment_reason: r.revision for r in revisions[1:]}
    for response in responses:
        body = response.json()
        assert by_reason[body["amendment_reason"]] == body["revision"]


def test_a_write_failing_half_way_leaves_the_previous_revision_intact(
    app: FastAPI,
    writer_headers: Callable[[str], dict[str, str]],
    sessions: sessionmaker[Session],
) -> None:
    headers = writer_headers("RHM")
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.put(URL, json={"lines": [line()]}, headers=headers).status_code == 201

        def fail(*_args: object) -> None:
            raise RuntimeError("disk full")

        # The revision row is inserted; its lines are not: the crash lands mid-write.
        event.listen(ReturnLine, "before_insert", fail)
        try:
            response = client.put(
                URL,
                json={"amendment_reason": "late starters", "lines": [line(starters_wte=99)]},
                headers=headers,
            )
        finally:
            event.remove(ReturnLine, "before_insert", fail)

        assert response.status_code == 500
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "nothing was stored" in response.json()["detail"]

        latest = client.get(URL, headers=headers)
        assert latest.status_code == 200
        assert latest.json()["revision"] == 1
        assert latest.json()["lines"][0]["starters_wte"] == 12.5
        assert latest.headers["etag"] == '"r1"'

        retried = client.put(
            URL,
            json={"amendment_reason": "late starters", "lines": [line(starters_wte=99)]},
            headers=headers,
        )
        assert retried.status_code == 200
        assert retried.json()["revision"] == 2

    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(ReturnRevision)) == 2
        assert session.scalar(select(func.count()).select_from(ReturnLine)) == 2
