"""Loading the synthetic demo returns: labelled synthetic, and idempotent."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.returns.models import Return, ReturnLine, ReturnRevision
from app.tokens.models import ApiToken
from seed import reference, synthetic
from seed.load import DEMO_ADMIN_TOKEN_NAME, SEED_SUBMITTER, load_demo

ROOT = Path(__file__).resolve().parents[2]
ORGANISATIONS = len(reference.ORGANISATIONS)


def count(session: Session, model: type[Return | ReturnRevision | ReturnLine | ApiToken]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_demo_returns_and_an_admin_token_are_loaded_once(session: Session) -> None:
    loaded = load_demo(session, until="2019-06")
    assert loaded.returns == 3 * ORGANISATIONS
    assert loaded.returns_kept == 0
    assert loaded.admin_token is not None
    lines = sum(len(r.lines) for r in synthetic.generate_returns("2019-06"))
    assert count(session, Return) == count(session, ReturnRevision) == 3 * ORGANISATIONS
    assert count(session, ReturnLine) == lines
    tokens = session.scalars(select(ApiToken).where(ApiToken.name == DEMO_ADMIN_TOKEN_NAME)).all()
    assert [t.scopes for t in tokens] == ["admin plans:write"]

    again = load_demo(session, until="2019-06")
    assert again.returns == 0
    assert again.returns_kept == 3 * ORGANISATIONS
    assert again.admin_token is None
    assert count(session, ReturnRevision) == 3 * ORGANISATIONS
    assert count(session, ReturnLine) == lines
    assert count(session, ApiToken) == 1


def test_a_later_month_adds_only_its_returns(session: Session) -> None:
    load_demo(session, until="2019-04")
    loaded = load_demo(session, until="2019-05")
    assert (loaded.returns, loaded.returns_kept) == (ORGANISATIONS, ORGANISATIONS)
    assert set(session.scalars(select(Return.period).distinct())) == {"2019-04", "2019-05"}


def test_every_revision_is_labelled_synthetic(session: Session) -> None:
    load_demo(session, until="2019-05")
    revisions = session.scalars(select(ReturnRevision)).all()
    assert revisions
    for revision in revisions:
        assert revision.synthetic is True
        assert revision.source == synthetic.SOURCE == "synthetic-demo"
        assert revision.submitted_by == SEED_SUBMITTER
        assert revision.revision == 1


def test_stored_lines_are_the_generated_ones(session: Session) -> None:
    load_demo(session, until="2019-04")
    generated = {
        (r.organisation, line.staff_group): line
        for r in synthetic.generate_returns("2019-04")
        for line in r.lines
    }
    stored = session.execute(
        select(Return.organisation_code, ReturnLine)
        .join(ReturnRevision, ReturnRevision.return_id == Return.id)
        .join(ReturnLine, ReturnLine.revision_id == ReturnRevision.id)
    ).all()
    assert len(stored) == len(generated)
    for organisation, line in stored:
        expected = generated[organisation, line.staff_group]
        assert line.staff_in_post_wte == expected.staff_in_post_wte
        assert line.vacancy_wte == expected.vacancy_wte
        assert line.agency_spend_gbp == expected.agency_spend_gbp
        assert line.sickness_absence_rate == expected.sickness_absence_rate


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def test_the_seed_command_loads_the_demo_into_any_database(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKFORCE_")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'x.db'}"
    run("-m", "alembic", "upgrade", "head", env=env)

    first = run("-m", "seed", "demo", "--until", "2019-05", env=env)
    assert first.stdout.count("export WORKFORCE_TOKEN=") == 1
    assert f"{2 * ORGANISATIONS} returns added" in first.stderr
    assert synthetic.SYNTHETIC_LABEL in first.stderr

    second = run("-m", "seed", "demo", "--until", "2019-05", env=env)
    assert "WORKFORCE_TOKEN=" not in second.stdout
    assert f"0 returns added, {2 * ORGANISATIONS} already there" in second.stderr
