"""The measures change only when the data they are computed from does: an ``ETag`` for
them, ``304 Not Modified`` to ``If-None-Match``, and the last answers kept in memory.

The version of that data is read in one cheap query: the count and newest id of return
revisions (revisions are only ever added, so the count grows with every commit, in
whatever order concurrent submissions commit), and the count and latest change of the
targets and organisations, and the count of staff groups. A tag is a hash of that
version, today's date, the request's path and query, and the token that asks, so that a
tag is never shared between tokens, and a cached answer is one this token was given for
this very request at this very version.

The version is read before the measures are computed, so an answer is never older than
its tag says; an answer stored under a tag that is already stale is never asked for again.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.auth import resolve_token

MEASURE_PATHS = frozenset({"/v1/metrics", "/v1/metrics/series", "/v1/targets/status"})
DATA_VERSION = text(
    "SELECT (SELECT count(*) FROM return_revisions), (SELECT max(id) FROM return_revisions),"
    " (SELECT count(*) FROM targets), (SELECT max(updated_at) FROM targets),"
    " (SELECT count(*) FROM organisations), (SELECT max(updated_at) FROM organisations),"
    " (SELECT count(*) FROM staff_groups)"
)
CACHE_CONTROL = (b"cache-control", b"private, no-cache")
VARY = (b"vary", b"Authorization")


def data_version(session: Session) -> tuple[Any, ...]:
    """What the measures are computed from, in one cheap row."""
    return tuple(session.execute(DATA_VERSION).one())


def entity_tag(*, version: tuple[Any, ...], path: str, query: str, token_id: str) -> str:
    today = datetime.now(UTC).date().isoformat()
    key = repr((version, today, path, "&".join(sorted(query.split("&"))), token_id))
    return '"m' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'


def matches(if_none_match: str | None, tag: str) -> bool:
    if not if_none_match:
        return False
    candidates = {value.strip().removeprefix("W/") for value in if_none_match.split(",")}
    return "*" in candidates or tag in candidates


def _validators(tag: str) -> list[tuple[bytes, bytes]]:
    return [(b"etag", tag.encode()), CACHE_CONTROL, VARY]


def bearer_token(headers: Headers) -> str | None:
    scheme, _, value = headers.get("authorization", "").partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


class MeasureCache:
    """ETag, 304 and a small in-memory cache of answers for ``paths`` (GET only).

    Anything it cannot settle (no token, an unknown one, the database unreachable) goes on
    to the app, which answers as it would have.
    """

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, paths: frozenset[str] = MEASURE_PATHS
    ) -> None:
        self.app = app
        self.paths = paths
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_bytes // 8
        self.entries: OrderedDict[str, tuple[list[tuple[bytes, bytes]], bytes]] = OrderedDict()
        self.size = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        token = bearer_token(headers)
        tag = None
        if token is not None:
            try:
                tag = await run_in_threadpool(self._tag, scope, token)
            except Exception:
                tag = None  # the app will say why (503 while the database is away)
        if tag is None:
            await self.app(scope, receive, send)
            return
        # Only an answer the app gave (a 200 to this token, for this request, at this
        # version) is repeated or confirmed by a 304: a request the app would refuse (a bad
        # parameter, a scope the token lacks) goes to the app whatever If-None-Match says.
        not_modified = matches(headers.get("if-none-match"), tag)
        cached = self.entries.get(tag)
        if cached is not None:
            self.entries.move_to_end(tag)
            if not_modified:
                await self._send(send, 304, _validators(tag), b"")
            else:
                await self._send(send, 200, *cached)
            return
        await self.app(scope, receive, self._keeping(send, tag, not_modified=not_modified))

    def _tag(self, scope: Scope, token: str) -> str | None:
        sessions: sessionmaker[Session] = scope["app"].state.sessionmaker
        with sessions() as session:
            principal = resolve_token(session, token, scope["app"].state.settings)
            version = data_version(session) if principal is not None else None
            session.rollback()
        if principal is None or version is None:
            return None
        query = scope.get("query_string", b"").decode("latin-1")
        return entity_tag(
            version=version, path=scope["path"], query=query, token_id=principal.token_id
        )

    def _keeping(self, send: Send, tag: str, *, not_modified: bool) -> Send:
        """``send``, tagging a 200 and keeping its body when it is small enough; a 200 whose
        tag the client already holds goes out as a 304."""
        kept: list[tuple[bytes, bytes]] | None = None
        ok = False
        body: list[bytes] = []
        size = 0

        async def wrapper(message: Message) -> None:
            nonlocal kept, ok, size
            if message["type"] == "http.response.start" and message["status"] == 200:
                ok = True
                kept = [*message.get("headers", []), *_validators(tag)]
                if not_modified:
                    message = {**message, "status": 304, "headers": _validators(tag)}
                else:
                    message = {**message, "headers": kept}
            elif message["type"] == "http.response.body" and ok:
                chunk = message.get("body", b"")
                size += len(chunk)
                if kept is not None and size > self.max_entry_bytes:
                    kept = None
                elif kept is not None:
                    body.append(chunk)
                    if not message.get("more_body", False):
                        self._store(tag, kept, b"".join(body))
                if not_modified:
                    message = {**message, "body": b""}
            await send(message)

        return wrapper

    def _store(self, tag: str, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        if tag in self.entries:
            return
        self.entries[tag] = (headers, body)
        self.size += len(body)
        while self.size > self.max_bytes and self.entries:
            _tag, (_headers, old) = self.entries.popitem(last=False)
            self.size -= len(old)

    @staticmethod
    async def _send(
        send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> None:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def document_conditional(schema: dict[str, Any], paths: frozenset[str] = MEASURE_PATHS) -> None:
    """Declare ``If-None-Match``, the 200's ``ETag`` and the 304 on the measures' reads."""
    for path in paths:
        operation = schema.get("paths", {}).get(path, {}).get("get")
        if operation is None:
            continue
        operation.setdefault("parameters", []).append(
            {
                "name": "If-None-Match",
                "in": "header",
                "required": False,
                "description": "The `ETag` of an earlier answer: 304 while it still holds",
                "schema": {"type": "string"},
            }
        )
        responses = operation.setdefault("responses", {})
        ok = responses.get("200")
        if ok is not None:
            ok.setdefault("headers", {})["ETag"] = {
                "description": "Changes when a return, target or organisation changes",
                "schema": {"type": "string"},
            }
        responses.setdefault(
            "304", {"description": "Not modified since the `ETag` given in `If-None-Match`"}
        )
