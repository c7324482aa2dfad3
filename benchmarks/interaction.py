"""Opening a lesson and switching its tabs, from the key press to the screen updated.

The real TutorApp on the shipped course (160x48), with the real engine backend. Keys are posted
the way a terminal's input reaches the app; a press is answered when the screen has been drawn
after it (Textual's ``call_after_refresh`` from the action, or from the lesson screen's mount):

- open: Enter on the course map until the lesson screen is drawn, for each of the first
  lessons in turn (Escape back to the map in between, not counted);
- tabs: 1, 2, 3, 4 (lesson text, Dockerfile, exercise, containers), round after round.

p50, p99 and the slowest, per kind and together.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

TAB_KEYS = ("2", "3", "4", "1")


async def _measure(lessons: int, tab_rounds: int) -> dict[str, Any]:
    from textual import events

    from benchmarks.probes import percentile
    from tutor import paths
    from tutor.ui.app import TutorApp
    from tutor.ui.backend import EngineBackend
    from tutor.ui.screens.lesson import LessonScreen

    drawn: list[float] = []
    original_mount = LessonScreen.on_mount

    def on_mount(screen: LessonScreen) -> None:
        original_mount(screen)
        screen.call_after_refresh(lambda: drawn.append(time.perf_counter()))

    LessonScreen.on_mount = on_mount  # type: ignore[method-assign]
    app = TutorApp(lessons_dir=paths.shipped_lessons(), backend=EngineBackend(), engine_check_seconds=0)
    opens: list[float] = []
    tabs: list[float] = []
    answered: list[float] = []
    try:
        async with app.run_test(size=(160, 48)) as pilot:

            async def until(condition: Callable[[], bool], timeout: float = 30) -> None:
                deadline = time.monotonic() + timeout
                while not condition():
                    if time.monotonic() > deadline:
                        raise TimeoutError("the TUI did not get there in time")
                    await asyncio.sleep(0.001)

            def press(key: str, character: str | None) -> float:
                pressed = time.perf_counter()
                app.post_message(events.Key(key, character))
                return pressed

            await until(lambda: app.screen.__class__.__name__ == "CourseMapScreen")
            await pilot.pause(0.3)
            for n in range(lessons):
                for _ in range(n):  # the n-th lesson: moving there is not measured
                    await pilot.press("down")
                drawn.clear()
                pressed = press("enter", "\r")
                await until(lambda: bool(drawn))
                opens.append(drawn[0] - pressed)
                screen = app.screen
                assert isinstance(screen, LessonScreen)
                await pilot.pause(0.6)  # the lesson's own start (timers, first engine look) settles
                original = screen.action_show_tab

                def show_tab(tab: str, _original: Any = original, _screen: Any = screen) -> None:
                    _original(tab)
                    _screen.call_after_refresh(lambda: answered.append(time.perf_counter()))

                screen.action_show_tab = show_tab  # type: ignore[method-assign]
                for _ in range(tab_rounds):
                    for key in TAB_KEYS:
                        answered.clear()
                        pressed = press(key, key)
                        await until(lambda: bool(answered))
                        tabs.append(answered[0] - pressed)
                        await asyncio.sleep(0.05)  # a person's pace between presses
                await pilot.press("escape")
                await until(lambda: app.screen.__class__.__name__ == "CourseMapScreen")
                await pilot.press("home")
                await pilot.pause(0.3)
    finally:
        LessonScreen.on_mount = original_mount  # type: ignore[method-assign]
    every = opens + tabs

    def ms(values: list[float], q: float) -> float:
        return round(percentile(values, q) * 1000, 1)

    return {
        "lessons_opened": len(opens),
        "tab_switches": len(tabs),
        "open_p50_ms": ms(opens, 50),
        "open_p99_ms": ms(opens, 99),
        "tab_p50_ms": ms(tabs, 50),
        "tab_p99_ms": ms(tabs, 99),
        "all_p99_ms": ms(every, 99),
        "open_ms": [round(x * 1000, 1) for x in opens],
        "tab_ms": [round(x * 1000, 1) for x in tabs],
    }


def measure(lessons: int = 4, tab_rounds: int = 4) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="tutor-bench-interaction-") as tmp:
        os.environ["TUTOR_HOME"] = str(Path(tmp) / "home")
        os.environ.setdefault("TUTOR_SEAT", f"bench-{os.getpid()}")
        return asyncio.run(_measure(lessons, tab_rounds))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lessons", type=int, default=4)
    parser.add_argument("--tab-rounds", type=int, default=4)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.lessons, args.tab_rounds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
