"""One browser seat: the process ``tutor serve`` starts for each browser tab.

textual-serve runs one command per websocket (per tab).  This module is that
command: it draws the next seat name (a counter under a lock, with a word to
make it easy to say out loud, e.g. ``otter-07``), then starts itself again as
the process serving that seat, with the seat's ``TUTOR_SEAT`` and ``TUTOR_HOME``
in its environment (so each tab has its own workspace, progress and image tags);
that process runs the tutor.  In kiosk mode the seat is reset when its tab
closes: progress exported, images and files removed.

Its stdout belongs to textual-serve's protocol: nothing else may be printed.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from pathlib import Path

WORDS = (
    "otter", "heron", "lynx", "badger", "puffin", "marten", "ibis", "gecko", "bison", "crane",
    "walrus", "koala", "okapi", "tapir", "raven", "wombat", "quokka", "stoat", "egret", "dingo",
)
COUNTER = ".seat-counter"


MAX_SEAT = 40  # as paths.seat_name() allows


def seat_name(number: int, prefix: str | None = None) -> str:
    """``otter-01``, ``heron-02`` ...; with a prefix ``room-a-otter-01`` (the prefix shortened to fit)."""
    word = WORDS[(number - 1) % len(WORDS)]
    name = f"{word}-{number:02d}"
    if not prefix:
        return name
    room = prefix[: MAX_SEAT - len(name) - 1].rstrip("-._")
    return f"{room}-{name}" if room else name


def next_seat(root: Path, prefix: str | None = None) -> str:
    """The next free seat name under ``root``; safe when many tabs open at once."""
    root.mkdir(parents=True, exist_ok=True)
    counter = root / COUNTER
    with open(counter, "a+", encoding="utf-8") as fh:
        try:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        except ImportError:  # pragma: no cover - no flock: one server per root is assumed
            pass
        fh.seek(0)
        text = fh.read().strip()
        number = int(text) if text.isdigit() else 0
        while True:
            number += 1
            name = seat_name(number, prefix)
            if not (root / name).exists():  # a restarted server never reuses a seat's folder
                break
        (root / name).mkdir()
        fh.seek(0)
        fh.truncate()
        fh.write(str(number))
        fh.flush()
    return name


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tutor-browser-seat")
    p.add_argument("--root", required=True, help="folder holding every browser seat's home")
    p.add_argument("--kiosk", metavar="CONFIG", help="run the kiosk with this config")
    p.add_argument("--engine", metavar="URL")
    p.add_argument("--pool", metavar="FILE", help="draw the seat's engine from this engine pool")
    p.add_argument("--lessons", metavar="DIR")
    p.add_argument("--seat", help=argparse.SUPPRESS)  # given to the process that serves the drawn seat
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parser().parse_args(argv)
    root = Path(args.root)
    config = None
    if args.kiosk:
        from tutor.workshop.config import ConfigError, load_config

        try:
            config = load_config(args.kiosk)  # `tutor serve` checked it; it may have changed since
        except ConfigError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    from tutor.seat import Seat

    if args.seat is None:
        name = next_seat(root, config.seat if config else None)
        if args.pool:
            return _serve_from_pool(args, argv, root, name, config)
        # A browser tab is a workshop seat with a home of its own.
        drawn = Seat(name, True, config.port_range if config else None, args.engine, root / name)
        from tutor.workshop import seat_process

        return seat_process.serve(drawn, [sys.executable, "-m", "tutor.workshop.browser_seat", *argv, "--seat", name])
    seat, home = args.seat, root / args.seat
    here = Seat.from_environment(args.engine)
    if (here.name, here.home, here.workshop) != (seat, home, True):
        print(f"error: this process does not serve seat {seat}: it is started by `tutor serve`", file=sys.stderr)
        return 2
    cli_args: list[str] = []
    if args.engine:
        cli_args += ["--engine", args.engine]
    if args.lessons:
        cli_args += ["--lessons", args.lessons]
    cli_args += ["kiosk", "--config", args.kiosk, "--seat", seat] if config else []

    from tutor.cli import main as tutor_main

    code = tutor_main(cli_args)
    if config is not None:
        _reset_after_close(seat, config, args.engine, home)
        _prune_empty_folders(home)
    return code


ENGINE_NOTE = "engine"  # in the seat's folder: the pool engine it was given, for a reset finished later


def _serve_from_pool(args, argv: list[str], root: Path, name: str, config) -> int:
    """The drawn seat's process, on the pool's engine with the most free room."""
    from tutor.workshop import pool as pool_mod

    try:
        pool = pool_mod.load_pool(args.pool)  # `tutor serve` checked it; it may have changed since
    except pool_mod.PoolError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    child = _without_option(argv, "--engine")

    def command(engine) -> list[str]:
        return [sys.executable, "-m", "tutor.workshop.browser_seat", *child, "--engine", engine.url, "--seat", name]

    return serve_on_pool(pool, root, name, config.port_range if config else None, command)


def serve_on_pool(pool, root: Path, name: str, port_range: tuple[int, int] | None, command) -> int:
    """Put seat ``name`` on the pool's engine with the most free room and run ``command(engine)``
    as its process: told that engine (its URL in the command, ``DOCKER_HOST`` and TLS settings in
    its ``env=``), with its home under ``root``. Its place is freed when it ends."""
    from tutor.seat import Seat
    from tutor.workshop import pool as pool_mod
    from tutor.workshop import seat_process

    engine = pool_mod.assign(pool, root, name).engine
    (root / name).mkdir(parents=True, exist_ok=True)
    (root / name / ENGINE_NOTE).write_text(engine.name + "\n", encoding="utf-8")
    drawn = Seat(name, True, port_range, engine.url, root / name, engine.build_queue(root))
    try:
        return seat_process.serve(drawn, command(engine), base=engine.environment(os.environ))
    finally:
        pool_mod.release(root, name)
        if name not in pending_seats(root):  # the note is only for a reset to finish later
            (root / name / ENGINE_NOTE).unlink(missing_ok=True)


def _without_option(argv: list[str], option: str) -> list[str]:
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == option:
            skip = True
            continue
        if arg.startswith(option + "="):
            continue
        out.append(arg)
    return out


def _prune_empty_folders(home: Path) -> None:
    """What a reset emptied goes too: the seat's folder keeps only its seat.log (the reset's
    summary, for the instructor) and stays as the mark that this seat name was used."""
    for folder in sorted((p for p in home.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        try:
            folder.rmdir()  # only when empty
        except OSError:
            pass


def _reset_after_close(seat: str, config, engine: str | None, home: Path) -> None:
    """The tab closed: this seat's session is over (the next tab is a new seat)."""
    from tutor.workshop.reset import ResetError, has_session, pending_reset, reset_seat

    if not has_session(seat) and not pending_reset(seat):
        return  # nobody started: nothing to export, nothing built
    log = home / "seat.log"
    try:
        from tutor.course.loader import load_course
        from tutor.paths import shipped_lessons
        from tutor.workshop.config import apply_lessons

        course = apply_lessons(load_course(config.course or shipped_lessons()), config.lessons)
        result = reset_seat(seat, config.export_dir, engine=engine or config.engine, course=course, reason="closed")
        log.write_text(result.summary() + "\n", encoding="utf-8")
    except ResetError as exc:
        log.write_text(f"{exc.message}\nfix: {exc.fix}\n", encoding="utf-8")
    except Exception:  # noqa: BLE001 - stdout is not ours: keep the reason on disk
        log.write_text(traceback.format_exc(), encoding="utf-8")


def pending_seats(root: Path) -> list[str]:
    """Browser seats under ``root`` whose reset was interrupted (their server stopped mid-reset)."""
    found = []
    for home in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else ():
        if (home / "data" / "seats" / f".{home.name}.reset.json").exists():
            found.append(home.name)
    return found


def finish_pending_resets(root: Path, kiosk: Path, engine: str | None = None, pool=None) -> list[tuple[str, int]]:
    """Finish each interrupted reset, in a process with that seat's home (on the pool engine it
    was given, with a ``pool``); (seat, exit code) each."""
    import subprocess

    from tutor.seat import Seat

    done = []
    for seat in pending_seats(root):
        base: dict[str, str] = dict(os.environ)
        url = engine
        note = root / seat / ENGINE_NOTE
        given = pool.engine(note.read_text(encoding="utf-8").strip()) if pool is not None and note.is_file() else None
        if given is not None:
            url, base = given.url, given.environment(os.environ)
        argv = [sys.executable, "-m", "tutor", *(["--engine", url] if url else []),
                "kiosk", "--config", str(kiosk), "--seat", seat, "reset"]
        env = Seat(seat, home=root / seat).environment(base)
        code = subprocess.run(argv, env=env, capture_output=True, text=True).returncode
        done.append((seat, code))
    return done


if __name__ == "__main__":
    sys.exit(main())
