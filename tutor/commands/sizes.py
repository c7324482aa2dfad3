"""`tutor sizes [--seat SEAT] [--json]`: the size race of the images built for a seat, as bars.

Every image the exercises (and `tutor build`) made for the seat, biggest first,
against the floor: the static Go binary alone.  The smallest image whose
exercise passes its checks is marked with a star.
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import asdict
from typing import TextIO

from tutor.commands.engine_access import connect_or_explain
from tutor.commands.exit_codes import EXIT_FAILED, EXIT_NO_ENGINE, EXIT_OK

MAX_WIDTH = 100


def add_parser(sub) -> None:
    p = sub.add_parser("sizes", help="the size race of the images built for a seat, against the Go binary alone")
    p.add_argument("--seat", metavar="SEAT", help="whose images (default: this seat)")
    p.add_argument("--json", action="store_true", help="print JSON")


def run(args, out: TextIO | None = None) -> int:
    return sizes(seat=args.seat, lessons=args.lessons, as_json=args.json, engine=args.engine, out=out)


def sizes(
    seat: str | None = None,
    lessons: str | None = None,
    as_json: bool = False,
    engine: str | None = None,
    out: TextIO | None = None,
    width: int | None = None,
) -> int:
    from pathlib import Path

    from tutor import paths
    from tutor.course.loader import load_course
    from tutor.course.progress import ProgressStore
    from tutor.engine.seat_race import course_names, passed_exercises, race_notes, seat_race
    from tutor.engine.sizerace import render_bars
    from tutor.seat import Seat

    out = out or sys.stdout
    seat = seat or Seat.from_environment(engine).name  # this command is where the seat is learnt
    course = load_course(Path(lessons) if lessons else paths.shipped_lessons())
    names = course_names(course)
    progress, _notice = ProgressStore(paths.progress_file(seat)).load()
    passed = passed_exercises(progress, names)
    api = connect_or_explain(engine, out)
    if api is None:
        return EXIT_NO_ENGINE
    try:
        race = seat_race(api, seat, names, passed)
    except Exception as exc:  # noqa: BLE001 - the engine went away mid-measure: say so, no traceback
        print(f"error: the images of seat {seat} could not be measured: {exc}", file=out)
        return EXIT_FAILED
    finally:
        api.close()
    if as_json:
        print(json.dumps({
            "seat": race.seat,
            "rows": [asdict(r) for r in race.rows],
            "floor": asdict(race.floor) if race.floor else None,
            "champion": race.champion.ref if race.champion else None,
            "notes": [asdict(n) for n in race_notes(race)],
        }, indent=2), file=out)
        return EXIT_OK
    width = width or min(MAX_WIDTH, shutil.get_terminal_size((80, 24)).columns)
    count = len(race.images)
    print(f"Image size race, seat {seat}: {count} image{'s' if count != 1 else ''}", file=out)
    for row, line in zip(race.rows, render_bars(race.rows, width - 2)):
        print(("★ " if row is race.champion else "  ") + line, file=out)
    for note in race_notes(race):
        print(("★ " if note.kind == "champion" else "") + note.text, file=out)
    return EXIT_OK
