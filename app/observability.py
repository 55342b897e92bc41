"""Prometheus metrics, structured request logs and the request body limit, as ASGI middleware."""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import PROBLEM_MEDIA_TYPE, PayloadTooLarge

request_log = logging.getLogger("app.request")


@dataclass
class Metrics:
    """The app's own registry, so that each app instance (tests make many) counts alone."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests by route and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            ["method", "route"],
            registry=self.registry,
        )
        self.returns_accepted = Counter(
            "returns_accepted_total",
            "Return submissions stored as a new revision",
            registry=self.registry,
        )
        self.returns_refused = Counter(
            "returns_refused_total", "Return submissions refused", registry=self.registry
        )
        self.plan_solve_seconds = Histogram(
            "plan_solve_duration_seconds",
            "Optimiser build and solve time per plan",
            buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600),
            registry=self.registry,
        )


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        payload.update(getattr(record, "fields", {}))
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("app")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def _problem_body(error: PayloadTooLarge) -> bytes:
    return error.problem().model_dump_json(exclude_none=True).encode()


class ObservabilityMiddleware:
    """Counts and times every request by route template, logs it as one JSON line, and
    refuses bodies over ``max_body_bytes`` (declared or streamed) with 413."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics, max_body_bytes: int, log: bool) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = uuid.uuid4().hex[:16]
        status = 500
        response_started = False
        limit = self.max_body_bytes

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        declared = dict(scope.get("headers", [])).get(b"content-length")
        too_large = False
        if declared is not None and declared.isdigit() and int(declared) > limit:
            too_large = True
        received = 0

        async def receive_wrapper() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge
            return message

        try:
            if too_large:
                raise _BodyTooLarge
            await self.app(scope, receive_wrapper, send_wrapper)
        except _BodyTooLarge:
            if response_started:
                raise
            error = PayloadTooLarge(f"The body is over the limit of {limit} bytes.")
            body = _problem_body(error)
            await send_wrapper(
                {
                    "type": "http.response.start",
                    "status": 413,
                    "headers": [
                        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                        (b"content-length", str(len(body)).encode()),
                        (b"connection", b"close"),
                    ],
                }
            )
            await send_wrapper({"type": "http.response.body", "body": body})
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "")
            self.metrics.requests.labels(method, template, str(status)).inc()
            self.metrics.latency.labels(method, template).observe(elapsed)
            if self.log:
                principal = getattr(scope.get("state", {}).get("principal"), "token_id", None)
                request_log.info(
                    "request",
                    extra={
                        "fields": {
                            "request_id": request_id,
                            "method": method,
                            "path": scope.get("path"),
                            "route": template,
                            "status": status,
                            "duration_ms": round(elapsed * 1000, 2),
                            "token": principal,
                        }
                    },
                )


class _BodyTooLarge(Exception):
    pass
