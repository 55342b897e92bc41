"""Benchmark of the metrics queries at England size on PostgreSQL.

Creates a throwaway database, migrates it, loads 1,000 organisations by 9 staff groups
by 60 months of returns (one revision each, 5% amended with a second) with COPY, then times
the system, place and organisation metrics and a 60-month series (median of 5 warm runs)
against a reference in the same run: one aggregate over every line of the latest month.
Run: ``python bench/metrics.py [--url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]``.
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
if sys.path and Path(sys.path[0]).resolve() == HERE:
    sys.path[0] = str(HERE.parent)

from sqlalchemy import create_engine, make_url, text  # noqa: E402

from app.auth import Principal, Scope  # noqa: E402
from app.db import make_engine, make_sessionmaker  # noqa: E402
from app.main import settle_heap  # noqa: E402
from app.metrics import service, totals  # noqa: E402
from app.periods import add_months, period_range  # noqa: E402
from bench import migrate  # noqa: E402
from seed.reference import STAFF_GROUPS  # noqa: E402

ORGANISATIONS = 1_000
GROUPS = tuple(group.code for group in STAFF_GROUPS)
PLACES = 42  # about England's integrated care systems
FIRST, LAST = "2020-04", "2025-03"
READER = Principal("bench", "bench", frozenset({Scope.READ}), None)


def copy(connection: object, table: str, columns: str, rows: Sequence[tuple[object, ...]]) -> None:
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join("\\N" if v is None else str(v) for v in row) + "\n")
    buffer.seek(0)
    cursor = connection.cursor()  # type: ignore[attr-defined]
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as target:
        target.write(buffer.getvalue())


def load(url: str) -> None:
    rng = random.Random(7)
    engine = make_engine(url)
    periods = list(period_range(FIRST, LAST))
    raw = engine.raw_connection()
    try:
        copy(
            raw,
            "staff_groups",
            "code, name, counts_as_nursing",
            [(g.code, g.name, g.counts_as_nursing) for g in STAFF_GROUPS],
        )
        now = "2026-01-01 00:00:00+00"
        copy(
            raw,
            "organisations",
            "code, name, kind, place, created_at, updated_at",
            [
                (f"O{i:04d}", f"Organisation {i}", "acute", f"Place {i % PLACES:02d}", now, now)
                for i in range(ORGANISATIONS)
            ],
        )
        returns, revisions, lines, latest = [], [], [], []
        revision_id = 0
        for r, (o, period) in enumerate((o, p) for o in range(ORGANISATIONS) for p in periods):
            amended = rng.random() < 0.05
            returns.append((r + 1, f"O{o:04d}", period, 2 if amended else 1, now, now))
            for number in (1, 2) if amended else (1,):
                revision_id += 1
                revisions.append(
                    (revision_id, r + 1, number, "bench", None, "bench", now, "x" * 64, False)
                )
                for group in GROUPS:
                    e = rng.uniform(50, 900)
                    s = e * rng.uniform(0.8, 0.97)
                    figures = (
                        f"{e:.2f}",
                        f"{s:.2f}",
                        f"{e - s:.2f}",
                        f"{s * 0.01:.2f}",
                        f"{s * 0.011:.2f}",
                        f"{(e - s) * 0.5:.2f}",
                        f"{(e - s) * 0.2:.2f}",
                    )
                    lines.append((revision_id, group, *figures))
                    if number == (2 if amended else 1):
                        latest.append((f"O{o:04d}", period, group, revision_id, False, *figures))
        copy(
            raw,
            "returns",
            "id, organisation_code, period, latest_revision, created_at, updated_at",
            returns,
        )
        copy(
            raw,
            "return_revisions",
            "id, return_id, revision, source, amendment_reason, submitted_by, submitted_at, "
            "content_hash, synthetic",
            revisions,
        )
        copy(
            raw,
            "return_lines",
            "revision_id, staff_group, establishment_wte, staff_in_post_wte, vacancy_wte, "
            "starters_wte, leavers_wte, bank_wte, agency_wte",
            lines,
        )
        # As the service keeps it on each submission: the latest revision's lines.
        copy(
            raw,
            "latest_lines",
            "organisation_code, period, staff_group, revision_id, synthetic, "
            "establishment_wte, staff_in_post_wte, vacancy_wte, starters_wte, leavers_wte, "
            "bank_wte, agency_wte",
            latest,
        )
        raw.commit()
        print(
            f"loaded {len(returns):,} returns, {len(revisions):,} revisions, {len(lines):,} lines, "
            f"{len(latest):,} latest lines"
        )
    finally:
        raw.close()
    # As the service keeps them on each submission: the running totals and first returns.
    started = time.perf_counter()
    with make_sessionmaker(engine)() as session:
        rows = totals.rebuild_from_latest_lines(session)
        session.commit()
    print(f"built {rows:,} unit totals in {time.perf_counter() - started:.1f} s")
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    engine.dispose()


def timed(run: Callable[[], object], repeats: int = 5) -> float:
    run()
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    server = make_url(args.url)
    name = "workforce_bench_metrics"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        migrate(url)
        started = time.perf_counter()
        load(url)
        print(f"load: {time.perf_counter() - started:.1f} s")
        engine = make_engine(url)
        sessions = make_sessionmaker(engine)
        settle_heap()  # as the service does once started
        with sessions() as session:

            def reference() -> object:
                return session.execute(
                    text("SELECT sum(staff_in_post_wte) FROM latest_lines WHERE period = :p"),
                    {"p": LAST},
                ).scalar()

            figures = {"reference: one aggregate of the month": timed(reference)}
            for level in ("system", "place", "organisation"):
                figures[f"metrics level={level}"] = timed(
                    lambda level=level: service.metrics(  # type: ignore[misc]
                        session, principal=READER, level=level, period=LAST, staff_group=None
                    )
                )
            figures["60-month series, system"] = timed(
                lambda: service.series(
                    session,
                    principal=READER,
                    level="system",
                    code=service.SYSTEM_CODE,
                    staff_group=None,
                    first=FIRST,
                    last=LAST,
                )
            )
            figures["60-month series, one organisation"] = timed(
                lambda: service.series(
                    session,
                    principal=READER,
                    level="organisation",
                    code="O0001",
                    staff_group=None,
                    first=add_months(LAST, -59),
                    last=LAST,
                )
            )
        engine.dispose()
        base = figures["reference: one aggregate of the month"]
        print(f"{'query':40} {'median ms':>10} {'ratio':>7}")
        for label, ms in figures.items():
            print(f"{label:40} {ms:>10.1f} {ms / base:>6.1f}x")
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


if __name__ == "__main__":
    main()
