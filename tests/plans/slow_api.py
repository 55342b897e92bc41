"""The API for the process tests: ``python -m tests.plans.slow_api PORT``.

Each solve first sleeps ``SLOW_API_SOLVE_DELAY_S`` seconds, so that a test can stop the
API while a worker is in the middle of one (with ``fork`` the workers inherit the delay).
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import uvicorn

from app.plans import solving

_solve_inputs = solving.solve_inputs


def _slow_solve_inputs(inputs: dict[str, Any], **options: Any) -> solving.Solved:
    time.sleep(float(os.environ.get("SLOW_API_SOLVE_DELAY_S", "0")))
    return _solve_inputs(inputs, **options)


solving.solve_inputs = _slow_solve_inputs

if __name__ == "__main__":
    uvicorn.run("app.main:app", host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
