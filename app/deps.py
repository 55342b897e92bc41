"""Request-scoped dependencies: the database session and the app's settings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import session_scope

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_session(request: Request) -> Iterator[Session]:
    """The request's unit of work: services flush, this commits or rolls back.

    The session takes a pooled connection only when it first touches the database, and
    gives it back when the handler returns, before the response is sent; the token is
    checked in a session of its own (``app.auth``). A request that may write begins as
    a writer (SQLite's ``BEGIN IMMEDIATE``), so that concurrent writers queue.
    """
    yield from session_scope(
        request.app.state.sessionmaker, write=request.method not in READ_ONLY_METHODS
    )


# scope="function": commit before the response leaves, so a 2xx means the data is stored.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_app_settings(request: Request) -> Settings:
    """The settings the app was made with (tests make apps with settings of their own)."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
