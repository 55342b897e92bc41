"""Loading reference data and the synthetic demo returns into a database, idempotently.

Running a load twice changes nothing the second time: rows that exist are left as they
are (an admin's later edits included), and a period that has a return keeps it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth import Scope
from app.bank.models import BankPool, BankPoolCover
from app.organisations.models import Organisation, StaffGroup
from app.returns.models import Return
from app.returns.schemas import ReturnLineIn
from app.returns.service import canonical_lines, content_hash, lock_return, record_revision
from app.targets.models import Target
from app.tokens.models import ApiToken
from app.tokens.service import create_token
from seed import reference, synthetic
from seed.pools import hiow_pools

DEMO_ADMIN_TOKEN_NAME = "demo admin"
SEED_SUBMITTER = "python -m seed demo"


@dataclass
class Loaded:
    staff_groups: int = 0
    organisations: int = 0
    pools: int = 0
    targets: int = 0
    returns: int = 0
    returns_kept: int = 0
    admin_token: str | None = None


def load_reference(session: Session) -> Loaded:
    """The staff groups, the HIOW organisations, the bank pools and the targets."""
    loaded = Loaded()
    known_groups = set(session.scalars(select(StaffGroup.code)))
    for group in reference.STAFF_GROUPS:
        if group.code not in known_groups:
            session.add(
                StaffGroup(
                    code=group.code, name=group.name, counts_as_nursing=group.counts_as_nursing
                )
            )
            loaded.staff_groups += 1
    known_organisations = set(session.scalars(select(Organisation.code)))
    for organisation in reference.ORGANISATIONS:
        if organisation.code not in known_organisations:
            session.add(
                Organisation(
                    code=organisation.code,
                    name=organisation.name,
                    kind=organisation.kind,
                    place=organisation.place,
                )
            )
            loaded.organisations += 1
    session.flush()
    loaded.pools = load_pools(session)
    loaded.targets = load_targets(session)
    return loaded


def load_targets(session: Session) -> int:
    """The HIOW commitments; a target an admin has changed is left as it is."""
    known = set(session.scalars(select(Target.code)))
    added = 0
    for target in reference.TARGETS:
        if target.code in known:
            continue
        session.add(
            Target(
                code=target.code,
                name=target.name,
                value=Decimal(str(target.value)),
                baseline_period=target.baseline_period,
                target_period=target.target_period,
                updated_by=SEED_SUBMITTER.replace("demo", "reference"),
            )
        )
        added += 1
    session.flush()
    return added


def load_pools(session: Session) -> int:
    """The HIOW bank pools, sized from the demo returns' bank use; how many were added."""
    known = set(session.scalars(select(BankPool.code)))
    added = 0
    for pool in hiow_pools():
        if pool.code in known:
            continue
        session.add(
            BankPool(
                code=pool.code,
                name=pool.name,
                home_place=pool.home_place,
                cost_per_wte_month=pool.cost_per_wte_month,
                capacity_wte=pool.capacity_wte,
                monthly_growth_rate=pool.monthly_growth_rate,
                covers=[BankPoolCover(staff_group=group) for group in pool.covers],
                capacities=[],
            )
        )
        added += 1
    session.flush()
    return added


def load_demo(session: Session, *, until: str | None = None) -> Loaded:
    """Reference data, the synthetic returns up to ``until`` (default: the latest complete
    month) and, the first time, an admin token whose value is returned once."""
    loaded = load_reference(session)
    until = until or synthetic.latest_complete_month()
    existing = set(
        session.execute(
            select(Return.organisation_code, Return.period).where(Return.latest_revision > 0)
        ).all()
    )
    for demo_return in synthetic.generate_returns(until):
        if (demo_return.organisation, demo_return.period) in existing:
            loaded.returns_kept += 1
            continue
        lines = [ReturnLineIn.model_validate(asdict(line)) for line in demo_return.lines]
        rows = canonical_lines(lines)
        record_revision(
            session,
            return_row=lock_return(
                session, organisation=demo_return.organisation, period=demo_return.period
            ),
            rows=rows,
            digest=content_hash(rows),
            source=synthetic.SOURCE,
            submitted_by=SEED_SUBMITTER,
            synthetic=True,
        )
        loaded.returns += 1
    if session.scalar(select(ApiToken.id).where(ApiToken.name == DEMO_ADMIN_TOKEN_NAME)) is None:
        _token, loaded.admin_token = create_token(
            session, name=DEMO_ADMIN_TOKEN_NAME, scopes=[Scope.ADMIN, Scope.PLANS_WRITE]
        )
    return loaded
