"""Benchmark of a Dantzig-Wolfe decomposition of a multi-region plan against the
monolithic solve.

At England's size, a plan is a set of regions that no pool leaves, joined only by the
system-wide rows: the nursing capacity trajectory, the system's leavers and staff in
post (for the turnover trajectory) and, with an agency reduction, the agency ceiling of
each staff group and month. This bench tries solving such a plan by Dantzig-Wolfe:

- the columns other than the system's (``LS``, ``SS``, ``sN``, ``sT``) fall apart, once
  the joining rows are set aside, into independent components (a region's organisations
  and pools; a unit no pool reaches on its own), binned into ``--blocks`` LPs, each on a
  HiGHS object of its own;
- a master LP over the joining rows and the system's columns takes, for each component,
  a convex combination of its proposals (vertices of its own rows). At each iteration
  every block, priced by the master's duals, is solved from its last basis, the blocks
  in parallel threads (HiGHS releases the GIL), and each component whose vertex has a
  negative reduced cost proposes it;
- the plan's two stages: the least shortfall (an agency ceiling may give way at
  ``ARTIFICIAL_COST`` a WTE until the proposals keep it), then the least cost with the
  shortfall held as the plan holds it (``optimiser.solver``), the first stage's
  proposals kept. In the cost stage every joining row may give way at a box price
  (from ``BOX_PRICE``, a hundred times higher each time it is used): with the shortfall
  held at its least, the target rows' prices run to 1e9 GBP and more, and a master of
  few proposals prices them beyond what the blocks' simplex takes. Each stage ends when
  the master's objective is within ``--gap`` (relative) of the Lagrangian bound (the
  master's value plus every component's negative reduced costs).

The agency and unfilled columns are bounded above by twice the unit's largest
establishment (plus 10 WTE), so that a priced block always has a vertex; the bench says
whether any such bound is reached at the monolithic plan (if none is, the two LPs have
the same optimum).

It solves the model whole first (``optimiser.solver.run_highs``, the plan's two stages),
then decomposed, printing every tenth iteration's master objective, bound and time, and
ends with both times, both stages' optima, their relative gaps and the decomposed plan's
largest violation of the whole model's rows. Run: ``python bench/decompose.py
[--organisations 56] [--pools 56] [--months 60] [--blocks 2] [--gap 1e-9]
[--max-iterations 5000] [--time-limit 1800]``; over 40 pools make more than 10 places,
grouped seven to a region (``optimiser.examples.generate``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import highspy
import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from optimiser.examples import generate
from optimiser.model import Model, build
from optimiser.solver import run_highs, shortfall_ceiling, zero_shortfall

SEED = 20261123
JOINING = ("agency_ceiling", "system_totals", "nursing_trajectory", "turnover_trajectory")
INF = highspy.kHighsInf
ARTIFICIAL_COST = 1e4  # per WTE over an agency ceiling, in the shortfall stage
COST_UNIT = 1e6  # GBP per unit of the master's objective in the cost stage
BOX_PRICE = 1e7  # the most a joining row's price may reach in the cost stage, GBP


@dataclass
class Block:
    """A bin of components, solved as one LP on a HiGHS object of its own; each
    component ("part") proposes its own vertices to the master."""

    columns: np.ndarray
    parts: list[tuple[int, np.ndarray]]  # per component: its convexity row, local columns
    cost: np.ndarray  # the cost stage's cost of its columns
    joining: sparse.csc_matrix  # joining rows x its columns
    highs: Any


@dataclass
class Proposal:
    block: Block
    local: np.ndarray  # the component's columns within the block
    values: np.ndarray
    column: int  # in the master


def quiet_highs() -> Any:
    highs = highspy.Highs()  # type: ignore[no-untyped-call]
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("threads", 1)
    return highs


def constraint_matrix(model: Model) -> sparse.csc_matrix:
    """The model's rows as a SciPy matrix, from the arrays HiGHS takes."""
    return sparse.csc_matrix(
        (model.a_value, model.a_index, model.a_start), shape=(model.num_rows, model.layout.count)
    )


def split(model: Model, blocks: int) -> tuple[np.ndarray, np.ndarray, list[list[np.ndarray]]]:
    """The joining rows, the system's columns, and the other columns as independent
    components in ``blocks`` bins (largest first, each to the bin with fewest columns)."""
    layout = model.layout
    joining = np.zeros(model.num_rows, dtype=bool)
    for family in JOINING:
        if family in model.family_rows:
            start, end = model.family_rows[family]
            joining[start:end] = True
    system = np.concatenate([layout.system_leavers, layout.system_staff, layout.slacks])
    matrix = constraint_matrix(model)
    own = np.ones(layout.count, dtype=bool)
    own[system] = False
    local = matrix[~joining][:, own].tocoo()
    rows, cols = local.shape
    graph = sparse.coo_matrix(
        (np.ones(local.nnz), (local.col, cols + local.row)), shape=(cols + rows, cols + rows)
    )
    _count, label = csgraph.connected_components(graph, directed=False)
    own_columns = np.nonzero(own)[0]
    component = label[:cols]
    members: dict[int, list[int]] = {}
    for column, c in zip(own_columns.tolist(), component.tolist(), strict=True):
        members.setdefault(c, []).append(column)
    bins: list[list[np.ndarray]] = [[] for _ in range(blocks)]
    for group in sorted(members.values(), key=len, reverse=True):
        min(bins, key=lambda b: sum(len(c) for c in b)).append(np.array(group, dtype=np.int64))
    return np.nonzero(joining)[0], system, bins


def block_lp(
    model: Model, components: list[np.ndarray], first_part: int, joining_rows: np.ndarray
) -> Block:
    """The block's own rows (those of no joining family that touch its columns), with
    its agency and unfilled columns bounded (see the module's docstring)."""
    matrix = constraint_matrix(model)
    columns = np.concatenate(components)
    ends = np.cumsum([len(c) for c in components])
    parts = [
        (first_part + i, np.arange(end - len(c), end))
        for i, (c, end) in enumerate(zip(components, ends, strict=True))
    ]
    sub = matrix[:, columns]
    is_joining = np.zeros(model.num_rows, dtype=bool)
    is_joining[joining_rows] = True
    touched = np.unique(sub.indices)
    own_rows = touched[~is_joining[touched]]
    local = sub[own_rows].tocsc()
    upper = model.col_upper[columns].copy()
    bound = unit_bounds(model)
    bounded = np.isin(columns, np.nonzero(np.isfinite(bound))[0])
    upper[bounded] = bound[columns[bounded]]
    highs = quiet_highs()
    lp = highspy.HighsLp()
    lp.num_col_ = len(columns)
    lp.num_row_ = len(own_rows)
    lp.col_cost_ = model.cost[columns]
    lp.col_lower_ = model.col_lower[columns]
    lp.col_upper_ = upper
    lp.row_lower_ = model.row_lower[own_rows]
    lp.row_upper_ = model.row_upper[own_rows]
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = local.indptr.astype(np.int32)
    lp.a_matrix_.index_ = local.indices.astype(np.int32)
    lp.a_matrix_.value_ = local.data
    highs.passModel(lp)
    return Block(
        columns=columns,
        parts=parts,
        cost=model.cost[columns],
        joining=matrix[joining_rows][:, columns].tocsc(),
        highs=highs,
    )


def unit_bounds(model: Model) -> np.ndarray:
    """Per column: twice the unit's largest establishment plus 10 WTE on agency and
    unfilled columns, infinity elsewhere."""
    layout = model.layout
    bound = np.full(layout.count, INF)
    per_unit = 2 * model.data.establishment.max(axis=1) + 10
    for block in (layout.agency, layout.unfilled):
        bound[block] = np.repeat(per_unit, layout.months).reshape(block.shape)
    return bound


def first_vertex(model: Model, block: Block, joining_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """A first vertex of each component that keeps the agency ceilings: its own least
    cost with each unit's agency at most ``(1 - alpha)`` of its base month's, which
    keeps every ceiling (the sum of the units' limits); the master then starts feasible
    rather than paying its way out of the ceilings' artificials."""
    alpha = model.problem.targets.agency_reduction
    if alpha is None:
        return propose(block, np.zeros(joining_rows), block.cost)
    layout = model.layout
    limit = np.full(layout.count, INF)
    limit[layout.agency] = np.repeat((1 - alpha) * model.data.agency0, layout.months).reshape(
        layout.agency.shape
    )
    local = np.nonzero(np.isfinite(limit[block.columns]))[0].astype(np.int32)
    lower = np.zeros(len(local))
    block.highs.changeColsBounds(len(local), local, lower, limit[block.columns[local]])
    found = propose(block, np.zeros(joining_rows), block.cost)
    block.highs.changeColsBounds(len(local), local, lower, unit_bounds(model)[block.columns[local]])
    return found


def propose(
    block: Block, prices: np.ndarray, stage_cost: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The block's cheapest vertex at ``stage_cost`` less the joining rows' prices: its
    priced cost per column, and its values."""
    cost = stage_cost - block.joining.T @ prices
    n = len(block.columns)
    block.highs.changeColsCost(n, np.arange(n, dtype=np.int32), cost)
    run = block.highs.run()
    if block.highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        raise RuntimeError(f"a block ended {block.highs.getModelStatus()} ({run})")
    return cost, np.array(block.highs.getSolution().col_value)


@dataclass
class Master:
    highs: Any
    joining_rows: int
    blocks: int
    system_columns: int
    artificials: int
    # GBP (or WTE-months) per unit of the master's objective: the cost stage counts in
    # millions, so that box prices of 1e9 GBP and more stay within HiGHS's tolerances.
    unit: float = 1.0
    proposals: list[Proposal] = field(default_factory=list)
    cash: list[float] = field(default_factory=list)  # per proposal, its cost stage cost


def master_lp(model: Model, joining_rows: np.ndarray, system: np.ndarray, blocks: int) -> Master:
    """Joining rows, then one convexity row per component (``blocks`` of them); the
    system's columns, then an artificial per agency ceiling row (its excess, at
    ``ARTIFICIAL_COST``)."""
    matrix = constraint_matrix(model)
    highs = quiet_highs()
    highs.setOptionValue("simplex_strategy", 4)  # primal: columns come and go on prices
    # A small LP with box prices of 1e9 and more: after presolve, the postsolved basis
    # was left with dual infeasibilities of 1e-3 on costs of 1e9, and no answer.
    highs.setOptionValue("presolve", "off")
    m = len(joining_rows)
    highs.addRows(
        m + blocks,
        np.concatenate([model.row_lower[joining_rows], np.ones(blocks)]),
        np.concatenate([model.row_upper[joining_rows], np.ones(blocks)]),
        0,
        np.zeros(1, np.int32),
        np.zeros(0, np.int32),
        np.zeros(0),
    )
    sub = matrix[joining_rows][:, system].tocsc()
    highs.addCols(
        len(system),
        model.shortfall_cost[system],
        model.col_lower[system],
        model.col_upper[system],
        sub.nnz,
        sub.indptr[:-1].astype(np.int32),
        sub.indices.astype(np.int32),
        sub.data,
    )
    ceilings = np.zeros(0, dtype=np.int64)
    if "agency_ceiling" in model.family_rows:
        start, end = model.family_rows["agency_ceiling"]
        ceilings = np.nonzero((joining_rows >= start) & (joining_rows < end))[0]
    k = len(ceilings)
    if k:
        highs.addCols(
            k,
            np.full(k, ARTIFICIAL_COST),
            np.zeros(k),
            np.full(k, INF),
            k,
            np.arange(k, dtype=np.int32),
            ceilings.astype(np.int32),
            -np.ones(k),
        )
    return Master(highs, m, blocks, len(system), k)


def add_proposal(
    master: Master, block: Block, part: tuple[int, np.ndarray], values: np.ndarray, cost: float
) -> None:
    convexity, local = part
    column = block.joining[:, local] @ values[local]
    rows = np.nonzero(column)[0]
    index = master.highs.getNumCol()
    master.highs.addCol(
        cost / master.unit,
        0.0,
        INF,
        len(rows) + 1,
        np.concatenate([rows, [master.joining_rows + convexity]]).astype(np.int32),
        np.concatenate([column[rows], [1.0]]),
    )
    master.proposals.append(Proposal(block, local, values[local].copy(), index))
    master.cash.append(float(block.cost[local] @ values[local]))


def stage(
    master: Master,
    blocks: list[Block],
    costs: list[np.ndarray],
    *,
    gap: float,
    max_iterations: int,
    deadline: float,
    pool: ThreadPoolExecutor,
    name: str,
) -> tuple[float, int]:
    """Column generation to within ``gap``: the master's optimum and the iterations."""
    started = time.perf_counter()
    for iteration in range(1, max_iterations + 1):
        master.highs.run()
        if master.highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            # Box prices of 1e9 and more can leave the warm primal simplex short of an
            # answer: once more from scratch by the dual simplex.
            master.highs.clearSolver()
            master.highs.setOptionValue("simplex_strategy", 1)
            master.highs.run()
            master.highs.setOptionValue("simplex_strategy", 4)
        if master.highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(
                f"{name} stage: the master ended {master.highs.getModelStatus()} at iteration"
                f" {iteration}"
            )
        solution = master.highs.getSolution()
        value = master.highs.getInfo().objective_function_value * master.unit
        duals = np.array(solution.row_dual) * master.unit
        prices, convexity = duals[: master.joining_rows], duals[master.joining_rows :]
        found = list(pool.map(propose, blocks, [prices] * len(blocks), costs))
        bound, added = value, 0
        for block, stage_cost, (priced, values) in zip(blocks, costs, found, strict=True):
            for part in block.parts:
                convex, local = part
                reduced = float(priced[local] @ values[local]) - convexity[convex]
                bound += min(0.0, reduced)
                if reduced < -1e-9 * max(1.0, abs(value)):
                    add_proposal(
                        master, block, part, values, float(stage_cost[local] @ values[local])
                    )
                    added += 1
        elapsed = time.perf_counter() - started
        done = value - bound <= gap * max(1.0, abs(value)) or not added
        if iteration == 1 or iteration % 10 == 0 or done:
            print(
                f"  {name} {iteration:4d}: master {value:.9g}  bound {bound:.9g}  "
                f"{added} columns added  {elapsed:7.1f} s",
                flush=True,
            )
        if done:
            return value, iteration
        if time.perf_counter() > deadline:
            raise RuntimeError(
                f"{name} stage: at the time limit after {iteration} iterations, master {value:.9g},"
                f" bound {bound:.9g} (gap {(value - bound) / max(1.0, abs(value)):.1e})"
            )
    raise RuntimeError(f"{name} stage: no convergence in {max_iterations} iterations")


def decompose(
    model: Model, *, blocks: int, gap: float, max_iterations: int, time_limit_s: float
) -> dict[str, Any]:
    started = time.perf_counter()
    deadline = started + time_limit_s
    joining_rows, system, bins = split(model, blocks)
    built, first_part = [], 0
    for components in bins:
        built.append(block_lp(model, components, first_part, joining_rows))
        first_part += len(components)
    master = master_lp(model, joining_rows, system, first_part)
    split_s = time.perf_counter() - started
    print(
        f"  {len(joining_rows)} joining rows; {first_part} components in blocks of "
        + ", ".join(f"{len(b.columns):,}" for b in built)
        + f" columns; split and built in {split_s:.1f} s",
        flush=True,
    )
    zero = [np.zeros(len(b.columns)) for b in built]
    with ThreadPoolExecutor(max_workers=len(built)) as pool:
        first = list(pool.map(lambda b: first_vertex(model, b, len(joining_rows)), built))
        for block, (_, values) in zip(built, first, strict=True):
            for part in block.parts:
                add_proposal(master, block, part, values, 0.0)
        shortfall, first_iterations = stage(
            master,
            built,
            zero,
            gap=gap,
            max_iterations=max_iterations,
            deadline=deadline,
            pool=pool,
            name="shortfall",
        )
        excess = np.array(master.highs.getSolution().col_value)[
            master.system_columns : master.system_columns + master.artificials
        ]
        if excess.sum() > 1e-6:
            raise RuntimeError("the agency ceilings cannot be kept")
        highs = master.highs
        slacks = np.nonzero(model.shortfall_cost[system])[0].astype(np.int32)
        # The cost stage: the shortfall held, the artificials at zero, the cash as cost.
        held = 0.0 if shortfall <= zero_shortfall(model) else shortfall_ceiling(shortfall)
        highs.addRow(-INF, held, len(slacks), slacks, np.ones(len(slacks)))
        if master.artificials:
            artificial = np.arange(
                master.system_columns, master.system_columns + master.artificials, dtype=np.int32
            )
            highs.changeColsBounds(
                len(artificial), artificial, np.zeros(len(artificial)), np.zeros(len(artificial))
            )
        master.unit = COST_UNIT
        highs.changeColsCost(
            len(system), np.arange(len(system), dtype=np.int32), model.cost[system] / COST_UNIT
        )
        columns = np.array([p.column for p in master.proposals], dtype=np.int32)
        highs.changeColsCost(len(columns), columns, np.array(master.cash) / COST_UNIT)
        box = box_prices(master, model, joining_rows)
        price, second_iterations = BOX_PRICE, 0
        while True:
            objective, iterations = stage(
                master,
                built,
                [b.cost for b in built],
                gap=gap,
                max_iterations=max_iterations,
                deadline=deadline,
                pool=pool,
                name="cost",
            )
            second_iterations += iterations
            given = np.array(highs.getSolution().col_value)[box]
            if given.max(initial=0.0) <= 1e-9:
                break
            price *= 100
            print(f"  the joining rows gave way by {given.sum():.3g}: box price now {price:.0e}")
            highs.changeColsCost(len(box), box, np.full(len(box), price / COST_UNIT))
    return {
        "seconds": time.perf_counter() - started,
        "shortfall": shortfall,
        "objective": objective,
        "iterations": (first_iterations, second_iterations),
        "proposals": len(master.proposals),
        "plan": recover(model, master, system),
    }


def recover(model: Model, master: Master, system: np.ndarray) -> np.ndarray:
    """The plan's columns: each component's convex combination of its proposals."""
    weights = np.array(master.highs.getSolution().col_value)
    plan = np.zeros(model.layout.count)
    plan[system] = weights[: master.system_columns]
    for proposal in master.proposals:
        plan[proposal.block.columns[proposal.local]] += weights[proposal.column] * proposal.values
    return plan


def box_prices(master: Master, model: Model, joining_rows: np.ndarray) -> np.ndarray:
    """Columns that let every joining row give way at ``BOX_PRICE`` a unit, which bounds
    its price by it: with the shortfall held at its least, the master's few proposals
    otherwise price the target rows at 1e15 and more, beyond what the blocks' simplex
    takes. Their values must end at zero for the master's plan to be the plan."""
    lower = np.isfinite(model.row_lower[joining_rows])
    upper = np.isfinite(model.row_upper[joining_rows])
    rows = np.concatenate([np.nonzero(lower)[0], np.nonzero(upper)[0]]).astype(np.int32)
    signs = np.concatenate([np.ones(lower.sum()), -np.ones(upper.sum())])
    first = master.highs.getNumCol()
    k = len(rows)
    master.highs.addCols(
        k,
        np.full(k, BOX_PRICE / master.unit),
        np.zeros(k),
        np.full(k, INF),
        k,
        np.arange(k, dtype=np.int32),
        rows,
        signs,
    )
    return np.arange(first, first + k, dtype=np.int32)


def violation(model: Model, plan: np.ndarray) -> float:
    """The plan's largest violation of a row or a column bound of the whole model."""
    matrix = constraint_matrix(model)
    activity = matrix @ plan
    rows = np.maximum(model.row_lower - activity, activity - model.row_upper)
    return float(max(rows.max(initial=0.0), (-plan).max(initial=0.0)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--organisations", type=int, default=56)
    parser.add_argument("--pools", type=int, default=56)
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--blocks", type=int, default=2)
    parser.add_argument("--gap", type=float, default=1e-9)
    parser.add_argument("--max-iterations", type=int, default=5000)
    parser.add_argument("--time-limit", type=float, default=1800)
    args = parser.parse_args()
    problem = generate(
        organisations=args.organisations, pools=args.pools, months=args.months, seed=SEED
    )
    model = build(problem)
    print(
        f"{args.organisations} organisations, {args.pools} pools, {args.months} months: "
        f"{model.layout.count:,} columns, {model.num_rows:,} rows, {model.nonzeros:,} non-zeros",
        flush=True,
    )
    started = time.perf_counter()
    whole = run_highs(model, time_limit_s=args.time_limit, threads=1, stages=2)
    whole_s = time.perf_counter() - started
    if whole.values is None or whole.shortfall is None or whole.objective is None:
        sys.exit(f"monolithic: {whole.status.value} in {whole_s:.1f} s, no plan to compare with")
    bound = unit_bounds(model)
    reached = int(np.sum(np.isfinite(bound) & (whole.values >= bound - 1e-6)))
    print(
        f"monolithic: {whole.status.value} in {whole_s:.1f} s; shortfall {whole.shortfall:.9g}, "
        f"cost {whole.objective:.9g}; the blocks' bounds reached at its plan: {reached}",
        flush=True,
    )
    print("decomposition:", flush=True)
    try:
        ours = decompose(
            model,
            blocks=args.blocks,
            gap=args.gap,
            max_iterations=args.max_iterations,
            time_limit_s=args.time_limit,
        )
    except RuntimeError as stopped:
        print(f"decomposition stopped: {stopped}")
        return
    plan = ours["plan"]
    print(
        f"decomposition: {ours['seconds']:.1f} s, {ours['iterations'][0]} + "
        f"{ours['iterations'][1]} iterations, {ours['proposals']:,} proposals; "
        f"shortfall {ours['shortfall']:.9g}, cost {ours['objective']:.9g}; its plan's cost "
        f"{model.cost @ plan:.9g}, largest violation {violation(model, plan):.1e}"
    )
    shortfall_gap = abs(ours["shortfall"] - whole.shortfall) / max(1.0, whole.shortfall)
    cost_gap = abs(ours["objective"] - whole.objective) / abs(whole.objective)
    print(
        f"relative gap: shortfall {shortfall_gap:.2e}, cost {cost_gap:.2e}; "
        f"time, decomposition / monolithic: {ours['seconds'] / whole_s:.1f}"
    )


if __name__ == "__main__":
    main()
