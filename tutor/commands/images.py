"""`tutor images status | pull | stand-in`: the base images the course builds on."""

from __future__ import annotations

import sys
from typing import TextIO

from tutor import fmt
from tutor.commands.engine_access import connect_or_explain
from tutor.commands.exit_codes import EXIT_FAILED, EXIT_NO_ENGINE, EXIT_OK, EXIT_USAGE


def add_parser(sub) -> None:
    p = sub.add_parser("images", help="the base images the course needs: status, pull, stand-in, save, load")
    isub = p.add_subparsers(dest="images_command", metavar="ACTION", required=True)
    isub.add_parser("status", help="present, stand-in or missing")
    isub.add_parser("pull", help="pull them from a registry")
    q = isub.add_parser("stand-in", help="build offline stand-ins from local ingredients (busybox, Go toolchain)")
    q.add_argument("--force", action="store_true", help="rebuild stand-ins that exist")
    s = isub.add_parser("save", help="write them into one file: a bundle for machines without a registry")
    s.add_argument("file", metavar="FILE")
    s = isub.add_parser("load", help="load a bundle made by `tutor images save` (or `docker save`)")
    s.add_argument("file", metavar="FILE")


def run(args, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    if args.images_command in ("save", "load"):
        from tutor.workshop.bundle import run_command

        return run_command(args.images_command, args.file, engine=args.engine, out=out)
    return images(args.images_command, force=getattr(args, "force", False), engine=args.engine, out=out)


def images(action: str, force: bool = False, engine: str | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    from tutor.engine import baseimages, standins

    api = connect_or_explain(engine, out)
    if api is None:
        return EXIT_NO_ENGINE
    try:
        if action == "status":
            statuses = baseimages.status(api)
            for s in statuses:
                size = f"  {fmt.size(s.size)}" if s.size else ""
                note = f"  ({s.note})" if s.note else ""
                print(f"{s.name:<22} {s.state:<9}{size}{note}", file=out)
            missing = baseimages.missing(statuses)
            if missing:
                print(
                    "fix: `tutor images pull`, `tutor images load FILE` from a workshop bundle, "
                    "or `tutor images stand-in` without a registry",
                    file=out,
                )
            return EXIT_FAILED if missing else EXIT_OK
        if action == "pull":
            try:
                for line in baseimages.pull(api):
                    print(line, file=out, flush=True)
            except baseimages.PullFailed:
                return EXIT_FAILED
            return EXIT_OK
        if action == "stand-in":
            try:
                for line in standins.make_standins(api, force=force):
                    print(line, file=out, flush=True)
            except standins.StandInFailed as exc:
                print(f"error: {exc}", file=out)
                return EXIT_FAILED
            return EXIT_OK
    finally:
        api.close()
    print(f"unknown action {action}", file=out)
    return EXIT_USAGE
