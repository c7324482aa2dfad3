"""`tutor pool`: an engine pool for a workshop's browser seats (docs/workshop.md).

    tutor pool check FILE                       is the file right, and does every engine answer?
    tutor pool status FILE [--root DIR]         seats per engine, engines down (during a workshop)
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from tutor.commands.exit_codes import EXIT_FAILED, EXIT_OK, EXIT_USAGE


def add_parser(sub) -> None:
    p = sub.add_parser("pool", help="an engine pool for browser seats: check it, see its seats (docs/workshop.md)")
    psub = p.add_subparsers(dest="pool_command", metavar="ACTION", required=True)
    check = psub.add_parser("check", help="check the pool file and ping every engine in it")
    check.add_argument("file", metavar="FILE", help="the pool file (TOML)")
    status = psub.add_parser("status", help="seats per engine and engines down, as `tutor serve --pool` sees them")
    status.add_argument("file", metavar="FILE", help="the pool file (TOML)")
    status.add_argument("--root", metavar="DIR", help="the browser seats' folder (as given to `tutor serve --root`)")
    status.add_argument("--check", action="store_true", help="ping every engine now instead of reading what `tutor serve` saw")


def load(path: str):
    from tutor.workshop.pool import PoolError, load_pool

    try:
        return load_pool(path)
    except PoolError as exc:
        print("error: the pool file cannot be used:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return None


def seats_root(given: str | None) -> Path:
    from tutor import paths

    return Path(given).expanduser().resolve() if given else paths.data_dir() / "browser-seats"


def run(args, out: TextIO = sys.stdout) -> int:
    pool = load(args.file)
    if pool is None:
        return EXIT_USAGE
    from tutor.workshop.pool import pool_state

    if args.pool_command == "check":
        state = pool_state(pool, seats_root(None), check=True)
        for line in state.lines():
            print(line, file=out)
        return EXIT_FAILED if state.down else EXIT_OK
    state = pool_state(pool, seats_root(args.root), check=args.check)
    for line in state.lines():
        print(line, file=out)
    return EXIT_FAILED if state.down else EXIT_OK
