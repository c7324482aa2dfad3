"""Capture the README screenshot: the lesson screen after a real rebuild that followed an edit.

    .venv/bin/python assets/capture.py

Needs the engine and the course's base images.  It works in a scratch TUTOR_HOME
and removes what it built.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["TUTOR_HOME"] = tempfile.mkdtemp(prefix="tutor-capture-")
os.environ["TUTOR_SEAT"] = "capture"

from tutor.ui.app import TutorApp  # noqa: E402
from tutor.ui.screens.lesson import LessonScreen  # noqa: E402


async def wait(pilot, condition, timeout: float = 900) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError
        await pilot.pause(0.2)


async def main() -> None:
    app = TutorApp()
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause(1)
        await pilot.press("enter")
        await wait(pilot, lambda: isinstance(app.screen, LessonScreen))
        screen = app.screen
        for round_ in range(2):
            if round_ == 1:
                main_go = screen._workspace / "main.go"
                main_go.write_text(main_go.read_text().replace("Hello, Docker with Go!", "Hello again, Docker with Go!"))
            before = screen.builds_started
            await pilot.press("b")
            await wait(pilot, lambda: screen.builds_started > before and not screen.building)
        app.clear_notifications()
        await pilot.pause(0.5)
        app.save_screenshot(str(ROOT / "assets" / "lesson-after-build.svg"))
    subprocess.run([sys.executable, "-m", "tutor", "clean", "--seat", "capture"], check=False)


if __name__ == "__main__":
    asyncio.run(main())
