"""The plans tests' small system, reused: two organisations and a pool, solvable by hand."""

from tests.plans.test_plans import planner, small_system

__all__ = ["planner", "small_system"]
