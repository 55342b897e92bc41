"""Request-scoped dependencies: the database session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from app.db import session_scope


def get_session(request: Request) -> Iterator[Session]:
    """The request's unit of work: services flush, this commits or rolls back."""
    yield from session_scope(request.app.state.sessionmaker)


# scope="function": commit before the response leaves, so a 2xx means the data is stored.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
