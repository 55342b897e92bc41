"""Bearer tokens, scopes and the current principal."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
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


def new_token_value() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str, settings: Settings) -> str:
    """HMAC-SHA256 of the token under the service's key: a leaked table yields no tokens."""
    key = settings.token_key.get_secret_value().encode()
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Principal:
    token_id: str
    name: str
    scopes: frozenset[Scope]
    organisation: str | None

    def has(self, scope: Scope) -> bool:
        # admin manages the system and reads all of it.
        return scope in self.scopes or (scope is Scope.READ and Scope.ADMIN in self.scopes)

    def require(self, scope: Scope) -> None:
        if not self.has(scope):
            raise Forbidden(f"This token lacks the '{scope}' scope.")

    def can_read_organisation(self, code: str) -> bool:
        return self.has(Scope.READ) or self.organisation == code

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
    return Principal(
        token_id=token.id,
        name=token.name,
        scopes=frozenset(Scope(s) for s in token.scopes.split()),
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


AdminDep = Annotated[Principal, Depends(scoped(Scope.ADMIN))]
ReaderDep = Annotated[Principal, Depends(scoped(Scope.READ))]
