"""A request that only waits (for a plan solved elsewhere) gives its place to others."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from app.admission import AdmissionLimit, set_aside


def _scope(path: str) -> dict[str, Any]:
    return {"type": "http", "path": path, "method": "GET", "headers": []}


async def _receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


class _Recorder:
    def __init__(self) -> None:
        self.status: int | None = None

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]


def _limited(solved: asyncio.Event, waiting: asyncio.Event) -> AdmissionLimit:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == "/plan":
            async with set_aside():
                waiting.set()
                await solved.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    return AdmissionLimit(app, limit=1, queue=10, wait_s=0.2)


def test_a_request_waiting_for_its_plan_does_not_hold_its_place() -> None:
    """With one place: a plan request waiting for its solve, then a quick read. Were the
    place held while waiting, the read would wait its 0.2 s and answer 503."""

    async def run() -> tuple[int | None, int | None]:
        solved, waiting = asyncio.Event(), asyncio.Event()
        limited = _limited(solved, waiting)
        plan, read = _Recorder(), _Recorder()
        request = asyncio.create_task(limited(_scope("/plan"), _receive, plan))
        await waiting.wait()
        await limited(_scope("/staff-groups"), _receive, read)
        solved.set()
        await request
        return plan.status, read.status

    assert asyncio.run(run()) == (200, 200)


def test_the_waiting_request_takes_its_place_back_before_it_goes_on() -> None:
    """After its wait the plan request queues for a place like any other: while another
    request holds the one place, it does not run alongside it."""

    async def run() -> list[str]:
        solved, waiting = asyncio.Event(), asyncio.Event()
        order: list[str] = []
        release_read = asyncio.Event()

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["path"] == "/plan":
                async with set_aside():
                    waiting.set()
                    await solved.wait()
                order.append("plan answers")
            else:
                order.append("read starts")
                await release_read.wait()
                order.append("read ends")
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b""})

        limited = AdmissionLimit(app, limit=1, queue=10, wait_s=5)
        request = asyncio.create_task(limited(_scope("/plan"), _receive, _Recorder()))
        await waiting.wait()
        read = asyncio.create_task(limited(_scope("/read"), _receive, _Recorder()))
        await asyncio.sleep(0.01)
        solved.set()
        await asyncio.sleep(0.05)
        release_read.set()
        await asyncio.gather(request, read)
        return order

    assert asyncio.run(run()) == ["read starts", "read ends", "plan answers"]
