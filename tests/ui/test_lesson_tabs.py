"""The lesson's tab keys: each shows its tab and gives it the keys, in one focus change.

A focus change restyles what has focus and recomposes the footer; a tab switch makes one, and the
footer keeps its keys when they did not change. How fast is measured in benchmarks/interaction.py.
"""

from __future__ import annotations

from textual.widgets import TabbedContent
from textual.widgets._footer import FooterKey

from tests.conftest import ROOT
from tests.ui.conftest import wait_for
from tests.ui.test_lesson_build import open_first_lesson
from tutor.ui.widgets.containers_pane import ContainersPane
from tutor.ui.widgets.dockerfile_view import DockerfileView
from tutor.ui.widgets.exercise_panel import ExercisePanel
from tutor.ui.widgets.layer_pane import LayerPane
from tutor.ui.widgets.lesson_text import LessonText

OWN_TABS = [("2", "dockerfile", DockerfileView), ("3", "exercise", ExercisePanel), ("1", "lesson-text", LessonText)]


async def test_a_tab_key_hands_the_focus_straight_to_what_the_tab_shows(make_app):
    app = make_app("cold")
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_first_lesson(pilot)
        tabs = screen.query_one(TabbedContent)
        await wait_for(pilot, lambda: isinstance(app.focused, LessonText))
        changes: list[object] = []
        screen.watch(screen, "focused", lambda widget: changes.append(widget), init=False)
        for key, tab, shown in OWN_TABS * 2:
            changes.clear()
            await pilot.press(key)
            await pilot.pause(0.1)
            assert tabs.active == tab and isinstance(app.focused, shown), (key, tabs.active, app.focused)
            assert [type(w) for w in changes] == [shown]  # never nothing focused on the way


async def test_from_the_containers_table_each_tab_key_stays_on_its_tab(make_app):
    app = make_app("cold")
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_first_lesson(pilot)
        tabs = screen.query_one(TabbedContent)
        for key, tab, shown in OWN_TABS:
            await pilot.press("4")
            pane = screen.query_one(ContainersPane)
            await wait_for(pilot, lambda: app.focused is not None and pane in app.focused.ancestors_with_self)
            await pilot.press(key)
            await pilot.pause(0.3)  # the hidden table must not hand the focus back to its own tab
            assert tabs.active == tab and isinstance(app.focused, shown), (key, tabs.active, app.focused)


async def test_the_key_of_the_tab_shown_brings_the_focus_back_to_it(make_app):
    app = make_app("cold")
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_first_lesson(pilot)
        screen.set_focus(screen.query_one(LayerPane))
        await pilot.pause()
        await pilot.press("1")
        await pilot.pause()
        assert screen.query_one(TabbedContent).active == "lesson-text"
        assert isinstance(app.focused, LessonText)


async def test_the_lesson_text_still_scrolls_after_the_tabs_switch(make_app):
    app = make_app(lessons=ROOT / "lessons")  # the shipped course: a first lesson longer than the pane
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_first_lesson(pilot)
        text = screen.query_one(LessonText)
        await wait_for(pilot, lambda: text.max_scroll_y > 0)
        for key in ("2", "3", "1"):
            await pilot.press(key)
        await pilot.pause()
        await pilot.press("pagedown")
        await wait_for(pilot, lambda: text.scroll_y > 0)
        await pilot.press("home")
        await wait_for(pilot, lambda: text.scroll_y == 0)


async def test_the_footer_keeps_its_keys_until_they_change(make_app):
    app = make_app("cold")
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_first_lesson(pilot)
        await wait_for(pilot, lambda: bool(screen.query(FooterKey)))
        await pilot.pause(0.3)
        before = list(screen.query(FooterKey))
        for key in ("2", "3", "4", "1"):
            await pilot.press(key)
            await pilot.pause(0.1)
        assert list(screen.query(FooterKey)) == before  # the same widgets: not composed again
        await pilot.resize_terminal(80, 24)  # one column: the view key shows, fewer keys fit
        await wait_for(pilot, lambda: "v" in {k.key for k in screen.query(FooterKey)})
        assert {k.key for k in screen.query(FooterKey)} != {k.key for k in before}

