"""The declarative base, the engine and the request-scoped session."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import DateTime, Dialect, Engine, MetaData, create_engine, event, exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from app.errors import ServiceUnavailable

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """A time-zone-aware timestamp, read back as UTC even where SQLite drops the zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given for a time-zone-aware column")
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime()}


def utcnow() -> datetime:
    return datetime.now(UTC)


def make_engine(
    url: str,
    *,
    busy_timeout_s: float = 30.0,
    connect_timeout_s: float = 10.0,
    **kwargs: Any,
) -> Engine:
    """An engine for ``url``. SQLite gets foreign keys, WAL and write-serialising transactions.

    SQLite has no ``SELECT ... FOR UPDATE``: a transaction opened by ``begin_write`` (or the
    first transaction of a session opened by ``open_as_writer``) starts with ``BEGIN
    IMMEDIATE``, so that two writers queue for up to ``busy_timeout_s`` instead of both
    reading the same latest revision, or one failing at once with "database is locked" when
    it turns from reader to writer; other transactions are plain reads, which WAL lets run
    alongside. On PostgreSQL, a connection attempt gives up after ``connect_timeout_s``.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
        if parsed.get_backend_name() == "postgresql":
            connect_args = {"connect_timeout": max(1, round(connect_timeout_s))}
            kwargs["connect_args"] = {**connect_args, **kwargs.get("connect_args", {})}
        return create_engine(url, **kwargs)

    in_memory = not parsed.database or parsed.database == ":memory:"
    if not in_memory:
        Path(parsed.database or "").parent.mkdir(parents=True, exist_ok=True)
    else:
        # One connection shared by every thread: pool sizes do not apply.
        for option in ("pool_size", "max_overflow", "pool_timeout"):
            kwargs.pop(option, None)
    engine = create_engine(
        url, connect_args={"timeout": busy_timeout_s, "check_same_thread": False}, **kwargs
    )
    busy_timeout_ms = round(busy_timeout_s * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy's BEGIN below take over
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(WRITE_TRANSACTION):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")

    return engine


WRITE_TRANSACTION = "workforce_write_transaction"


def begin_write(session: Session) -> None:
    """End what the session has read so far and open a write transaction.

    On SQLite the transaction takes the database's write lock at once (``BEGIN
    IMMEDIATE``); on PostgreSQL it is an ordinary transaction and rows are locked with
    ``SELECT ... FOR UPDATE``. Call it before reading what a write depends on.
    """
    if session.in_transaction():
        session.commit()
    session.connection(execution_options={WRITE_TRANSACTION: True})


def open_as_writer(session: Session) -> None:
    """Make the session's first transaction a write transaction, begun when the session
    first touches the database (not now: a request that fails before then never waits
    for the lock).

    For a request that writes: on SQLite a transaction that begins as a reader and then
    writes cannot wait for the write lock (the busy timeout does not apply when another
    writer committed since it began) and fails with "database is locked". Beginning it
    with ``BEGIN IMMEDIATE`` makes concurrent writers queue instead. Transactions after
    the first commit are plain again: code that writes after committing (a plan's request
    waiting for its solve) calls ``begin_write``. No effect on other databases.
    """
    engine = session.get_bind()
    if not isinstance(engine, Engine) or engine.dialect.name != "sqlite":
        return
    session.bind = engine.execution_options(**{WRITE_TRANSACTION: True})

    def _plain_again(_session: Session) -> None:
        session.bind = engine

    event.listen(session, "after_commit", _plain_again, once=True)


def upsert(session: Session, table: Any) -> Any:
    """``INSERT`` for ``table`` with the database's ``ON CONFLICT`` clauses (PostgreSQL
    and SQLite spell them alike)."""
    dialect: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


def session_scope(factory: sessionmaker[Session], *, write: bool = False) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error. With ``write``, the
    first transaction takes SQLite's write lock when it begins (see ``open_as_writer``)."""
    session = factory()
    if write:
        open_as_writer(session)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


DATABASE_RETRY_AFTER_S = 5
BUSY_RETRY_AFTER_S = 1


def unavailable(error: BaseException) -> ServiceUnavailable | None:
    """The 503 for an error that says the database cannot serve now (down, unreachable,
    its connections all taken, SQLite's write lock held too long), or None."""
    if isinstance(error, exc.TimeoutError):
        return ServiceUnavailable(
            "The service is busy: no database connection came free in time; try again shortly.",
            retry_after_s=BUSY_RETRY_AFTER_S,
        )
    if isinstance(error, exc.OperationalError) and "database is locked" in str(error.orig):
        return ServiceUnavailable(
            "The database is busy with other writes; try again shortly. Nothing was stored.",
            retry_after_s=BUSY_RETRY_AFTER_S,
        )
    if isinstance(error, exc.OperationalError | exc.InterfaceError) or (
        isinstance(error, exc.DBAPIError) and error.connection_invalidated
    ):
        return ServiceUnavailable(
            "The database cannot be reached; try again shortly. Nothing was stored.",
            retry_after_s=DATABASE_RETRY_AFTER_S,
        )
    return None
