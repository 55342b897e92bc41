"""Handlers read the settings the app was made with, not the environment's: a token is
checked under the app's own key."""

from __future__ import annotations

from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from app.auth import Scope
from app.config import Settings
from app.db import session_scope
from app.main import create_app
from app.tokens.service import create_token
from tests.conftest import bearer


def test_tokens_are_checked_under_the_app_s_own_key(
    settings: Settings, sessions: sessionmaker[Session]
) -> None:
    own = settings.model_copy(update={"token_key": SecretStr("this app's own key")})
    for session in session_scope(sessions):
        _row, under_own_key = create_token(session, name="own", scopes=[Scope.READ], settings=own)
        _row, under_environment_key = create_token(session, name="env", scopes=[Scope.READ])
    with TestClient(create_app(own)) as client:
        assert client.get("/v1/staff-groups", headers=bearer(under_own_key)).status_code == 200
        refused = client.get("/v1/staff-groups", headers=bearer(under_environment_key))
        assert refused.status_code == 401
