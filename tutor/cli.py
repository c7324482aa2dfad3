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
COMMANDS = (
    "build", "run", "clean", "doctor", "images", "layers", "sizes", "lessons", "progress", "watch", "kiosk", "serve", "pool"
)


def _available() -> list[str]:
    return [name for name in COMMANDS if importlib.util.find_spec(f"tutor.commands.{name}") is not None]


# The options of `tutor` itself (each takes a value): the parser's, and what `_opens_the_app` knows.
APP_OPTIONS: dict[str, dict[str, str]] = {
    "--lessons": {"metavar": "DIR", "help": "use the course in DIR instead of the shipped one"},
    "--engine": {"metavar": "URL", "help": "Docker engine to use (default: DOCKER_HOST or the active context)"},
    "--builder": {
        "metavar": "auto|buildkit|classic",
        "help": "how the exercises build: auto is what your own `docker build` uses (default: TUTOR_BUILDER, else auto)",
    },
}


def _opens_the_app(argv: Sequence[str]) -> bool:
    """True when ``argv`` is only options of `tutor` itself: no command, no help, nothing unknown.

    Then the parser needs no subcommands, and the command modules (a tenth of the start-up) stay
    unloaded: opening the course is the common case.
    """
    args = iter(argv)
    for arg in args:
        name, eq, _value = arg.partition("=")
        if name not in APP_OPTIONS:
            return False
        if not eq and next(args, None) is None:
            return False  # a missing value: let the full parser say so
    return True


def build_parser(commands: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tutor",
        description="Learn how Docker images are built, by building them. Run without a command to open the course.",
    )
    parser.add_argument("--version", action="version", version=f"tutor {__version__}")
    for option, settings in APP_OPTIONS.items():
        parser.add_argument(option, metavar=settings["metavar"], help=settings["help"])
    if not commands:
        parser.set_defaults(command=None)
        return parser
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
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(commands=not _opens_the_app(argv)).parse_args(argv)
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
