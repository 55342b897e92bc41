"""The test harness: one database per session, built by ``alembic upgrade head``.

``TEST_DATABASE_URL`` selects the database (a PostgreSQL URL in CI's second run); without
it each test session gets a fresh SQLite file. Every test starts from empty tables
(reference data reloaded), so tests never see each other's rows.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from app.auth import Scope
from app.config import Settings
from app.db import make_engine, make_sessionmaker, session_scope
from app.main import create_app
from app.models import Base
from app.tokens.service import create_token
from seed.load import load_reference

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = url
    config.attributes["configure_logging"] = False
    return config


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker is None or not url.startswith("postgresql"):
        yield url
        return
    # Parallel workers each get a database of their own beside the one given.
    parsed = make_url(url)
    own = parsed.set(database=f"{parsed.database}_{worker}")
    admin = create_engine(parsed, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{own.database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{own.database}"'))
    yield own.render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{own.database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def is_postgres(database_url: str) -> bool:
    return database_url.startswith("postgresql")


@pytest.fixture(scope="session")
def migrated_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    with engine.begin() as connection:
        # A previous, interrupted run may have left tables behind: start from nothing.
        Base.metadata.drop_all(connection)
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    command.upgrade(alembic_config(database_url), "head")
    yield engine
    engine.dispose()


def _truncate(engine: Engine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def engine(migrated_engine: Engine) -> Engine:
    """The migrated database, emptied and loaded with the reference data."""
    _truncate(migrated_engine)
    for session in session_scope(make_sessionmaker(migrated_engine)):
        load_reference(session)
    return migrated_engine


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(engine)


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A session for arranging and checking data directly; commits at the end of the test."""
    yield from session_scope(sessions)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        log_requests=False,
        log_level="WARNING",
        # Forked workers start in milliseconds; the spawn default is tested on its own.
        plan_start_method="fork",
        plan_prewarm=False,
        plan_wait_s=30,
    )


@pytest.fixture
def app(engine: Engine, settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """An unauthenticated client; see ``token`` and ``auth`` for credentials."""
    with TestClient(app) as test_client:
        yield test_client


TokenFactory = Callable[..., str]


@pytest.fixture
def make_token(sessions: sessionmaker[Session]) -> TokenFactory:
    """``make_token("read")`` or ``make_token("returns:write", organisation="RHM")``."""

    def make(*scopes: str, organisation: str | None = None, name: str = "test") -> str:
        for session in session_scope(sessions):
            _row, value = create_token(
                session,
                name=name,
                scopes=[Scope(s) for s in scopes],
                organisation=organisation,
            )
        return value

    return make


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def admin_headers(make_token: TokenFactory) -> dict[str, str]:
    return bearer(make_token("admin"))


@pytest.fixture
def reader_headers(make_token: TokenFactory) -> dict[str, str]:
    return bearer(make_token("read"))


@pytest.fixture
def writer_headers(make_token: TokenFactory) -> Callable[[str], dict[str, str]]:
    """``writer_headers("RHM")``: a ``returns:write`` token of that organisation."""

    def make(organisation: str) -> dict[str, str]:
        return bearer(make_token("returns:write", organisation=organisation, name=organisation))

    return make


def line(staff_group: str = "NURSE", **overrides: Any) -> dict[str, Any]:
    """A valid return line, with any field overridden."""
    values: dict[str, Any] = {
        "staff_group": staff_group,
        "establishment_wte": 1200.5,
        "staff_in_post_wte": 1050,
        "starters_wte": 12.5,
        "leavers_wte": 11,
        "bank_wte": 60.25,
        "agency_wte": 20,
    }
    values.update(overrides)
    return values
