"""The palette's Screenshot saves where its toast says, creating the folder, or says why it could not."""

from __future__ import annotations

from pathlib import Path

from tests.ui.conftest import wait_for
from tutor.ui.screens.course_map import CourseMapScreen
from tutor.ui.screenshot import screenshots_dir


def _palette_screenshot(app):
    return next(c for c in app.get_system_commands(app.screen) if c.title == "Screenshot")


def _toasts(app) -> list[str]:
    return [n.message for n in app._notifications if n.title == "Screenshot"]


async def test_screenshot_creates_its_folder_and_saves_where_it_says(make_app):
    app = make_app("cold")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, CourseMapScreen))
        assert not screenshots_dir().exists()
        command = _palette_screenshot(app)
        assert str(screenshots_dir()) in command.help
        command.callback()
        await wait_for(pilot, lambda: _toasts(app))
        message = _toasts(app)[0]
        assert message.startswith("Saved ")
        saved = Path(message.removeprefix("Saved "))
        assert saved.parent == screenshots_dir() and saved.suffix == ".svg"
        assert "<svg" in saved.read_text()


async def test_a_screenshot_that_cannot_be_saved_says_why(make_app):
    app = make_app("cold")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, CourseMapScreen))
        screenshots_dir().parent.mkdir(parents=True, exist_ok=True)
        screenshots_dir().write_text("a file where the folder should be")
        _palette_screenshot(app).callback()
        await wait_for(pilot, lambda: _toasts(app))
        message = _toasts(app)[0]
        assert message.startswith("Not saved: ") and str(screenshots_dir()) in message
