"""`tutor kiosk`: the course on a shared workshop seat that learners cannot leave.

    tutor kiosk [--config FILE] [--seat NAME]   run the seat (docs/workshop.md)
    tutor kiosk hash-pin                        hash an instructor PIN for the config
    tutor kiosk check [--config FILE]           is this seat ready? (the start-up check)
    tutor kiosk reset [--config FILE]           export this seat's session, then reset it
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from tutor.commands.exit_codes import EXIT_FAILED, EXIT_OK, EXIT_USAGE

if TYPE_CHECKING:
    from tutor.seat import Seat

CONFIG_NAME = "kiosk.toml"


def add_parser(sub) -> None:
    p = sub.add_parser("kiosk", help="run the course as a workshop seat learners cannot leave (docs/workshop.md)")
    p.add_argument("--config", metavar="FILE", help=f"the kiosk config (default: {CONFIG_NAME} in the tutor's config folder)")
    p.add_argument("--seat", metavar="NAME", help="the seat's name (default: `seat` in the config)")
    # The same options after the action (`tutor kiosk reset --config F`), without overriding those before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    common.add_argument("--seat", metavar="NAME", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    ksub = p.add_subparsers(dest="kiosk_command", metavar="ACTION")
    ksub.add_parser("hash-pin", help="hash an instructor PIN: prints the pin_hash line for the config")
    check = ksub.add_parser("check", parents=[common], help="is this seat ready? (engine, base images, export folder, ports)")
    check.add_argument("--pool", metavar="FILE", help="check the seat on every engine of this engine pool")
    ksub.add_parser("reset", parents=[common], help="export this seat's session, then remove its images and files")


def run(args, out: TextIO = sys.stdout) -> int:
    action = getattr(args, "kiosk_command", None)
    if action == "hash-pin":
        return hash_pin_command(sys.stdin, out)
    config = _config(args)
    if config is None:
        return EXIT_USAGE
    try:
        lessons = _lessons_dir(args, config)
    except _NoCourseFolder:
        return EXIT_USAGE
    if action == "check" and getattr(args, "pool", None):
        return check_pool_command(config, lessons, _config_path(args), args.pool, out)
    if action == "check":
        return check_command(config, lessons, out)
    if action == "reset":
        return reset_command(config, lessons, out)
    return run_kiosk(config, lessons, _config_path(args))


# -- shared ---------------------------------------------------------------------------------------------


def _config_path(args) -> Path:
    from tutor import paths

    return Path(args.config).expanduser() if args.config else paths.config_dir() / CONFIG_NAME


def _config(args):
    from tutor.workshop.config import ConfigError, load_config, parse_config

    path = _config_path(args)
    try:
        config = load_config(path)
        if args.seat:
            # Checked as the file's seat is: it names tags, labels and folders.
            parse_config({"seat": args.seat, "pin_hash": config.pin_hash, "export_dir": str(config.export_dir)}, "--seat")
            config = replace(config, seat=args.seat)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None
    return config.with_engine(getattr(args, "engine", None))


class _NoCourseFolder(Exception):
    """The configured course folder is missing (said on stderr)."""


def _lessons_dir(args, config) -> Path | None:
    chosen = getattr(args, "lessons", None) or config.course
    if chosen is None:
        return None
    folder = Path(chosen).expanduser()
    if not folder.is_dir():
        print(f"error: no course folder at {folder}", file=sys.stderr)
        raise _NoCourseFolder
    return folder


def _course(config, lessons: Path | None):
    from tutor import paths
    from tutor.course.loader import load_course
    from tutor.workshop.config import apply_lessons

    return apply_lessons(load_course(lessons or paths.shipped_lessons()), config.lessons)


# -- the actions ------------------------------------------------------------------------------------------


def hash_pin_command(stdin: TextIO, out: TextIO) -> int:
    from tutor.workshop.config import hash_pin, pin_problem

    if stdin.isatty():
        pin = getpass.getpass("Instructor PIN: ")
        if getpass.getpass("The same PIN again: ") != pin:
            print("error: the two PINs differ; nothing was hashed", file=sys.stderr)
            return EXIT_USAGE
    else:
        pin = stdin.readline().rstrip("\r\n")  # scripts: `echo 2468 | tutor kiosk hash-pin`
    problem = pin_problem(pin)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    print(f'pin_hash = "{hash_pin(pin)}"', file=out)
    return EXIT_OK


def check_command(config, lessons: Path | None, out: TextIO) -> int:
    from tutor.engine.doctor import check
    from tutor.workshop.preflight import preflight

    result = preflight(config, _course(config, lessons), check(config.engine))
    print(f"seat {config.seat}: {result.headline()}", file=out)
    print(f"base images needed: {', '.join(result.needed_images)}", file=out)
    for problem in result.problems:
        print(f"\nproblem: {problem.what}\nfix:     {problem.fix}", file=out)
    return EXIT_OK if result.ok else EXIT_FAILED


def check_pool_command(config, lessons: Path | None, config_path: Path, pool_file: str, out: TextIO) -> int:
    """The seat's check on each engine of a pool (as `tutor serve --kiosk --pool` seats would be)."""
    from tutor.workshop.pool import PoolError, load_pool, run_on_each

    try:
        pool = load_pool(pool_file)
    except PoolError as exc:
        print("error: the pool file cannot be used:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_USAGE
    argv = [*(["--lessons", str(lessons)] if lessons else []), "kiosk", "--config", str(config_path.resolve())]
    runs = run_on_each(pool, [*argv, "--seat", config.seat, "check"])
    for r in runs:
        print(f"== engine {r.engine.name} ({r.engine.url})", file=out)
        print(r.output, file=out)
        print(file=out)
    bad = [r.engine.name for r in runs if r.code != 0]
    print(f"pool: the seat is ready on {len(runs) - len(bad)} of {len(runs)} engines" + (f"; not on {', '.join(bad)}" if bad else ""), file=out)
    return EXIT_FAILED if bad else EXIT_OK


def reset_command(config, lessons: Path | None, out: TextIO) -> int:
    from tutor.workshop.reset import ResetError, reset_seat

    try:
        result = reset_seat(config.seat, config.export_dir, engine=config.engine, course=_course(config, lessons), reason="instructor")
    except ResetError as exc:
        print(f"error: {exc.message}\nfix: {exc.fix}", file=out)
        return EXIT_FAILED
    print(f"seat {config.seat} reset: {result.summary()}", file=out)
    print(f"session exported to {result.export.json_path} (summary row in {result.export.csv_path})", file=out)
    return EXIT_OK if result.ok else EXIT_FAILED


def kiosk_seat(config, here: Seat) -> Seat:
    """The workshop seat a kiosk config describes, in this process's home."""
    from tutor import paths

    return replace(here, name=paths.clean_seat_name(config.seat), workshop=True, port_range=config.port_range)


def run_kiosk(config, lessons: Path | None, config_path: Path) -> int:
    from tutor.seat import Seat

    here = Seat.from_environment(config.engine)
    seat = kiosk_seat(config, here)
    if here != seat:
        # This process serves another seat: the kiosk runs in a process started with its seat's
        # environment, so that progress, workspace, tags and rules are the seat's from the start.
        from tutor.workshop import seat_process

        argv = [sys.executable, "-m", "tutor", *(["--engine", config.engine] if config.engine else [])]
        argv += [*(["--lessons", str(lessons)] if lessons else []), "kiosk"]
        argv += ["--config", str(config_path.resolve()), "--seat", config.seat]
        return seat_process.serve(seat, argv)
    # With this set, Textual would let ctrl+c / ctrl+z reach the terminal as signals.
    os.environ.pop("TEXTUAL_ALLOW_SIGNALS", None)
    from tutor.ui.backend import EngineBackend
    from tutor.ui.kiosk import KioskApp

    app = KioskApp(config, lessons_dir=lessons, backend=EngineBackend(config.engine), seat=seat)
    app.run()
    return int(app.return_code or EXIT_OK)
