"""Keeping ``unit_totals``: what one return's lines add to the totals of its organisation
and its place, in its month and in the 12-month windows that contain it.

A new revision applies the difference between its lines and the lines it replaces, as
additions in the database (so concurrent returns of different organisations add up
without reading each other's rows); moving an organisation to another place moves its
totals; ``rebuild`` computes the whole table from ``latest_lines``, for migrations and
bulk loads.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import delete, insert, or_, select, text, update
from sqlalchemy.orm import Session

from app.db import upsert
from app.metrics.models import UnitTotal
from app.organisations.models import Organisation, StaffGroup
from app.periods import from_index, month_index
from app.returns.models import LatestLine
from app.returns.schemas import LINE_FIELDS as RETURN_LINE_FIELDS

ALL_GROUPS = "*"
WINDOW = 12
POINT_FIELDS = tuple(name for name in RETURN_LINE_FIELDS if name.endswith("_wte"))
SPEND_FIELDS = tuple(name for name in RETURN_LINE_FIELDS if name.endswith("_spend_gbp"))
LINE_FIELDS = ("staff_group", *POINT_FIELDS, *SPEND_FIELDS)
# What a month adds to every window containing it.
WINDOWED = {
    "leavers_wte": "window_leavers_wte",
    "staff_in_post_wte": "window_staff_in_post_wte",
    "returned": "window_returned",
    "synthetic": "window_synthetic",
}
COLUMNS = tuple(
    c.name
    for c in UnitTotal.__table__.columns
    if c.name not in ("level", "period", "code", "staff_group")
)
INTEGER_COLUMNS = frozenset(
    {"spend_reported", "returned", "window_returned", "window_synthetic", "synthetic"}
)

Key = tuple[str, str, str, str]  # level, period, code, staff_group: the primary key's order
Figures = dict[str, Any]  # column -> float or int


def _zero(name: str) -> Any:
    return 0 if name in INTEGER_COLUMNS else 0.0


def month_figures(
    lines: Iterable[Mapping[str, Any]], *, nursing: frozenset[str], synthetic: bool
) -> dict[str, Figures]:
    """One return's figures per staff group and, under ``*``, for all groups (where
    ``returned`` counts the organisation once)."""
    groups: dict[str, Figures] = {}
    everything: Figures = {}
    for line in lines:
        figures: Figures = {name: float(line[name]) for name in POINT_FIELDS}
        figures["nursing_capacity_wte"] = (
            figures["staff_in_post_wte"] + figures["bank_wte"] + figures["agency_wte"]
            if line["staff_group"] in nursing
            else 0.0
        )
        figures["over_establishment_wte"] = max(
            0.0, figures["staff_in_post_wte"] - figures["establishment_wte"]
        )
        spends = [float(line[name]) for name in SPEND_FIELDS if line.get(name) is not None]
        figures["spend_gbp"] = sum(spends)
        figures["spend_reported"] = len(spends)
        figures["returned"] = 1
        figures["synthetic"] = int(synthetic)
        groups[line["staff_group"]] = figures
        for name, value in figures.items():
            everything[name] = everything.get(name, _zero(name)) + value
    if groups:
        everything["returned"] = 1
        everything["synthetic"] = int(synthetic)
        groups[ALL_GROUPS] = everything
    return groups


def _add_month(
    changes: dict[Key, Figures],
    month: Mapping[str, Figures],
    *,
    organisation: str,
    place: str,
    period: str,
    sign: int,
) -> None:
    start = month_index(period)
    for level, code in (("organisation", organisation), ("place", place)):
        for group, figures in month.items():
            row = changes[level, period, code, group]
            for name, value in figures.items():
                if name != "synthetic":
                    row[name] = row.get(name, _zero(name)) + sign * value
            for offset in range(WINDOW):
                row = changes[level, from_index(start + offset), code, group]
                for name, column in WINDOWED.items():
                    row[column] = row.get(column, _zero(column)) + sign * figures[name]


def revision_changes(
    *,
    organisation: str,
    place: str,
    period: str,
    old: Mapping[str, Figures],
    new: Mapping[str, Figures],
) -> dict[Key, Figures]:
    """What replacing a return's ``old`` figures by ``new`` (``month_figures`` of each)
    changes in the totals."""
    changes: dict[Key, Figures] = defaultdict(dict)
    place_of = {"organisation": organisation, "place": place, "period": period}
    _add_month(changes, new, sign=1, **place_of)
    _add_month(changes, old, sign=-1, **place_of)
    return {key: row for key, row in changes.items() if any(row.values())}


def replace_return(
    session: Session,
    *,
    organisation: str,
    period: str,
    old: Sequence[LatestLine],
    new: Sequence[Mapping[str, Any]],
    synthetic: bool,
) -> None:
    """Apply a new revision's lines ``new`` in place of the latest lines ``old``."""
    nursing = frozenset(
        session.scalars(select(StaffGroup.code).where(StaffGroup.counts_as_nursing.is_(True)))
    )
    place = session.scalars(
        select(Organisation.place).where(Organisation.code == organisation)
    ).one()
    before = month_figures(
        [{name: getattr(line, name) for name in LINE_FIELDS} for line in old],
        nursing=nursing,
        synthetic=any(line.synthetic for line in old),
    )
    after = month_figures(new, nursing=nursing, synthetic=synthetic)
    session.execute(
        update(Organisation)
        .where(
            Organisation.code == organisation,
            or_(
                Organisation.first_return_period.is_(None),
                Organisation.first_return_period > period,
            ),
        )
        .values(first_return_period=period, updated_at=Organisation.updated_at)
    )
    apply(
        session,
        revision_changes(
            organisation=organisation, place=place, period=period, old=before, new=after
        ),
    )


def apply(session: Session, changes: Mapping[Key, Figures]) -> None:
    """Add ``changes`` to the stored totals, creating rows as needed. Rows are written in
    key order, so that two transactions touching the same place lock its rows in the
    same order."""
    table = UnitTotal.__table__
    statement = upsert(session, table)
    statement = statement.on_conflict_do_update(
        index_elements=["level", "period", "code", "staff_group"],
        set_={name: getattr(table.c, name) + getattr(statement.excluded, name) for name in COLUMNS},
    )
    rows = [_row(key, changes[key]) for key in sorted(changes)]
    if rows:
        session.execute(statement, rows)


def _row(key: Key, figures: Figures) -> dict[str, Any]:
    level, period, code, staff_group = key
    return {
        "level": level,
        "period": period,
        "code": code,
        "staff_group": staff_group,
        **{name: figures.get(name, _zero(name)) for name in COLUMNS},
    }


def move_organisation(session: Session, *, organisation: str, old: str, new: str) -> None:
    """Carry an organisation's totals from place ``old`` to place ``new``."""
    if old == new:
        return
    changes: dict[Key, Figures] = defaultdict(dict)
    for total in session.scalars(
        select(UnitTotal).where(UnitTotal.level == "organisation", UnitTotal.code == organisation)
    ):
        for place, sign in ((old, -1), (new, 1)):
            row = changes["place", total.period, place, total.staff_group]
            for name in COLUMNS:
                row[name] = row.get(name, _zero(name)) + sign * getattr(total, name)
    apply(session, changes)


def _rolled(points: Mapping[int, Figures]) -> Iterator[tuple[int, Figures]]:
    """A unit-group's month figures with the window sums rolled over them: every month
    from the first to eleven months after the last."""
    first, last = min(points), max(points) + WINDOW - 1
    window = {column: _zero(column) for column in WINDOWED.values()}
    for index in range(first, last + 1):
        for name, column in WINDOWED.items():
            if index in points:
                window[column] += points[index].get(name, 0)
            if index - WINDOW in points:
                window[column] -= points[index - WINDOW].get(name, 0)
        row = {name: value for name, value in points.get(index, {}).items() if name != "synthetic"}
        yield index, {**row, **window}


def rebuild(
    session: Session, *, lines: Iterable[Mapping[Any, Any]], nursing: frozenset[str]
) -> int:
    """Replace every total by the sums of ``lines`` (mappings with ``organisation_code``,
    ``place``, ``period``, ``synthetic``, ``staff_group`` and the figures, ordered by
    organisation and period). Answers the rows written."""
    points: dict[tuple[str, str, str], dict[int, Figures]] = defaultdict(dict)

    def add(organisation: str, place: str, period: str, batch: list[Mapping[str, Any]]) -> None:
        month = month_figures(batch, nursing=nursing, synthetic=bool(batch[0]["synthetic"]))
        index = month_index(period)
        for level, code in (("organisation", organisation), ("place", place)):
            for group, figures in month.items():
                row = points[level, code, group].setdefault(index, {})
                for name, value in figures.items():
                    row[name] = row.get(name, _zero(name)) + value

    batch: list[Mapping[str, Any]] = []
    for line in lines:
        if batch and (line["organisation_code"], line["period"]) != (
            batch[0]["organisation_code"],
            batch[0]["period"],
        ):
            add(batch[0]["organisation_code"], batch[0]["place"], batch[0]["period"], batch)
            batch = []
        batch.append(line)
    if batch:
        add(batch[0]["organisation_code"], batch[0]["place"], batch[0]["period"], batch)

    session.execute(delete(UnitTotal))
    # In key order, so that a month's rows lie together on disk.
    rows = sorted(
        (
            _row((level, from_index(index), code, group), figures)
            for (level, code, group), months in points.items()
            for index, figures in _rolled(months)
        ),
        key=lambda row: (row["level"], row["period"], row["code"], row["staff_group"]),
    )
    if rows:
        session.execute(insert(UnitTotal), rows)
    return len(rows)


def rebuild_from_latest_lines(session: Session) -> int:
    """``rebuild`` from the ``latest_lines`` table as it stands, and each organisation's
    first month returned (plain SQL, so that a migration may call it whatever the models
    have since become)."""
    session.execute(
        text(
            "UPDATE organisations SET first_return_period = ("
            "SELECT min(period) FROM latest_lines l WHERE l.organisation_code = organisations.code)"
        )
    )
    nursing = frozenset(
        session.execute(text("SELECT code FROM staff_groups WHERE counts_as_nursing")).scalars()
    )
    lines = session.execute(
        text(
            "SELECT l.*, o.place FROM latest_lines l "
            "JOIN organisations o ON o.code = l.organisation_code "
            "ORDER BY l.organisation_code, l.period, l.staff_group"
        )
    ).mappings()
    return rebuild(session, lines=lines, nursing=nursing)
