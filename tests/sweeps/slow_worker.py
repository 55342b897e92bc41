"""A Celery worker app for the tests: the real one, each solve slowed by
``SWEEP_TEST_SOLVE_DELAY_S`` so that a test can kill a worker in the middle of one.

Started as ``celery -A tests.sweeps.slow_worker worker``.
"""

from __future__ import annotations

import os
import time
from typing import Any

from app.plans import solving
from app.plans.tasks import app

_solve_inputs = solving.solve_inputs


def _slow_solve_inputs(inputs: dict[str, Any], **options: Any) -> solving.Solved:
    time.sleep(float(os.environ.get("SWEEP_TEST_SOLVE_DELAY_S", "0")))
    return _solve_inputs(inputs, **options)


solving.solve_inputs = _slow_solve_inputs

__all__ = ["app"]
