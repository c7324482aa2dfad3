"""`tutor pool`: an engine pool for a workshop's browser seats (docs/workshop.md).

    tutor pool check FILE                       is the file right, and does every engine answer?
    tutor pool status FILE [--root DIR]         seats per engine, engines down (during a workshop)
    tutor pool load FILE BUNDLE                 the course's base images into every engine, a report each
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
    load = psub.add_parser("load", help="load a bundle (`tutor images save`) into every engine of the pool")
    load.add_argument("file", metavar="FILE", help="the pool file (TOML)")
    load.add_argument("bundle", metavar="BUNDLE", help="the bundle of base images")


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

    if args.pool_command == "load":
        return load_command(pool, Path(args.bundle), out)
    if args.pool_command == "check":
        state = pool_state(pool, seats_root(None), check=True)
        for line in state.lines():
            print(line, file=out)
        return EXIT_FAILED if state.down else EXIT_OK
    state = pool_state(pool, seats_root(args.root), check=args.check)
    for line in state.lines():
        print(line, file=out)
    return EXIT_FAILED if state.down else EXIT_OK


def load_command(pool, bundle: Path, out: TextIO) -> int:
    from tutor.workshop.bundle import BundleError, read_bundle_info
    from tutor.workshop.pool import load_bundle_everywhere

    try:
        info = read_bundle_info(bundle.expanduser())  # a wrong file is said once, not once per engine
    except BundleError as exc:
        print(f"error: {exc.message}" + (f"\nfix: {exc.fix}" if exc.fix else ""), file=out)
        return EXIT_USAGE
    print(f"loading {', '.join(info.names)} into {len(pool.engines)} engines at once ...", file=out, flush=True)
    outcome = load_bundle_everywhere(pool, bundle.expanduser(), lambda line: print(line, file=out, flush=True))
    failed = [name for name, problem in outcome.items() if problem is not None]
    ready = len(pool.engines) - len(failed)
    print(f"{ready} of {len(pool.engines)} engines ready" + (f"; failed: {', '.join(failed)}" if failed else ""), file=out)
    return EXIT_FAILED if failed else EXIT_OK
