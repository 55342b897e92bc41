"""Load benchmark of the served API: many concurrent clients, against GET /healthz.

Migrates a throwaway database (a SQLite file, or with ``--url`` a new PostgreSQL database
beside the one named, dropped afterwards), loads the synthetic demo data, starts
``uvicorn app.main:app`` on a free port of 127.0.0.1 in a subprocess, and then, for each
number of clients (10, 50, 200, 500) and each workload, keeps that many clients busy for
``--duration`` seconds, each on a connection of its own, sending its next request when the
last is answered (after the ``Retry-After`` of a 503):

- ``metrics``: GET /v1/metrics (system level, the latest month);
- ``staff-groups``: GET /v1/staff-groups;
- ``mix``: 45% metrics (organisation level), 45% staff groups, 10% amendments of a return
  (PUT, each organisation's own HR token);
- ``healthz``: GET /healthz, the reference: what the server and this client manage with
  no database and no work, in the same run.

Prints, per run, answers per second, p50/p95/p99/max latency and the count of each status,
and the ratio of throughput and p50 to the reference; with ``--repeat N``, the medians of N
runs and their spread. Clients wait at most 30 s for an answer (counted as ``timeout``).
Run: ``python bench/load.py [--url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
[--clients 10,50,200,500] [--duration 5] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
if sys.path and Path(sys.path[0]).resolve() == HERE:
    sys.path[0] = str(HERE.parent)

import httpx  # noqa: E402
from sqlalchemy import create_engine, make_url, select, text  # noqa: E402

from app.auth import Scope  # noqa: E402
from app.db import make_engine, make_sessionmaker, session_scope  # noqa: E402
from app.organisations.models import Organisation  # noqa: E402
from app.returns.csv_io import REQUIRED  # noqa: E402
from app.tokens.service import create_token  # noqa: E402
from bench import migrate  # noqa: E402

WORKLOADS = ("healthz", "metrics", "staff-groups", "mix")
SLOW_S = 5.0
CLIENT_TIMEOUT_S = 30.0
LINE_FIELDS = tuple(sorted(REQUIRED))  # what a submitted line must have


@dataclass
class Tokens:
    reader: str
    hr: dict[str, str]  # organisation -> its returns:write token


@dataclass
class Run:
    workload: str
    clients: int
    duration_s: float
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    refusals_without_retry_after: int = 0

    @property
    def answered_per_s(self) -> float:
        ok = sum(n for status, n in self.statuses.items() if status in ("200", "201", "304"))
        return ok / self.duration_s

    def quantile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def slow(self) -> int:
        return sum(1 for latency in self.latencies if latency > SLOW_S)


def tokens_for(url: str) -> Tokens:
    engine = make_engine(url)
    for session in session_scope(make_sessionmaker(engine)):
        _row, reader = create_token(session, name="bench reader", scopes=[Scope.READ])
        hr = {}
        for code in session.scalars(select(Organisation.code)):
            _row, hr[code] = create_token(
                session, name=f"bench {code}", scopes=[Scope.RETURNS_WRITE], organisation=code
            )
    engine.dispose()
    return Tokens(reader=reader, hr=hr)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "WORKFORCE_LOG_REQUESTS": "false",
        "WORKFORCE_LOG_LEVEL": "WARNING",
        "WORKFORCE_PLAN_PREWARM": "false",
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "app.main:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--backlog",
        "4096",
    ]
    server = subprocess.Popen(
        command, env=env, cwd=HERE.parent, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if server.poll() is not None:
            break
        time.sleep(0.2)
    server.terminate()
    raise SystemExit(f"the server did not become ready; see {log}")


def latest_returns(base: str, tokens: Tokens) -> tuple[str, dict[str, list[dict[str, Any]]]]:
    """The latest month with returns, and each organisation's lines for it."""
    reader = {"Authorization": f"Bearer {tokens.reader}"}
    with httpx.Client(base_url=base, headers=reader, timeout=30) as client:
        items = client.get("/v1/metrics").json()["items"]
        period = items[0]["period"]
        lines = {}
        for code in tokens.hr:
            answer = client.get(f"/v1/organisations/{code}/returns/{period}")
            if answer.status_code == 200:
                lines[code] = [
                    {name: line[name] for name in LINE_FIELDS} for line in answer.json()["lines"]
                ]
    return period, lines


def request_for(
    workload: str, tokens: Tokens, period: str, lines: dict[str, list[dict[str, Any]]]
) -> tuple[str, str, dict[str, str], Any]:
    reader = {"Authorization": f"Bearer {tokens.reader}"}
    if workload == "healthz":
        return "GET", "/healthz", {}, None
    if workload == "metrics":
        return "GET", "/v1/metrics", reader, None
    if workload == "staff-groups":
        return "GET", "/v1/staff-groups", reader, None
    draw = random.random()
    if draw < 0.45:
        return "GET", "/v1/metrics?level=organisation", reader, None
    if draw < 0.9 or not lines:
        return "GET", "/v1/staff-groups", reader, None
    code = random.choice(sorted(lines))
    amended = [
        {**line, "leavers_wte": round(float(line["leavers_wte"]) + random.random(), 2)}
        for line in lines[code]
    ]
    body = {"source": "bench", "amendment_reason": "bench amendment", "lines": amended}
    headers = {"Authorization": f"Bearer {tokens.hr[code]}"}
    return "PUT", f"/v1/organisations/{code}/returns/{period}", headers, body


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]


class Connection:
    """One keep-alive HTTP/1.1 connection, kept lean so that the clients leave the cores
    to the server (an HTTP library costs several times more per request than this)."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, headers: dict[str, str], body: Any) -> Answer:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        payload = json.dumps(body).encode() if body is not None else b""
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
        for name, value in headers.items():
            head += f"{name}: {value}\r\n"
        if body is not None:
            head += "Content-Type: application/json\r\n"
        head += f"Content-Length: {len(payload)}\r\n\r\n"
        self.writer.write(head.encode() + payload)
        try:
            status_line = await self.reader.readuntil(b"\r\n")
            if not status_line:
                raise ConnectionError("closed")
            answer_headers = {}
            while (line := await self.reader.readuntil(b"\r\n")) != b"\r\n":
                name, _, value = line.decode("latin-1").partition(":")
                answer_headers[name.strip().lower()] = value.strip()
            if answer_headers.get("transfer-encoding") == "chunked":
                while size := int((await self.reader.readuntil(b"\r\n")).strip(), 16):
                    await self.reader.readexactly(size + 2)
                await self.reader.readuntil(b"\r\n")
            else:
                await self.reader.readexactly(int(answer_headers.get("content-length", "0")))
        except (asyncio.IncompleteReadError, ConnectionError):
            self.close()
            raise
        if answer_headers.get("connection") == "close":
            self.close()
        return Answer(int(status_line.split()[1]), answer_headers)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def drive(
    base: str,
    workload: str,
    clients: int,
    duration_s: float,
    tokens: Tokens,
    period: str,
    lines: dict[str, list[dict[str, Any]]],
) -> Run:
    run = Run(workload=workload, clients=clients, duration_s=duration_s)
    parts = urlsplit(base)
    stop_at = time.monotonic() + duration_s

    async def one_client() -> None:
        connection = Connection(parts.hostname or "127.0.0.1", parts.port or 80)
        try:
            while time.monotonic() < stop_at:
                method, path, headers, body = request_for(workload, tokens, period, lines)
                started = time.perf_counter()
                try:
                    async with asyncio.timeout(CLIENT_TIMEOUT_S):
                        answer = await connection.request(method, path, headers, body)
                except TimeoutError:
                    connection.close()
                    run.statuses["timeout"] += 1
                    run.latencies.append(time.perf_counter() - started)
                    continue
                except (OSError, asyncio.IncompleteReadError) as error:
                    run.statuses[type(error).__name__] += 1
                    await asyncio.sleep(0.1)
                    continue
                run.latencies.append(time.perf_counter() - started)
                run.statuses[str(answer.status)] += 1
                if answer.status == 503:
                    retry_after = answer.headers.get("retry-after", "")
                    if not retry_after.isdigit():
                        run.refusals_without_retry_after += 1
                        continue
                    pause = min(float(retry_after), max(0.0, stop_at - time.monotonic()))
                    await asyncio.sleep(pause)
        finally:
            connection.close()

    await asyncio.gather(*(one_client() for _ in range(clients)))
    return run


def median_and_spread(values: list[float], digits: int) -> str:
    middle = statistics.median(values)
    if len(values) == 1:
        return f"{middle:.{digits}f}"
    return f"{middle:.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def summarise(runs: list[Run], references: list[Run]) -> str:
    """One table row: medians (and spread) of repeated runs of one workload and size."""
    first = runs[0]
    throughput = [r.answered_per_s for r in runs]
    p50 = [r.quantile(0.5) * 1000 for r in runs]
    p95 = [r.quantile(0.95) * 1000 for r in runs]
    p99 = [r.quantile(0.99) * 1000 for r in runs]
    worst = max(max(r.latencies, default=0.0) for r in runs)
    statuses: Counter[str] = Counter()
    for r in runs:
        statuses.update(r.statuses)
    shown = ", ".join(f"{status}: {n}" for status, n in sorted(statuses.items()))
    ratio = statistics.median(
        r.answered_per_s / ref.answered_per_s if ref.answered_per_s else float("nan")
        for r, ref in zip(runs, references, strict=True)
    )
    slow = sum(r.slow for r in runs)
    bare = sum(r.refusals_without_retry_after for r in runs)
    return (
        f"| {first.workload} | {first.clients} | {median_and_spread(throughput, 0)} | "
        f"{ratio:.2f}x | {median_and_spread(p50, 0)} | {median_and_spread(p95, 0)} | "
        f"{median_and_spread(p99, 0)} | {worst * 1000:.0f} | {slow} | {shown}"
        + (f" ({bare} without Retry-After)" if bare else "")
        + " |"
    )


HEADER = (
    "| workload | clients | answered/s | vs /healthz | p50 ms | p95 ms | p99 ms | max ms "
    "| over 5 s | statuses (all runs) |\n| --- | --- | --- | --- | --- | --- | --- | --- "
    "| --- | --- |"
)


def throwaway_database(url: str | None) -> tuple[str, Any]:
    """A database to load: a new SQLite file, or a new PostgreSQL database beside ``url``;
    and how to drop it."""
    if url is None:
        directory = Path(tempfile.mkdtemp(prefix="bench-load-"))
        return f"sqlite:///{directory / 'load.db'}", lambda: None
    server = make_url(url)
    name = f"bench_load_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()

    return server.set(database=name).render_as_string(hide_password=False), drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", help="a PostgreSQL server; default: a SQLite file")
    parser.add_argument("--clients", default="10,50,200,500")
    parser.add_argument("--workloads", default=",".join(WORKLOADS[1:]))
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per run")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    sizes = [int(n) for n in args.clients.split(",")]
    workloads = [w for w in args.workloads.split(",") if w != "healthz"]
    assert all(w in WORKLOADS for w in workloads), workloads
    assert all(0 < n <= 1000 for n in sizes), "between 1 and 1,000 clients"
    if not (0 < args.duration <= 60 and 0 < args.repeat <= 10):
        parser.error("--duration is 60 s at most and --repeat 10 at most")

    url, drop = throwaway_database(args.url)
    log = Path(tempfile.mkdtemp(prefix="bench-load-log-")) / "server.log"
    server: subprocess.Popen[bytes] | None = None
    try:
        migrate(url, demo=True)
        tokens = tokens_for(url)
        port = free_port()
        server = start_server(url, port, log)
        base = f"http://127.0.0.1:{port}"
        period, lines = latest_returns(base, tokens)
        backend = make_url(url).get_backend_name()
        print(f"{backend}, demo data to {period}; {args.duration:g} s a run, {args.repeat} runs")
        print(HEADER, flush=True)
        for clients in sizes:
            results: dict[str, list[Run]] = {w: [] for w in ["healthz", *workloads]}
            for _ in range(args.repeat):
                for workload in results:
                    run = asyncio.run(
                        drive(base, workload, clients, args.duration, tokens, period, lines)
                    )
                    results[workload].append(run)
            for runs in results.values():
                print(summarise(runs, results["healthz"]), flush=True)
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        drop()


if __name__ == "__main__":
    main()
