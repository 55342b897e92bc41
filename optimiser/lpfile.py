"""A plan's model as an LP file, written by PuLP, to solve elsewhere (CBC, Gurobi, HiGHS...).

A plan is the lexicographic optimum of two stages (``optimiser.solver``), and an LP file
holds one objective, so the file is one stage:

- ``cost`` (the default): the least cost (cash and penalty, GBP) with the total target
  shortfall held at the plan's least, as the plan's own solve held it. Its optimum is the
  plan's ``objective``.
- ``shortfall``: the least total target shortfall ``Σ_t (sN[t] + sT[t])``, WTE-months. Its
  optimum is the plan's ``least_shortfall_wte_months``.

The model is built again from the plan's stored inputs, which give the same LP.
"""

from __future__ import annotations

import tempfile
import textwrap
from pathlib import Path

from optimiser import model as lp
from optimiser.problem import Problem
from optimiser.solver import cost_stage, shortfall_ceiling, shortfall_stage, zero_shortfall

STAGES = ("cost", "shortfall")


def lp_text(problem: Problem, *, stage: str, least_shortfall: float | None, title: str) -> str:
    """The LP file of ``problem``'s ``stage``, with a comment saying what it is.
    ``least_shortfall`` (WTE-months) is needed for the cost stage."""
    model = lp.build(problem)
    if stage == "cost":
        if least_shortfall is None:
            raise ValueError("the cost stage needs the plan's least shortfall")
        pulp_problem = cost_stage(model, least_shortfall)
        held = (
            "Every target slack (sN_t, sT_t) is held at 0."
            if least_shortfall <= zero_shortfall(model)
            else "The row shortfall_ceiling holds the sum of the target slacks at the least "
            f"shortfall, {least_shortfall:.9g} WTE-months (with a room of "
            f"{shortfall_ceiling(least_shortfall) - least_shortfall:.3g})."
        )
        about = [
            "Stage 2 of 2: the least cost (cash and penalty, GBP) among plans with the least "
            f"total target shortfall. {held} Its optimum is the plan's objective."
        ]
    elif stage == "shortfall":
        pulp_problem = shortfall_stage(model)
        about = [
            "Stage 1 of 2: the least total target shortfall, the sum of the slacks sN_t and "
            "sT_t (WTE-months). Its optimum is the plan's least_shortfall_wte_months."
        ]
    else:
        raise ValueError(f"unknown stage '{stage}': one of {', '.join(STAGES)}")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.lp"
        pulp_problem.writeLP(str(path))
        body = path.read_text()
    header = [
        title,
        f"{model.layout.count} columns, {model.num_rows} rows, written by PuLP.",
        *about,
    ]
    lines = [line for paragraph in header for line in textwrap.wrap(paragraph, 86)]
    return "".join(f"\\ {line}\n" for line in lines) + body
