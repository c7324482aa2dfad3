"""Command line: `tutor` opens the course; subcommands do the same work headless."""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence

from tutor import __version__


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tutor",
        description="Learn how Docker images are built, by building them. Run without a command to open the course.",
    )
    parser.add_argument("--version", action="version", version=f"tutor {__version__}")
    parser.add_argument("--lessons", metavar="DIR", help="use the course in DIR instead of the shipped one")
    parser.add_argument("--engine", metavar="URL", help="Docker engine to use (default: DOCKER_HOST or the active context)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("build", help="build a Dockerfile and show every step as it happens")
    p.add_argument("path", nargs="?", default=".", help="build context folder (default: .)")
    p.add_argument("-f", "--file", dest="dockerfile", metavar="DOCKERFILE", help="Dockerfile (default: PATH/Dockerfile)")
    p.add_argument("-t", "--tag", help="name the image (default: tutor/<seat>/<folder>:latest)")
    p.add_argument("--json", action="store_true", help="one JSON object per event")
    p.add_argument("--no-cache", action="store_true", help="do not use the layer cache")
    p.add_argument("-v", "--verbose", action="store_true", help="also print the output of every step")

    p = sub.add_parser("doctor", help="check the engine, the base images and the disk")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("images", help="the base images the course needs")
    isub = p.add_subparsers(dest="images_command", metavar="ACTION", required=True)
    isub.add_parser("status", help="present, stand-in or missing")
    isub.add_parser("pull", help="pull them from a registry")
    q = isub.add_parser("stand-in", help="build offline stand-ins from local ingredients")
    q.add_argument("--force", action="store_true", help="rebuild stand-ins that exist")
    return parser


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "build":
        from tutor.commands import build

        return build.run(
            args.path,
            dockerfile=args.dockerfile,
            tag=args.tag,
            as_json=args.json,
            no_cache=args.no_cache,
            verbose=args.verbose,
            engine=args.engine,
        )
    if args.command == "doctor":
        from tutor.commands import doctor

        return doctor.run(as_json=args.json, engine=args.engine)
    if args.command == "images":
        from tutor.commands import images

        return images.run(args.images_command, force=getattr(args, "force", False), engine=args.engine)
    from tutor.commands import app

    return app.run(lessons=args.lessons, engine=args.engine)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1
    except Exception as exc:  # noqa: BLE001 - a learner never sees a traceback
        from tutor import paths

        log = paths.data_dir() / "crash.log"
        try:
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_text(traceback.format_exc(), encoding="utf-8")
            where = f" (details in {log})"
        except OSError:
            where = ""
        print(f"tutor: unexpected error: {exc}{where}", file=sys.stderr)
        return 70
