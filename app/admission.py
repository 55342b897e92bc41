"""How much work the service takes on at once, and a quick 503 beyond it.

A request is served by at most one thread and holds at most one pooled database
connection at a time (its token is checked in a short session of its own; its session
takes a connection when it first needs one and gives it back before the response is
sent). So the numbers are sized together from ``max_concurrent_requests`` (N):

- at most N requests run in the app at once; later ones wait in arrival order, at most
  ``max_queued_requests`` of them and for ``request_queue_timeout_s``, then get 503 with
  ``Retry-After``, never a hang;
- the thread pool running the handlers has N + ``HEADROOM`` threads, the database pool
  N connections plus ``HEADROOM`` overflow: the headroom serves ``/healthz``, ``/readyz``
  (outside the limit, so that they answer under any load) and the plan runner's own
  threads. No admitted request ever waits for a thread or a connection held by another
  that is itself waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from starlette.types import ASGIApp, Receive, Scope, Send

from app.config import Settings
from app.errors import PROBLEM_MEDIA_TYPE, ServiceUnavailable

HEADROOM = 8
SATURATED_RETRY_AFTER_S = 1
UNLIMITED_PATHS = frozenset({"/healthz", "/readyz"})


@dataclass(frozen=True)
class Capacity:
    requests: int
    threads: int
    pool_size: int
    max_overflow: int
    pool_timeout_s: float


def capacity(settings: Settings) -> Capacity:
    requests = settings.max_concurrent_requests
    return Capacity(
        requests=requests,
        threads=requests + HEADROOM,
        pool_size=requests,
        max_overflow=HEADROOM,
        pool_timeout_s=settings.db_pool_timeout_s,
    )


def engine_options(settings: Settings) -> dict[str, Any]:
    """``make_engine``'s keyword arguments for the service's own engine."""
    sized = capacity(settings)
    return {
        "pool_size": sized.pool_size,
        "max_overflow": sized.max_overflow,
        "pool_timeout": sized.pool_timeout_s,
        "busy_timeout_s": settings.sqlite_busy_timeout_s,
        "connect_timeout_s": settings.db_connect_timeout_s,
    }


def size_thread_pool(settings: Settings) -> None:
    """Give the thread pool running sync handlers and dependencies its share (call in the
    event loop, at start-up)."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = capacity(settings).threads


async def send_problem(send: Send, error: ServiceUnavailable, path: str) -> None:
    body = error.problem(instance=path).model_dump_json(exclude_none=True).encode()
    headers = [
        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
        *((k.lower().encode(), v.encode()) for k, v in error.headers.items()),
    ]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class Lease:
    """A request's place among the ``limit``: held while it works, set aside while it only
    waits (for a plan to be solved), so that waiting requests do not shut others out."""

    def __init__(self, slots: asyncio.Semaphore) -> None:
        self.slots = slots
        self.held = True

    def release(self) -> None:
        if self.held:
            self.held = False
            self.slots.release()

    async def take_back(self) -> None:
        if not self.held:
            await self.slots.acquire()
            self.held = True


_lease: ContextVar[Lease | None] = ContextVar("admission_lease", default=None)


@contextlib.asynccontextmanager
async def set_aside() -> AsyncIterator[None]:
    """Give the current request's place back while it waits for work done elsewhere,
    and take it back (waiting in turn) before it goes on; no-op outside the limit."""
    lease = _lease.get()
    if lease is None:
        yield
        return
    lease.release()
    try:
        yield
    finally:
        await lease.take_back()


class AdmissionLimit:
    """At most ``limit`` requests in the app at once; others queue, then 503 quickly."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int,
        queue: int,
        wait_s: float,
        unlimited: Iterable[str] = UNLIMITED_PATHS,
    ) -> None:
        self.app = app
        self.limit = limit
        self.queue = queue
        self.wait_s = wait_s
        self.unlimited = frozenset(unlimited)
        self.slots: asyncio.Semaphore | None = None
        self.waiting = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.unlimited:
            await self.app(scope, receive, send)
            return
        if self.slots is None:
            self.slots = asyncio.Semaphore(self.limit)
        slots = self.slots
        if not await self._admit(slots):
            error = ServiceUnavailable(
                "The service is at capacity; try again shortly.",
                retry_after_s=SATURATED_RETRY_AFTER_S,
            )
            await send_problem(send, error, scope["path"])
            return
        lease = Lease(slots)
        token = _lease.set(lease)
        try:
            await self.app(scope, receive, send)
        finally:
            _lease.reset(token)
            lease.release()

    async def _admit(self, slots: asyncio.Semaphore) -> bool:
        if not slots.locked():
            await slots.acquire()
            return True
        if self.waiting >= self.queue or self.wait_s <= 0:
            return False
        self.waiting += 1
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.wait_s):
                    await slots.acquire()
                    return True
            return False
        finally:
            self.waiting -= 1


def document_unavailable(schema: dict[str, Any]) -> None:
    """Declare in the OpenAPI document the 503 every operation but ``/healthz`` may answer
    (at capacity, or the database away), with its ``Retry-After``."""
    answer = {
        "description": "At capacity, or the database cannot be reached: try again after "
        "`Retry-After` seconds",
        "headers": {
            "Retry-After": {
                "description": "Seconds to wait before trying again",
                "schema": {"type": "integer"},
            }
        },
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for path, operations in schema.get("paths", {}).items():
        if path in ("/healthz", "/readyz"):
            continue
        for operation in operations.values():
            operation.setdefault("responses", {}).setdefault("503", answer)
