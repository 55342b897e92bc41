"""Benchmarks that print figures and ratios."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def migrate(url: str, *, demo: bool = False) -> None:
    """Bring the database at ``url`` to the newest schema, as ``make migrate`` does, and
    with ``demo`` load the synthetic demo data into it."""
    from alembic import command
    from alembic.config import Config

    from app.db import make_engine, make_sessionmaker
    from seed.load import load_demo

    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    config.attributes["configure_logging"] = False
    command.upgrade(config, "head")
    if demo:
        engine = make_engine(url)
        with make_sessionmaker(engine)() as session:
            load_demo(session)
            session.commit()
        engine.dispose()
