"""SVG snapshots of the main screens at the sizes learners use (pytest-textual-snapshot).

Regenerate after a deliberate change with `pytest tests/ui/test_snapshots.py --snapshot-update`
and look at the SVGs before committing them.
"""

from __future__ import annotations

import pytest

from tests.ui.conftest import no_engine_report, wait_for
from tutor.ui.screens.course_map import CourseMapScreen
from tutor.ui.screens.lesson import LessonScreen
from tutor.ui.widgets.build_log import BuildLog

SIZES = [(100, 30), (80, 24)]


@pytest.fixture(autouse=True)
def fixed_home(monkeypatch, tmp_path_factory):
    # Paths show on screen: keep them the same on every run.
    import shutil
    from pathlib import Path

    home = Path("/tmp/tutor-snapshot-home")
    shutil.rmtree(home, ignore_errors=True)
    monkeypatch.setenv("TUTOR_HOME", str(home))
    yield home
    shutil.rmtree(home, ignore_errors=True)


async def _map(pilot) -> None:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, CourseMapScreen))
    await wait_for(pilot, lambda: pilot.app.engine_report is not None)
    await pilot.pause()


async def _lesson(pilot) -> None:
    await _map(pilot)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, LessonScreen))
    await pilot.pause()


def _after_builds(count: int):
    async def run(pilot) -> None:
        await _lesson(pilot)
        screen = pilot.app.screen
        for _ in range(count):
            before = screen.builds_started
            await pilot.press("b")
            await wait_for(pilot, lambda before=before: screen.builds_started > before and not screen.building)
        pilot.app.clear_notifications()
        # The build log paints at most ten times a second: wait for its last paint, at the tail.
        await wait_for(pilot, lambda: screen.query_one(BuildLog).settled)
        await pilot.pause(0.25)

    return run


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_course_map(snap_compare, make_app, size):
    assert snap_compare(make_app("cold"), terminal_size=size, run_before=_map)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_lesson_before_build(snap_compare, make_app, size):
    assert snap_compare(make_app("cold"), terminal_size=size, run_before=_lesson)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_lesson_after_cold_build(snap_compare, make_app, size):
    assert snap_compare(make_app("cold"), terminal_size=size, run_before=_after_builds(1))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_lesson_after_cached_rebuild(snap_compare, make_app, size):
    assert snap_compare(make_app("cold", "cached"), terminal_size=size, run_before=_after_builds(2))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_course_map_without_engine(snap_compare, make_app, size):
    assert snap_compare(make_app(report=no_engine_report()), terminal_size=size, run_before=_map)


async def _failed_check(pilot) -> None:
    """The second exercise of the first lesson fails its stages check: toast and panel in words."""
    from tests.ui.test_lesson_build import build

    await _lesson(pilot)
    screen = pilot.app.screen
    await pilot.press("greater_than_sign")
    await wait_for(pilot, lambda: screen.exercise.id == "two-stages")
    await build(pilot, screen)
    await wait_for(pilot, lambda: any(n.title.startswith("Not yet") for n in pilot.app._notifications))
    await pilot.press("3")
    await wait_for(pilot, lambda: screen.query_one(BuildLog).settled)
    await pilot.pause(0.25)


@pytest.mark.parametrize("size", [(120, 36), (80, 24)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_feedback_after_a_failed_check(snap_compare, make_app, size):
    assert snap_compare(make_app("cold"), terminal_size=size, run_before=_failed_check)


async def _editor(pilot) -> None:
    from tutor.ui.screens.editor import EditorScreen

    await _lesson(pilot)
    await pilot.press("o")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, EditorScreen))
    from textual.widgets import TextArea

    area = pilot.app.screen.query_one(TextArea)
    await wait_for(pilot, lambda: area.text.startswith("# Layer 1"))
    area.cursor_blink = False  # a blinking cursor is drawn or not by the clock: the picture must not depend on it
    await pilot.pause(0.5)


def test_editor_at_80x24(snap_compare, make_app):
    assert snap_compare(make_app("cold"), terminal_size=(80, 24), run_before=_editor)


def _reading(where: str):
    """Lesson 1 of the shipped course, its text scrolled to the middle or to the end."""

    async def run(pilot) -> None:
        from tutor.ui.widgets.lesson_text import LessonText

        await _lesson(pilot)
        text = pilot.app.screen.query_one(LessonText)
        await wait_for(pilot, lambda: text.max_scroll_y > 0)
        if where == "end":
            await pilot.press("end")
            await wait_for(pilot, lambda: text.scroll_y == text.max_scroll_y)
        else:
            text.scroll_to(y=text.max_scroll_y // 2, animate=False)
            await wait_for(pilot, lambda: text.scroll_y == text.max_scroll_y // 2)
        await pilot.pause(0.25)

    return run


@pytest.mark.parametrize("where", ["middle", "end"])
@pytest.mark.parametrize("size", [(120, 36), (80, 24)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_lesson_text_scrolled(snap_compare, make_app, size, where):
    from tests.conftest import ROOT

    assert snap_compare(make_app("cold", lessons=ROOT / "lessons"), terminal_size=size, run_before=_reading(where))
