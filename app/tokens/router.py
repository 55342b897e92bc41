from __future__ import annotations

from fastapi import APIRouter, Response, status

from app.auth import AdminDep, Scope
from app.deps import SessionDep, SettingsDep
from app.errors import Forbidden, NotFound, Unauthorised, ValidationFailed, problem_responses
from app.tokens import service
from app.tokens.models import ApiToken
from app.tokens.schemas import TokenCreate, TokenCreated, TokenRead

router = APIRouter(prefix="/v1/tokens", tags=["tokens"])
ERRORS = (Unauthorised, Forbidden, ValidationFailed)


def _read(token: ApiToken) -> TokenRead:
    return TokenRead(
        id=token.id,
        name=token.name,
        scopes=[Scope(s) for s in token.scopes.split()],
        organisation=token.organisation_code,
        created_at=token.created_at,
        revoked_at=token.revoked_at,
    )


@router.post(
    "",
    operation_id="create_token",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(*ERRORS, NotFound),
)
def create_token(
    data: TokenCreate, session: SessionDep, settings: SettingsDep, _admin: AdminDep
) -> TokenCreated:
    """Create a token (admin). The plain token is in this answer only."""
    token, value = service.create_token(
        session,
        name=data.name,
        scopes=data.scopes,
        organisation=data.organisation,
        settings=settings,
    )
    return TokenCreated(
        id=token.id,
        token=value,
        name=token.name,
        scopes=[Scope(s) for s in token.scopes.split()],
        organisation=token.organisation_code,
    )


@router.get("", operation_id="list_tokens", responses=problem_responses(*ERRORS))
def list_tokens(session: SessionDep, _admin: AdminDep) -> list[TokenRead]:
    """Every token, revoked ones included, without their secrets (admin)."""
    return [_read(t) for t in service.list_tokens(session)]


@router.delete(
    "/{token_id}",
    operation_id="revoke_token",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(*ERRORS, NotFound),
)
def revoke_token(token_id: str, session: SessionDep, _admin: AdminDep) -> Response:
    """Revoke a token (admin); it stops working at once."""
    service.revoke_token(session, token_id=token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
