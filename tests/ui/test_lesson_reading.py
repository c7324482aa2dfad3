"""The lesson text scrolls: keys, the mouse wheel, a scrollbar, wide code blocks, and a kept position."""

from __future__ import annotations

from textual import events
from textual.widgets._markdown import MarkdownFence

from tests.conftest import ROOT
from tests.ui.conftest import wait_for
from tests.ui.test_lesson_build import open_first_lesson
from tutor.ui.widgets.lesson_text import LessonText

SHIPPED = ROOT / "lessons"


async def _reading(pilot) -> LessonText:
    screen = await open_first_lesson(pilot)
    text = screen.query_one(LessonText)
    await wait_for(pilot, lambda: text.max_scroll_y > 0)
    return text


async def test_keys_move_the_lesson_text_and_a_scrollbar_shows(make_app):
    app = make_app(lessons=SHIPPED)
    async with app.run_test(size=(120, 36)) as pilot:
        text = await _reading(pilot)
        assert app.focused is text  # the keys reach the text without a click first
        assert text.show_vertical_scrollbar
        await pilot.press("down")
        await wait_for(pilot, lambda: text.scroll_y == 1)
        await pilot.press("space")
        await wait_for(pilot, lambda: text.scroll_y > 10)
        await pilot.press("pagedown")
        await wait_for(pilot, lambda: text.scroll_y > 30)
        await pilot.press("end")
        await wait_for(pilot, lambda: text.scroll_y == text.max_scroll_y)
        await pilot.press("pageup")
        await wait_for(pilot, lambda: text.scroll_y < text.max_scroll_y)
        await pilot.press("home")
        await wait_for(pilot, lambda: text.scroll_y == 0)


async def test_the_mouse_wheel_scrolls_the_lesson_text(make_app):
    app = make_app(lessons=SHIPPED)
    async with app.run_test(size=(120, 36)) as pilot:
        text = await _reading(pilot)
        x, y = text.region.x + 5, text.region.y + 5
        for _ in range(3):
            text.post_message(events.MouseScrollDown(text, x, y, 0, 0, 0, False, False, False, screen_x=x, screen_y=y))
        await wait_for(pilot, lambda: text.scroll_y > 0)


async def test_each_lesson_keeps_where_it_was_left(make_app):
    app = make_app(lessons=SHIPPED)
    async with app.run_test(size=(120, 36)) as pilot:
        text = await _reading(pilot)
        await pilot.press("pagedown", "pagedown")
        await wait_for(pilot, lambda: text.scroll_y > 20)
        left_at = text.scroll_y
        await pilot.press("right_square_bracket")
        await wait_for(pilot, lambda: pilot.app.screen.lesson.order == 2)
        second = pilot.app.screen.query_one(LessonText)
        await wait_for(pilot, lambda: second.max_scroll_y > 0)
        assert second.scroll_y == 0  # a lesson not read yet opens at its top
        await pilot.press("left_square_bracket")
        await wait_for(pilot, lambda: pilot.app.screen.lesson.order == 1)
        first = pilot.app.screen.query_one(LessonText)
        await wait_for(pilot, lambda: first.scroll_y == left_at)


async def test_wide_code_blocks_slide_sideways_with_the_arrow_keys(make_app):
    app = make_app(lessons=SHIPPED)
    async with app.run_test(size=(120, 36)) as pilot:
        text = await _reading(pilot)
        wide = [fence for fence in text.query(MarkdownFence) if fence.max_scroll_x > 0]
        assert wide, "lesson 1 has code wider than the pane at 120 columns"
        assert all(fence.show_horizontal_scrollbar for fence in wide)  # a learner sees there is more
        await pilot.press("right")
        await wait_for(pilot, lambda: all(fence.scroll_x > 0 for fence in wide))
        await pilot.press("left")
        await wait_for(pilot, lambda: all(fence.scroll_x == 0 for fence in wide))


async def test_go_code_with_tabs_is_coloured_on_its_own_words(make_app):
    """gofmt indents with tabs: each colour must still fall on the token it belongs to."""
    app = make_app(lessons=SHIPPED)
    async with app.run_test(size=(120, 36)) as pilot:
        text = await _reading(pilot)
        go = next(fence for fence in text.query(MarkdownFence) if "func handler" in fence.code)
        assert "\t" not in go.code  # the lesson's main.go is indented with tabs
        content = go._highlighted_code
        plain = content.plain
        string = '"Server running on port 8080..."'
        start = plain.index(string)
        covering = [s for s in content.spans if s.start <= start < s.end and s.end - s.start < len(plain)]
        assert covering, "the string literal is coloured"
        assert [plain[s.start : s.end] for s in covering] == [string]
