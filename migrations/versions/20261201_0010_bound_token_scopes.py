"""bound tokens lose system-wide scopes

A token bound to an organisation may hold only returns:write and read. Tokens made before
that rule keep what they may still do: admin and plans:write are removed from them, and a
token left with no scope at all is revoked. Not reversible: the removed scopes are not
restored on downgrade.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 22:40:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SYSTEM_SCOPES = frozenset({"admin", "plans:write"})

tokens = sa.table(
    "api_tokens",
    sa.column("id", sa.String),
    sa.column("scopes", sa.String),
    sa.column("organisation_code", sa.String),
    sa.column("revoked_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    connection = op.get_bind()
    bound = connection.execute(
        sa.select(tokens.c.id, tokens.c.scopes, tokens.c.revoked_at).where(
            tokens.c.organisation_code.is_not(None)
        )
    ).all()
    now = datetime.now(UTC)
    for token_id, scopes, revoked_at in bound:
        held = scopes.split()
        kept = [scope for scope in held if scope not in SYSTEM_SCOPES]
        if kept == held:
            continue
        values: dict[str, object] = {"scopes": " ".join(kept)}
        if not kept and revoked_at is None:
            values["revoked_at"] = now
        connection.execute(sa.update(tokens).where(tokens.c.id == token_id).values(**values))


def downgrade() -> None:
    # The removed scopes were never safe to hold; nothing to put back.
    pass
