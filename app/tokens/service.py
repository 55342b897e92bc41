from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth import Scope, hash_token, new_token_value, unbindable_scopes
from app.config import Settings, get_settings
from app.db import utcnow
from app.errors import NotFound, ValidationFailed, field_error
from app.organisations.service import get_organisation
from app.tokens.models import ApiToken

ENV_ADMIN_TOKEN_ID = "env-admin"


def _scopes_text(scopes: Iterable[Scope]) -> str:
    return " ".join(sorted({Scope(s).value for s in scopes}))


def create_token(
    session: Session,
    *,
    name: str,
    scopes: Iterable[Scope],
    organisation: str | None = None,
    settings: Settings | None = None,
) -> tuple[ApiToken, str]:
    """Store a new token; returns the row and the plain token, which is not kept. Hashed
    under ``settings``' key (the app's), else the environment's."""
    scopes = [Scope(s) for s in scopes]
    if system := unbindable_scopes(scopes, organisation):
        raise ValidationFailed(
            "A token bound to an organisation may hold only returns:write and read.",
            errors=[
                field_error(
                    ("scopes",),
                    f"{', '.join(system)} act on the whole system and cannot be bound to "
                    f"organisation {organisation}",
                )
            ],
        )
    if organisation is not None:
        get_organisation(session, code=organisation)
    value = new_token_value()
    token = ApiToken(
        id=secrets.token_hex(6),
        name=name,
        token_hash=hash_token(value, settings or get_settings()),
        scopes=_scopes_text(scopes),
        organisation_code=organisation,
    )
    session.add(token)
    session.flush()
    return token, value


def list_tokens(session: Session) -> Sequence[ApiToken]:
    return session.scalars(select(ApiToken).order_by(ApiToken.created_at, ApiToken.id)).all()


def revoke_token(session: Session, *, token_id: str) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"There is no token with id '{token_id}'.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()
    return token


def ensure_environment_admin(session: Session, *, value: str, settings: Settings) -> None:
    """Make the token ``value`` (from WORKFORCE_ADMIN_TOKEN) an admin token, replacing an
    earlier environment token so that changing the variable retires the old value."""
    token = session.get(ApiToken, ENV_ADMIN_TOKEN_ID)
    digest = hash_token(value, settings)
    if token is None:
        session.add(
            ApiToken(
                id=ENV_ADMIN_TOKEN_ID,
                name="WORKFORCE_ADMIN_TOKEN",
                token_hash=digest,
                scopes=Scope.ADMIN.value,
            )
        )
    else:
        token.token_hash = digest
        token.scopes = Scope.ADMIN.value
        token.revoked_at = None
    session.flush()
