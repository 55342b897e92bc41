"""Command line: ``python -m app token create|list|revoke`` and ``python -m app openapi``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from app.auth import Scope
from app.config import get_settings
from app.db import make_engine, make_sessionmaker, session_scope
from app.errors import AppError


def _session_factory() -> sessionmaker[Session]:
    return make_sessionmaker(make_engine(get_settings().database_url))


def token_create(args: argparse.Namespace) -> int:
    from app.tokens.service import create_token

    scopes = [Scope(s.strip()) for s in args.scopes.split(",") if s.strip()]
    if Scope.RETURNS_WRITE in scopes and not args.organisation:
        print("error: a returns:write token needs --organisation", file=sys.stderr)
        return 2
    for session in session_scope(_session_factory()):
        token, value = create_token(
            session, name=args.name, scopes=scopes, organisation=args.organisation
        )
        print(
            json.dumps(
                {
                    "id": token.id,
                    "token": value,
                    "name": token.name,
                    "scopes": token.scopes.split(),
                    "organisation": token.organisation_code,
                },
                indent=2,
            )
        )
    print("The token is shown this once; it is stored only as a keyed hash.", file=sys.stderr)
    return 0


def token_list(_args: argparse.Namespace) -> int:
    from app.tokens.service import list_tokens

    for session in session_scope(_session_factory()):
        for token in list_tokens(session):
            state = "revoked" if token.revoked_at else "active"
            print(
                token.id,
                state,
                token.scopes,
                token.organisation_code or "-",
                token.name,
                sep="\t",
            )
    return 0


def token_revoke(args: argparse.Namespace) -> int:
    from app.tokens.service import revoke_token

    for session in session_scope(_session_factory()):
        revoke_token(session, token_id=args.id)
    print(f"revoked {args.id}")
    return 0


def openapi(args: argparse.Namespace) -> int:
    from app.main import create_app
    from app.openapi_file import render

    text = render(create_app().openapi())
    if args.output:
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m app", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)

    token = commands.add_parser("token", help="create, list or revoke API tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    create = token_commands.add_parser("create", help="create a token and print it once")
    create.add_argument("--name", required=True)
    create.add_argument(
        "--scopes", required=True, help=f"comma-separated: {', '.join(s.value for s in Scope)}"
    )
    create.add_argument("--organisation", help="the organisation's code (for returns:write)")
    create.set_defaults(handler=token_create)
    listing = token_commands.add_parser("list", help="list tokens, without their secrets")
    listing.set_defaults(handler=token_list)
    revoke = token_commands.add_parser("revoke", help="revoke a token by id")
    revoke.add_argument("id")
    revoke.set_defaults(handler=token_revoke)

    spec = commands.add_parser("openapi", help="write the OpenAPI document as YAML")
    spec.add_argument("--output", "-o", help="file to write (default: standard output)")
    spec.set_defaults(handler=openapi)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except AppError as error:
        print(f"error: {error.detail}", file=sys.stderr)
        return 1
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
