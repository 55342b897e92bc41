"""Command line: ``python -m app token create|list|revoke``, ``python -m app plan`` and
``python -m app openapi``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from app.auth import Scope
from app.config import get_settings
from app.db import make_engine, make_sessionmaker, session_scope
from app.errors import AppError

if TYPE_CHECKING:
    from app.plans.schemas import PlanRead
    from app.plans.worker import ClaimRules


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


def _solve_with_progress(database_url: str, plan_id: str, *, rules: ClaimRules) -> None:
    """Solve the plan here, with a progress line on standard error."""
    import threading
    import time

    from app.plans.worker import run_plan

    started = time.perf_counter()
    done = threading.Event()

    def progress() -> None:
        while not done.wait(0.5):
            print(
                f"\rplan {plan_id}: solving ... {time.perf_counter() - started:5.1f} s",
                end="",
                file=sys.stderr,
                flush=True,
            )

    ticker = threading.Thread(target=progress, daemon=True)
    ticker.start()
    try:
        run_plan(database_url, plan_id, rules=rules)
    finally:
        done.set()
        ticker.join()
    print(
        f"\rplan {plan_id}: done in {time.perf_counter() - started:.1f} s{' ' * 20}",
        file=sys.stderr,
    )


def plan(args: argparse.Namespace) -> int:
    """Request a plan as the command line, solve it here with a progress line, and write
    its allocations (CSV) and workbook (Excel)."""

    from app.auth import Principal
    from app.plans import export, service
    from app.plans.schemas import PlanRequest, Scenario
    from app.plans.worker import ClaimRules, process_identity
    from app.returns import csv_io

    settings = get_settings()
    scenario = (
        Scenario.model_validate_json(Path(args.scenario).read_text())
        if args.scenario
        else Scenario()
    )
    request = PlanRequest(start=args.start, months=args.months, scenario=scenario)
    principal = Principal(
        token_id="cli",
        name="python -m app plan",
        scopes=frozenset({Scope.PLANS_WRITE, Scope.READ}),
        organisation=None,
    )
    sessions = _session_factory()
    for session in session_scope(sessions):
        plan_id = service.create_plan(
            session,
            request=request,
            principal=principal,
            settings=settings,
            owner=process_identity(),
        ).id

    _solve_with_progress(settings.database_url, plan_id, rules=ClaimRules.of(settings))

    for session in session_scope(sessions):
        read = service.to_read(service.get_plan(session, plan_id=plan_id))
        rows = service.allocation_rows(service.get_plan(session, plan_id=plan_id))
        book = export.plan_workbook(session, service.get_plan(session, plan_id=plan_id))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    allocations = out / f"plan-{plan_id}-allocations.csv"
    allocations.write_text("".join(csv_io.render(rows, fields=service.ALLOCATION_FIELDS)))
    workbook = out / f"plan-{plan_id}.xlsx"
    workbook.write_bytes(book)

    print(f"plan {plan_id}: {read.status} ({read.state})")
    print(read.message or "")
    if read.synthetic_data:
        print("Built from synthetic demo returns: not real organisations' data.")
    _print_costs(read)
    for name, target in (read.targets or {}).items():
        state = (
            "met"
            if target.met
            else f"short by up to {target.shortfall:g} in {len(target.months_short)} month(s)"
        )
        print(
            f"  target {name:<18} required {target.required:>14,.4f}"
            f"  achieved {target.achieved:>14,.4f}  {state}"
        )
    for lever in (read.gap_levers or [])[:5]:
        print(f"  to close the gap: {lever.description}")
    print(f"wrote {allocations} and {workbook}")
    return 0 if read.state == "finished" else 1


def _print_costs(read: PlanRead) -> None:
    """Cash, unfilled posts and the penalty, each beside doing nothing and named for what
    it is: the penalty is a price on empty posts, not money."""
    cost, nothing = read.cost, read.do_nothing
    if cost is None:
        return
    print(f"  {'':<28} {'plan':>16} {'doing nothing':>16} {'difference':>16}")
    rows = [
        ("cash cost (GBP)", cost.cash, nothing.cash if nothing else None),
        (
            "unfilled posts (WTE-months)",
            cost.unfilled_wte_months,
            nothing.unfilled_wte_months if nothing else None,
        ),
        (
            "unfilled penalty (not money)",
            cost.unfilled_penalty,
            nothing.unfilled_penalty if nothing else None,
        ),
    ]
    for label, planned, baseline in rows:
        plan_text = f"{planned:>16,.0f}" if planned is not None else f"{'-':>16}"
        nothing_text = f"{baseline:>16,.0f}" if baseline is not None else f"{'-':>16}"
        difference = (
            f"{planned - baseline:>+16,.0f}"
            if planned is not None and baseline is not None
            else f"{'-':>16}"
        )
        print(f"  {label:<28} {plan_text} {nothing_text} {difference}")


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

    planning = commands.add_parser("plan", help="request and solve a plan, write CSV and Excel")
    planning.add_argument("--start", required=True, help="first month, YYYY-MM")
    planning.add_argument("--months", required=True, type=int, help="the horizon, 1 to 120")
    planning.add_argument("--scenario", help="a JSON file of scenario keys (see the README)")
    planning.add_argument("--out", default="out", help="folder for the files (default out/)")
    planning.set_defaults(handler=plan)

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
        for problem in getattr(error, "errors", None) or []:
            print(f"  {problem.pointer}: {problem.message}", file=sys.stderr)
        return 1
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
