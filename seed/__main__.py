"""``python -m seed reference`` loads the reference data; ``python -m seed demo`` loads it
with the synthetic demo returns and prints a new admin token the first time."""

from __future__ import annotations

import argparse
import sys
import time

from app.config import get_settings
from app.db import make_engine, make_sessionmaker, session_scope
from seed import synthetic
from seed.load import load_demo, load_reference


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m seed", description=__doc__)
    parser.add_argument("what", choices=["reference", "demo"])
    parser.add_argument(
        "--until", help="last month of demo returns, YYYY-MM (default: latest complete month)"
    )
    args = parser.parse_args()
    settings = get_settings()
    engine = make_engine(settings.database_url)
    started = time.perf_counter()
    print(f"seed: loading {args.what} data into {engine.url.render_as_string()}", file=sys.stderr)
    try:
        for session in session_scope(make_sessionmaker(engine)):
            if args.what == "reference":
                loaded = load_reference(session)
            else:
                loaded = load_demo(session, until=args.until)
    finally:
        engine.dispose()
    print(
        f"seed: {loaded.staff_groups} staff groups, {loaded.organisations} organisations and "
        f"{loaded.pools} bank pools and {loaded.targets} targets added; "
        f"{loaded.returns} returns added, "
        f"{loaded.returns_kept} already there "
        f"({time.perf_counter() - started:.1f} s)",
        file=sys.stderr,
    )
    if args.what == "demo":
        print(f"seed: {synthetic.SYNTHETIC_LABEL}", file=sys.stderr)
    if loaded.admin_token is not None:
        print(
            "\nAn admin token was created. It is shown this once; keep it:\n\n"
            f"    export WORKFORCE_TOKEN={loaded.admin_token}\n"
        )
    elif args.what == "demo":
        print(
            "seed: the demo admin token exists already. For another token:\n"
            "    .venv/bin/python -m app token create --name me --scopes admin",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
