"""One headless workshop seat: the process a browser tab's seat would be, without the terminal UI.

Started by ``benchmarks/pool_seats.py`` through ``browser_seat.serve_on_pool`` (so with the seat's
environment and its pool engine, as a tab's process is), it runs lesson 1's exercise as the kiosk
does (``SeatExerciseRun``: build go_app, then the HTTP check) and writes what the seat saw as JSON:
passed or not, the failure's words, the timings, and its process's peak memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--engine", required=True)
    p.add_argument("--seat", required=True)
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    started = time.time()
    out = Path(args.out)
    seen: dict = {"seat": args.seat, "engine": args.engine, "started": started, "passed": False, "said": []}

    def write() -> None:
        seen["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        out.write_text(json.dumps(seen), encoding="utf-8")

    try:
        from tutor.course.loader import load_course
        from tutor.course.runner import BuildStarted, ExerciseFinished
        from tutor.course.workspace import prepare_workspace
        from tutor.engine.events import BuildFailed, StepStarted
        from tutor.paths import shipped_lessons
        from tutor.seat import Seat
        from tutor.workshop.safety import SeatExerciseRun

        seat = Seat.from_environment(args.engine)
        assert seat.name == args.seat and seat.workshop, seat  # the environment is the seat's
        lesson = load_course(shipped_lessons()).lesson("meet-the-app")
        exercise = lesson.exercises[0]
        workspace = prepare_workspace(lesson, exercise, seat=seat.name)
        run = SeatExerciseRun(
            exercise, workspace, lesson.id, seat=seat.name, engine=seat.engine,
            workspace_root=seat.workspace, port_range=seat.port_range or (18100, 18199),
        )  # fmt: skip
        for event in run.events():
            if isinstance(event, BuildStarted):
                seen["build_started"] = time.time()
            elif isinstance(event, StepStarted) and "first_step" not in seen:
                seen["first_step"] = time.time()
                Path(str(out) + ".building").touch()  # the benchmark waits on this, not on a clock
            elif isinstance(event, BuildFailed):
                seen["said"].append(f"build failed: {event.message}" + (f" (fix: {event.fix})" if event.fix else ""))
            elif isinstance(event, ExerciseFinished):
                seen["passed"] = event.passed
                seen["build_seconds"] = list(event.build_seconds)
                for result in event.results:
                    if not result.passed:
                        seen["said"].append(f"check {result.kind} failed: {result.found}")
    except Exception as exc:  # noqa: BLE001 - what the seat saw is the measurement
        seen["said"].append(f"error: {exc}")
    seen["seconds"] = round(time.time() - started, 2)
    write()
    return 0 if seen["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
