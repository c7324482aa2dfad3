"""The learner's loop in the app: edit, save and build, pass, restart where you left off; watch mode."""

from __future__ import annotations

from tests.ui.conftest import wait_for
from tests.ui.test_lesson_build import open_first_lesson
from tutor.ui.screens.course_map import CourseMapScreen
from tutor.ui.screens.editor import EditorScreen
from tutor.ui.screens.lesson import LessonScreen
from tutor.ui.widgets.layer_pane import LayerPane


async def test_edit_save_and_build_pass_then_restart_opens_the_next_exercise(make_app):
    app = make_app("cold")
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_first_lesson(pilot)
        assert screen.exercise.id == "build-it"
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, EditorScreen))
        editor = app.screen
        editor.editor.insert("# my first edit\n", (0, 0))
        before = screen.builds_started
        await pilot.press("ctrl+b")  # save and build
        await wait_for(pilot, lambda: app.screen is screen and screen.builds_started > before and not screen.building)
        assert (screen._workspace / "Dockerfile").read_text().startswith("# my first edit\n")
        assert screen.results and all(r.passed for r in screen.results)
        progress = app.progress_store.load()[0]
        assert progress.exercise("first-build", "build-it").state == "passed"

    again = make_app("cold")  # a new process would read the same TUTOR_HOME
    async with again.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: isinstance(again.screen, LessonScreen))
        assert again.screen.exercise.id == "two-stages"  # the next exercise, not the map
        assert isinstance(again.screen_stack[-2], CourseMapScreen)  # esc goes back to the map


async def test_hints_are_revealed_one_at_a_time_and_kept(make_app):
    app = make_app("cold")
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_first_lesson(pilot)
        await pilot.press("h")
        await pilot.pause()
        assert screen.hints_shown == 1
        await pilot.press("h")
        await pilot.press("h")  # only two hints: stays at two
        await pilot.pause()
        assert screen.hints_shown == 2
    again = make_app("cold")
    async with again.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: isinstance(again.screen, LessonScreen))
        assert again.screen.hints_shown == 2


async def test_watch_mode_rebuilds_when_a_file_is_saved(make_app):
    app = make_app("cold", "edit_main_go")
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_first_lesson(pilot)
        await pilot.press("w")
        await wait_for(pilot, lambda: screen.watching)
        await pilot.pause(0.5)  # the watcher is set up
        main_go = screen._workspace / "main.go"
        main_go.write_text(main_go.read_text() + "\n// saved from my editor\n")
        table = screen.query_one(LayerPane)
        await wait_for(pilot, lambda: screen.results and not screen._status_note, timeout=15)
        assert str(table.get_row("9")[2]).split()[-1] in ("BUILT", "CACHED")
        assert all(r.passed for r in screen.results)
        await pilot.press("w")
        await wait_for(pilot, lambda: not screen.watching, timeout=10)
