"""The schema exists only through migrations: they run both ways, and match the models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, inspect, make_url, text

from app.db import make_engine
from app.models import Base
from tests.conftest import alembic_config


@pytest.fixture
def scratch_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the same kind as the suite's."""
    if not database_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'scratch.db'}"
        return
    parsed = make_url(database_url)
    scratch = parsed.set(database=f"{parsed.database}_scratch")
    admin = create_engine(parsed, isolation_level="AUTOCOMMIT")
    drop = text(f'DROP DATABASE IF EXISTS "{scratch.database}" WITH (FORCE)')
    with admin.connect() as connection:
        connection.execute(drop)
        connection.execute(text(f'CREATE DATABASE "{scratch.database}"'))
    yield scratch.render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(drop)
    admin.dispose()


def tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(scratch_url: str) -> None:
    config = alembic_config(scratch_url)
    model_tables = {table.name for table in Base.metadata.sorted_tables}

    command.upgrade(config, "head")
    assert tables(scratch_url) == model_tables | {"alembic_version"}

    command.downgrade(config, "base")
    assert tables(scratch_url) <= {"alembic_version"}

    command.upgrade(config, "head")
    assert tables(scratch_url) == model_tables | {"alembic_version"}


def test_every_migration_steps_down_and_up_again(scratch_url: str) -> None:
    config = alembic_config(scratch_url)
    revisions = list(ScriptDirectory.from_config(config).walk_revisions("base", "heads"))
    command.upgrade(config, "head")
    for _ in revisions:
        command.downgrade(config, "-1")
    command.upgrade(config, "head")
    assert "alembic_version" in tables(scratch_url)


def test_models_and_migrations_do_not_drift(migrated_engine: Engine) -> None:
    with migrated_engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_single_head() -> None:
    config = alembic_config("sqlite://")
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1
