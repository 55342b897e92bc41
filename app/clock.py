"""The service's one idea of "today", injectable so that tests can set the date.

Everything that depends on the date (which months have ended, so that a return may be
sent for them) asks ``get_today``; a test sets ``app.state.clock`` to a function answering
the date it needs, or overrides ``get_today`` itself.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import Depends, Request

Clock = Callable[[], date]


def system_today() -> date:
    """Today's date in UTC."""
    return datetime.now(UTC).date()


def get_today(request: Request) -> date:
    clock: Clock = getattr(request.app.state, "clock", system_today)
    return clock()


TodayDep = Annotated[date, Depends(get_today)]
