"""`tutor clean [--seat SEAT | --all-seats]`: remove the containers and images the tutor made.

Only objects labelled ``io.tutor.managed=true`` go; base images and anything
else on the engine stay.
"""

from __future__ import annotations

import re
import sys
from typing import TextIO

from tutor.commands.engine_access import connect_or_explain
from tutor.commands.exit_codes import EXIT_FAILED, EXIT_NO_ENGINE, EXIT_OK

_SEAT_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")


def add_parser(sub) -> None:
    p = sub.add_parser("clean", help="remove the tutor's containers and images (this seat's by default)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--seat", help="the seat to clean (default: this one, TUTOR_SEAT or `local`)")
    which.add_argument("--all-seats", action="store_true", help="clean every seat on the engine")


def run(args, out: TextIO = sys.stdout) -> int:
    return clean(seat=args.seat, all_seats=args.all_seats, engine=args.engine, out=out)


def clean(seat: str | None = None, all_seats: bool = False, engine: str | None = None, out: TextIO = sys.stdout) -> int:
    from tutor import fmt
    from tutor.engine.build_cache import build_cache_usage
    from tutor.engine.client import EngineUnavailable
    from tutor.engine.containers import cleanup_seat
    from tutor.seat import Seat

    if seat is not None:
        seat = seat.strip().lower()
        if not _SEAT_RE.match(seat):
            print(f"error: {seat!r} is not a seat name (letters, digits, '.', '_' and '-', at most 40)", file=out)
            return EXIT_FAILED
    target = None if all_seats else (seat or Seat.from_environment(engine).name)
    api = connect_or_explain(engine, out)
    if api is None:
        return EXIT_NO_ENGINE
    try:
        result = cleanup_seat(api, target)
        cache = build_cache_usage(api)
    except EngineUnavailable as exc:
        print(f"error: lost the Docker engine: {exc.problem.reason}\nfix: {exc.problem.fix}", file=out)
        return EXIT_NO_ENGINE
    finally:
        api.close()
    print(f"$ {result.cli}", file=out)
    for line in result.kept:
        print(f"kept: {line}", file=out)
    for line in result.failures:
        print(f"could not remove {line}", file=out)
    scope = "every seat" if target is None else f"seat {target}"
    layers = f" ({result.layers_deleted} image layers deleted)" if result.layers_deleted else ""
    print(f"{result.summary()} of {scope}{layers}", file=out)
    if cache is not None and cache.bytes:
        mounts = f", {fmt.size(cache.mounts)} of it in cache mounts" if cache.mounts else ""
        print(
            f"BuildKit's build cache on this engine holds {fmt.size(cache.bytes)} in {cache.records} records{mounts}. "
            "Every build here shares it, yours outside the tutor too, so it stays: "
            "`docker buildx du` lists it, `docker builder prune` empties it.",
            file=out,
        )
    return EXIT_FAILED if result.failures else EXIT_OK
