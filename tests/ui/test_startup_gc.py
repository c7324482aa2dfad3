"""Start-up runs without garbage collections; the drawn course map turns them back on."""

from __future__ import annotations

import gc

from tests.ui.conftest import wait_for
from tutor.ui import quiet_gc
from tutor.ui.screens.course_map import CourseMapScreen
from tutor.ui.screens.lesson import LessonScreen


async def test_collections_come_back_once_the_course_map_is_drawn_and_a_lesson_settles(make_app) -> None:
    try:
        quiet_gc.pause_for_startup()  # what `tutor` does before importing the app
        app = make_app()
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, CourseMapScreen) and gc.isenabled())
            assert gc.get_freeze_count() > 0

            # A lesson screen, once drawn, is frozen too; leaving it gives its objects back.
            gc.unfreeze()
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, LessonScreen))
            await wait_for(pilot, lambda: gc.get_freeze_count() > 0, timeout=5)
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, CourseMapScreen) and gc.get_freeze_count() == 0)
    finally:
        gc.enable()
        gc.unfreeze()
