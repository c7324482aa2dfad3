"""Progress shows as it happens: the course map under a lesson follows every pass; Continue goes on."""

from __future__ import annotations

from tests.ui.conftest import wait_for
from tests.ui.test_lesson_build import build, open_first_lesson
from tutor.ui.screens.course_map import CourseMapScreen
from tutor.ui.screens.lesson import LessonScreen


def rendered(renderable) -> str:
    """What a rich renderable reads as, on one wide line per line."""
    import io

    from rich.console import Console

    console = Console(width=200, file=io.StringIO(), record=True)
    console.print(renderable)
    return console.export_text()


def _map(app) -> CourseMapScreen:
    return next(s for s in app.screen_stack if isinstance(s, CourseMapScreen))


def _intro(app) -> str:
    return str(_map(app).query_one("#intro").render())


def _lesson_row(app, index: int) -> str:
    from textual.widgets import OptionList

    option = _map(app).query_one("#lessons", OptionList).get_option_at_index(index)
    return "".join(str(part) if not hasattr(part, "plain") else part.plain for part in option.prompt.renderables[:1])


async def test_passing_an_exercise_updates_the_map_without_a_restart(make_app):
    app = make_app("cold")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_first_lesson(pilot)
        assert "0/2 exercises passed" in _intro(app) and _lesson_row(app, 0).startswith(" · ")
        await build(pilot, screen)
        assert all(r.passed for r in screen.results)
        assert "1/2 exercises passed" in _intro(app)
        assert _lesson_row(app, 0).startswith(" ◐ ")  # started, one of two passed
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, CourseMapScreen))
        assert "1/2 exercises passed" in _intro(app)


async def test_continue_opens_the_next_unfinished_exercise(make_app):
    app = make_app("cold")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, CourseMapScreen))
        lesson = app.course.lessons[0]
        for exercise in lesson.exercises:  # passed elsewhere (tutor watch) while the map shows
            app.record_attempt(lesson, exercise, True, 1.0)
        assert _lesson_row(app, 0).startswith(" ✓ ") and "1 done" in _intro(app)
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, LessonScreen))
        assert app.screen.lesson.id == "reading"


async def test_continue_says_when_the_course_is_done(make_app):
    app = make_app("cold")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, CourseMapScreen))
        for lesson in app.course.lessons:
            for exercise in lesson.exercises:
                app.record_attempt(lesson, exercise, True, 1.0)
        app.open_lesson("reading")  # reading is all a lesson without exercises asks
        await wait_for(pilot, lambda: isinstance(app.screen, LessonScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, CourseMapScreen))
        await pilot.press("c")
        await wait_for(pilot, lambda: any("course is done" in n.message for n in app._notifications))
        assert isinstance(app.screen, CourseMapScreen)


async def test_a_failed_check_is_said_in_words(make_app):
    app = make_app("cold")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_first_lesson(pilot)
        await pilot.press("greater_than_sign")
        await wait_for(pilot, lambda: screen.exercise.id == "two-stages")
        await build(pilot, screen)
        await wait_for(pilot, lambda: any(n.title.startswith("Not yet") for n in app._notifications))
        note = next(n for n in app._notifications if n.title.startswith("Not yet"))
        assert note.message.startswith("The Dockerfile has 1 stage (FROM at line 2); this exercise wants 2.")
        assert "stages 2" not in note.message
        panel = rendered(screen.query_one("#exercise-text").content)
        assert "The Dockerfile has 1 stage (FROM at line 2); this exercise wants 2." in panel
