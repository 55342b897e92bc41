"""Bearer tokens, scopes and the current principal."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.errors import Forbidden, Unauthorised
from app.tokens.models import ApiToken


class Scope(StrEnum):
    RETURNS_WRITE = "returns:write"
    READ = "read"
    PLANS_WRITE = "plans:write"
    ADMIN = "admin"


TOKEN_PREFIX = "wf_"

# Scopes that act on the whole system; a token bound to an organisation may not hold them.
SYSTEM_SCOPES = frozenset({Scope.ADMIN, Scope.PLANS_WRITE})
BOUND_SCOPES = frozenset({Scope.RETURNS_WRITE, Scope.READ})


def unbindable_scopes(scopes: Iterable[Scope], organisation: str | None) -> list[Scope]:
    """The scopes of ``scopes`` that a token bound to ``organisation`` may not hold."""
    if organisation is None:
        return []
    return sorted({Scope(s) for s in scopes} & SYSTEM_SCOPES)


def new_token_value() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str, settings: Settings) -> str:
    """HMAC-SHA256 of the token under the service's key: a leaked table yields no tokens."""
    key = settings.token_key.get_secret_value().encode()
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who is calling. A token bound to an organisation (``organisation`` set) acts for that
    organisation alone: its ``read`` covers its own organisation's returns, metrics and
    page, and reference data, never the rest of the system."""

    token_id: str
    name: str
    scopes: frozenset[Scope]
    organisation: str | None

    def has(self, scope: Scope) -> bool:
        """Whether the token may do what ``scope`` allows across the whole system.

        ``has(Scope.READ)`` is reading the whole system: an unbound ``read`` or ``admin``
        token. A bound token's ``read`` is narrower; see ``reads_reference_data`` and
        ``can_read_organisation``.
        """
        if scope is Scope.READ:
            return self.organisation is None and bool(self.scopes & {Scope.READ, Scope.ADMIN})
        if self.organisation is not None and scope in SYSTEM_SCOPES:
            return False
        return scope in self.scopes

    @property
    def reads_reference_data(self) -> bool:
        """Staff groups, organisations, bank pools and targets: every ``read`` token."""
        return self.has(Scope.READ) or Scope.READ in self.scopes

    def require(self, scope: Scope) -> None:
        if self.has(scope):
            return
        if self.organisation is not None and (scope in SYSTEM_SCOPES or scope in self.scopes):
            raise Forbidden(
                f"This token is bound to organisation {self.organisation} and reads or writes "
                "that organisation's data only."
            )
        raise Forbidden(f"This token lacks the '{scope}' scope.")

    def require_reference_reader(self) -> None:
        if not self.reads_reference_data:
            raise Forbidden(f"This token lacks the '{Scope.READ}' scope.")

    def can_read_organisation(self, code: str) -> bool:
        if self.organisation is not None:
            return self.organisation == code
        return self.has(Scope.READ)

    def require_read_organisation(self, code: str) -> None:
        if not self.can_read_organisation(code):
            raise Forbidden(
                f"This token is bound to organisation {self.organisation} and may not read "
                f"{code}'s data."
            )

    @property
    def label(self) -> str:
        return f"{self.name} ({self.token_id})"


bearer = HTTPBearer(auto_error=False, description="A token created by an admin: `wf_...`")


def resolve_token(session: Session, value: str, settings: Settings) -> Principal | None:
    """The principal of a token's value, or None when it is unknown or revoked."""
    presented = hash_token(value, settings)
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == presented))
    if (
        token is None
        or token.revoked_at is not None
        or not hmac.compare_digest(token.token_hash, presented)
    ):
        return None
    scopes = frozenset(Scope(s) for s in token.scopes.split())
    if token.organisation_code is not None:
        # Never stored since the scopes were split (the API, the command line and the
        # migration refuse or remove them); dropped here too, whatever the table holds.
        scopes -= SYSTEM_SCOPES
    return Principal(
        token_id=token.id,
        name=token.name,
        scopes=scopes,
        organisation=token.organisation_code,
    )


def principal_for(request: Request, value: str) -> Principal:
    """Check a token in a short session of its own, so that the connection goes back to
    the pool at once; the request's own session takes one only when it needs it."""
    sessions: sessionmaker[Session] = request.app.state.sessionmaker
    with sessions() as session:
        principal = resolve_token(session, value, request.app.state.settings)
        session.rollback()
    if principal is None:
        raise Unauthorised("The token is unknown or has been revoked.")
    request.state.principal = principal
    return principal


def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    if credentials is None or not credentials.credentials:
        raise Unauthorised("Send 'Authorization: Bearer <token>'.")
    return principal_for(request, credentials.credentials)


PrincipalDep = Annotated[Principal, Depends(authenticate)]


def scoped(scope: Scope) -> Callable[[Principal], Principal]:
    """A dependency that authenticates and insists on ``scope``."""

    def dependency(principal: PrincipalDep) -> Principal:
        principal.require(scope)
        return principal

    return dependency


def reference_reader(principal: PrincipalDep) -> Principal:
    """Reference data (pools, targets): any token with ``read``, bound or not."""
    principal.require_reference_reader()
    return principal


def system_wide(principal: PrincipalDep) -> Principal:
    """A route about the whole system (plans, operations): no organisation-bound token."""
    if principal.organisation is not None:
        raise Forbidden(
            f"This token is bound to organisation {principal.organisation}; it may not read "
            "or request system-wide plans or figures."
        )
    return principal


AdminDep = Annotated[Principal, Depends(scoped(Scope.ADMIN))]
# The whole system's data: an unbound token with read (or admin).
SystemReaderDep = Annotated[Principal, Depends(scoped(Scope.READ))]
ReaderDep = Annotated[Principal, Depends(reference_reader)]
SystemWideDep = Depends(system_wide)
