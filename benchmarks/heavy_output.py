"""A build step that prints 100,000 lines, watched in the running TUI.

The real TutorApp opens a one-lesson course whose Dockerfile runs
``seq 1 100000 | sed 's/^/line /'`` and builds it on the real engine (or, with
``--replay``, replays the recording of that build at its recorded pace).  Measured:

- latency from the worker putting an event into the screen's channel to the
  screen having applied it (row or log updated): p50, p99, max;
- key handling: a harmless key (``1``, show the lesson text) is pressed every 50 ms
  from another thread during the whole build; the worst wait until its action ran;
- peak RSS of this process (``resource.getrusage``), and the log's line count
  against its ``max_lines`` bound.

Run it on its own (``python -m benchmarks.heavy_output``): it prints one JSON
object, and the peak RSS is that of the app alone.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

LESSON = """---
id: heavy-output
title: Heavy output
order: 1
exercises:
  - id: print-a-lot
    title: Print a lot
    goal: Build an image whose RUN step prints 100,000 lines.
    base: app
    checks:
      - build: succeeds
---

# Heavy output

Press **b**.
"""
LINES = 100_000
RECORDING = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "streams" / "heavy_output.jsonl.gz"


def _course(root: Path) -> Path:
    lesson = root / "course" / "01-heavy"
    (lesson / "app").mkdir(parents=True)
    (lesson / "lesson.md").write_text(LESSON)
    mark = uuid.uuid4().hex[:12]  # a new step for the engine's cache: the RUN really runs
    (lesson / "app" / "Dockerfile").write_text(
        f"FROM alpine:latest\nRUN echo {mark} && seq 1 {LINES} | sed 's/^/line /'\nCMD [\"true\"]\n"
    )
    return root / "course"


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


async def _measure(course: Path, replay: bool) -> dict[str, Any]:
    from benchmarks.probes import KeyProbe, TimedChannel, percentile, watch_handling
    from tutor.engine.doctor import check
    from tutor.ui.app import TutorApp
    from tutor.ui.backend import EngineBackend, ReplayBackend
    from tutor.ui.screens.lesson import LessonScreen
    from tutor.ui.widgets.build_log import BuildLog

    backend = ReplayBackend([RECORDING], check(), speed=1.0) if replay else EngineBackend()
    app = TutorApp(lessons_dir=course, backend=backend, engine_check_seconds=0)
    async with app.run_test(size=(160, 48)) as pilot:

        async def until(condition, timeout: float) -> None:
            deadline = time.monotonic() + timeout
            while not condition():
                if time.monotonic() > deadline:
                    raise TimeoutError("the TUI did not get there in time")
                await pilot.pause(0.02)

        await until(lambda: app.screen.__class__.__name__ == "CourseMapScreen", 30)
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, LessonScreen), 30)
        screen = app.screen
        rss_before = _peak_rss_mb()
        handling = watch_handling(screen, TimedChannel())
        keys = KeyProbe(app, screen)
        keys.start()
        started = time.perf_counter()
        await pilot.press("b")
        await until(lambda: screen.builds_started == 1 and not screen.building, 600)
        build_seconds = time.perf_counter() - started
        keys.stop()
        await until(lambda: keys.unanswered == 0, 10)  # the last press is answered before the app closes
        log = screen.query_one(BuildLog)
        step = max(screen.record.steps.values(), key=lambda s: s.output_lines) if screen.record.steps else None
        latencies = handling.latencies
        return {
            "source": "recording at recorded speed" if replay else "real engine",
            "succeeded": screen.record.result is not None,
            "failure": screen.record.failure.message if screen.record.failure else None,
            "output_lines": step.output_lines if step else 0,
            "build_seconds": round(build_seconds, 3),
            "events": len(latencies),
            "batches": handling.batches,
            "latency_p50_ms": round(percentile(latencies, 50) * 1000, 2),
            "latency_p99_ms": round(percentile(latencies, 99) * 1000, 2),
            "latency_max_ms": round(max(latencies, default=float("nan")) * 1000, 2),
            "key_presses": len(keys.latencies),
            "key_worst_ms": round(keys.worst * 1000, 2),
            "key_p50_ms": round(percentile(keys.latencies, 50) * 1000, 2),
            "rss_before_build_mb": round(rss_before, 1),
            "peak_rss_mb": round(_peak_rss_mb(), 1),
            "key_slowest": [
                (round(at - started, 2), round(lat * 1000)) for at, lat in sorted(keys.during, key=lambda d: -d[1])[:5]
            ],
            "log_line_count": log.line_count,
            "log_max_lines": log.max_lines,
        }


def measure(replay: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="tutor-bench-heavy-") as tmp:
        os.environ["TUTOR_HOME"] = str(Path(tmp) / "home")
        os.environ.setdefault("TUTOR_SEAT", f"bench-{os.getpid()}")
        course = _course(Path(tmp))
        try:
            return asyncio.run(_measure(course, replay))
        finally:
            if not replay:
                from benchmarks.scratch import remove_seat

                remove_seat(os.environ["TUTOR_SEAT"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replay", action="store_true", help="replay the recorded stream instead of building")
    args = parser.parse_args(argv)
    print(json.dumps(measure(replay=args.replay)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
