"""The app behind a real uvicorn server, and clients that hit it all at once."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI


@contextmanager
def served(app: FastAPI) -> Iterator[str]:
    """``app`` served by uvicorn on a free port of 127.0.0.1, in a thread; its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", backlog=2048)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "the server stopped while starting"
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no answer within the client's timeout
    elapsed_s: float
    headers: httpx.Headers
    body: bytes


@dataclass(frozen=True)
class Call:
    method: str
    url: str
    headers: dict[str, str]
    json: Any = None


def burst(base_url: str, calls: Sequence[Call], *, timeout_s: float = 20.0) -> list[Answer]:
    """Send every call at once, each on a connection of its own; the answers in order."""

    async def run() -> list[Answer]:
        limits = httpx.Limits(max_connections=len(calls), max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=timeout_s) as client:
            return await asyncio.gather(*(one(client, call) for call in calls))

    async def one(client: httpx.AsyncClient, call: Call) -> Answer:
        started = time.perf_counter()
        try:
            response = await client.request(
                call.method, call.url, headers=call.headers, json=call.json
            )
        except httpx.TimeoutException:
            return Answer(None, time.perf_counter() - started, httpx.Headers(), b"")
        return Answer(
            response.status_code, time.perf_counter() - started, response.headers, response.content
        )

    return asyncio.run(run())


def refusals_are_well_formed(answers: Sequence[Answer]) -> list[str]:
    """What is wrong with the 503s among ``answers``: each needs Retry-After and a problem."""
    wrong = []
    for answer in answers:
        if answer.status != 503:
            continue
        if not answer.headers.get("retry-after", "").isdigit():
            wrong.append(f"503 without Retry-After: {answer.headers}")
        if not answer.headers.get("content-type", "").startswith("application/problem+json"):
            wrong.append(f"503 not a problem: {answer.body[:200]!r}")
    return wrong
