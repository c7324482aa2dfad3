"""Capture the README picture: lesson 1 mid-build, replaying a REAL build recorded after an edit to
main.go (tests/fixtures/streams/edit_main_go.jsonl), so the picture is the same on every run.

    .venv/bin/python assets/capture.py

Needs no engine. Writes assets/lesson-mid-build.svg.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["TUTOR_HOME"] = tempfile.mkdtemp(prefix="tutor-capture-")
os.environ["TUTOR_SEAT"] = "local"

from tutor.engine.doctor import report_from_dict  # noqa: E402
from tutor.ui.app import TutorApp  # noqa: E402
from tutor.ui.backend import ReplayBackend  # noqa: E402
from tutor.ui.screens.course_map import CourseMapScreen  # noqa: E402
from tutor.ui.screens.lesson import LessonScreen  # noqa: E402

STREAM = ROOT / "tests" / "fixtures" / "streams" / "edit_main_go.jsonl"
REPORT = ROOT / "tests" / "fixtures" / "doctor_connected.json"


async def until(pilot, condition) -> None:
    while not condition():
        await pilot.pause(0.05)


async def main() -> None:
    backend = ReplayBackend([STREAM], report_from_dict(json.loads(REPORT.read_text())), speed=1.0)
    app = TutorApp(lessons_dir=ROOT / "lessons", backend=backend, engine_check_seconds=0)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, CourseMapScreen))
        await pilot.pause(0.5)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, LessonScreen))
        await pilot.pause(0.5)
        await pilot.press("b")
        screen = app.screen
        await until(pilot, lambda: screen.record.steps.get(7) is not None and screen.record.steps[7].status == "running")
        await pilot.pause(6)  # go build has run a few seconds, as the picture's caption says
        app.save_screenshot(filename="lesson-mid-build.svg", path=str(ROOT / "assets"))


if __name__ == "__main__":
    asyncio.run(main())
