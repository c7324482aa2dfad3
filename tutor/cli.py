"""Command line: `tutor` opens the course; subcommands do the same work headless.

Each subcommand lives in ``tutor/commands/<name>.py`` and provides
``add_parser(subparsers)`` and ``run(args) -> int``.  Command modules import
their heavy dependencies inside ``run`` so that start-up stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
import traceback
from collections.abc import Sequence

from tutor import __version__

# In the order `tutor --help` lists them.
COMMANDS = ("build", "run", "clean", "doctor", "images", "layers", "sizes", "lessons", "progress", "watch", "kiosk", "serve")


def _available() -> list[str]:
    return [name for name in COMMANDS if importlib.util.find_spec(f"tutor.commands.{name}") is not None]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tutor",
        description="Learn how Docker images are built, by building them. Run without a command to open the course.",
    )
    parser.add_argument("--version", action="version", version=f"tutor {__version__}")
    parser.add_argument("--lessons", metavar="DIR", help="use the course in DIR instead of the shipped one")
    parser.add_argument("--engine", metavar="URL", help="Docker engine to use (default: DOCKER_HOST or the active context)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _available():
        module = importlib.import_module(f"tutor.commands.{name}")
        module.add_parser(sub)
    return parser


def _dispatch(args: argparse.Namespace) -> int:
    name = args.command or "app"
    module = importlib.import_module(f"tutor.commands.{name}")
    return int(module.run(args))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
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
