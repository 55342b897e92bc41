"""The database goes away and comes back: every endpoint that needs it answers 503 with
Retry-After meanwhile, and the service recovers without a restart.

The test starts a PostgreSQL cluster of its own (``initdb`` and ``pg_ctl`` from
/usr/lib/postgresql/*/bin, in a temporary directory, on a free port) and stops it; it is
skipped, saying why, when those programs are absent.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from alembic import command

from app.auth import Scope
from app.config import Settings
from app.db import make_engine, make_sessionmaker, session_scope
from app.main import create_app
from app.tokens.service import create_token
from seed.load import load_reference
from tests.conftest import alembic_config, bearer
from tests.serving import served

PARAMETER = re.compile(r"\{([^}]+)\}")
FAST_S = 5.0


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Cluster:
    """A private PostgreSQL cluster: never the machine's own on 5432."""

    bin_dir: Path
    directory: Path
    port: int
    run_as: list[str]

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        subprocess.run([*self.run_as, *args], check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} "
            "-c fsync=off -c max_connections=60"
        )
        self._run(
            str(self.bin_dir / "pg_ctl"),
            "-D",
            str(self.directory / "data"),
            "-o",
            options,
            "-l",
            str(self.directory / "log"),
            "-w",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(
            str(self.bin_dir / "pg_ctl"), "-D", str(self.directory / "data"), "-m", mode, "stop"
        )


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    bin_dir = _bin_dir()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server programs in /usr/lib/postgresql/*/bin")
    run_as: list[str] = []
    directory = Path(tempfile.mkdtemp(prefix="workforce-faults-"))
    if os.geteuid() == 0:
        # PostgreSQL refuses to run as root: run it as the postgres user.
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(directory)
            pytest.skip("running as root and there is no postgres user to run PostgreSQL")
        if shutil.which("runuser") is None:
            shutil.rmtree(directory)
            pytest.skip("running as root without runuser to run PostgreSQL as postgres")
        os.chown(directory, owner.pw_uid, owner.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    found = Cluster(bin_dir=bin_dir, directory=directory, port=_free_port(), run_as=run_as)
    subprocess.run(
        [
            *run_as,
            str(bin_dir / "initdb"),
            "-D",
            str(directory / "data"),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    found.start()
    try:
        yield found
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            found.stop("immediate")
        shutil.rmtree(directory, ignore_errors=True)


def _admin_token(url: str) -> str:
    command.upgrade(alembic_config(url), "head")
    engine = make_engine(url)
    for session in session_scope(make_sessionmaker(engine)):
        load_reference(session)
        _row, value = create_token(session, name="admin", scopes=[Scope.ADMIN], organisation=None)
    engine.dispose()
    return value


def _operations(schema: dict[str, object]) -> list[tuple[str, str]]:
    """Every operation of the OpenAPI document with example values in its path."""
    examples = {"period": "2024-04", "revision": "1", "code": "RHM", "place": "Southampton"}
    found: list[tuple[str, str]] = []
    paths = schema["paths"]
    assert isinstance(paths, dict)
    for template, operations in paths.items():
        path = PARAMETER.sub(lambda m: examples.get(m.group(1), "x"), template)
        found.extend((method.upper(), path) for method in operations)
    return found


def _walk(base_url: str, headers: dict[str, str]) -> dict[tuple[str, str], httpx.Response]:
    schema = httpx.get(f"{base_url}/openapi.json").json()
    answers = {}
    with httpx.Client(base_url=base_url, headers=headers, timeout=15) as client:
        for method, path in _operations(schema):
            if path in ("/healthz", "/readyz"):
                continue
            body: dict[str, object] | None = {} if method in ("POST", "PUT", "PATCH") else None
            started = time.perf_counter()
            answers[(method, path)] = response = client.request(method, path, json=body)
            assert time.perf_counter() - started < FAST_S, (method, path)
            assert response.status_code != 500, (method, path, response.text)
    return answers


def test_the_database_going_away_gives_503_and_coming_back_needs_no_restart(
    cluster: Cluster, settings: Settings
) -> None:
    admin = bearer(_admin_token(cluster.url))
    own = settings.model_copy(update={"database_url": cluster.url, "max_concurrent_requests": 4})
    with served(create_app(own)) as url, httpx.Client(base_url=url, timeout=15) as client:
        assert client.get("/v1/staff-groups", headers=admin).status_code == 200
        assert client.get("/readyz").status_code == 200

        cluster.stop()
        down = _walk(url, admin)
        wrong = {
            key: (r.status_code, r.headers.get("retry-after"), r.headers.get("content-type"))
            for key, r in down.items()
            if r.status_code != 503
            or not r.headers.get("retry-after", "").isdigit()
            or not r.headers["content-type"].startswith("application/problem+json")
        }
        assert len(down) > 20
        assert wrong == {}
        assert "database" in down[("GET", "/v1/staff-groups")].json()["detail"]
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 503

        cluster.start()
        deadline = time.monotonic() + 20
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "the service did not recover"
            time.sleep(0.2)
        up = _walk(url, admin)
        assert [key for key, r in up.items() if r.status_code == 503] == []
        assert client.get("/v1/staff-groups", headers=admin).status_code == 200
