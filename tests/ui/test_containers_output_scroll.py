"""On a short terminal the newest probe or exec output comes into view, and the keyboard scrolls it."""

from __future__ import annotations

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import DataTable

from tests.conftest import TEST_SEAT
from tests.ui.conftest import wait_for
from tests.ui.test_containers_pane import RUNNING, PaneApp
from tutor.engine import containers as ct
from tutor.ui.widgets.containers_pane import ContainersListed, ContainersPane, ExecFinished


async def test_exec_output_comes_into_view_and_scrolls_with_the_keyboard() -> None:
    app = PaneApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(ContainersPane)
        pane.post_message(ContainersListed((ct.info_from_summary(RUNNING),), ct.ps_cli(TEST_SEAT, all=True)))
        await wait_for(pilot, lambda: pane.selected == RUNNING["Id"])
        pane.focus_table()
        assert isinstance(app.focused, DataTable)
        pane._section("#containers-action", Text("container tutor-pytest-ab12 is running\n" * 4))
        pane._section("#containers-probe", Text("200 OK in 3 ms: Hello, Docker with Go!\n" * 3))
        output = "".join(f"line {n}\n" for n in range(1, 41))
        pane.post_message(ExecFinished(ct.ExecResult(0, output, "docker exec tutor-pytest-ab12 ls"), RUNNING["Id"]))
        results = pane.query_one("#containers-results", VerticalScroll)
        section = pane.query_one("#containers-exec")
        await wait_for(pilot, lambda: results.scroll_y > 0)  # the exec section's top is in view
        assert results.region.y <= section.region.y < results.region.bottom
        await pilot.press("tab")
        assert app.focused is results
        before = results.scroll_y
        await pilot.press("pagedown")
        await wait_for(pilot, lambda: results.scroll_y > before)




async def test_the_log_keeps_its_last_lines_on_screen_after_long_exec_output(make_app) -> None:
    """At 80x24 exec output must not push the container's log off the lesson screen."""
    from textual.widgets import Log

    from tests.ui.test_lesson_build import open_first_lesson

    app = make_app("cold")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_first_lesson(pilot)
        await pilot.press("4")
        pane = screen.query_one(ContainersPane)
        await wait_for(pilot, lambda: pane.region.height > 0)
        pane.post_message(ContainersListed((ct.info_from_summary(RUNNING),), ct.ps_cli(TEST_SEAT, all=True)))
        await wait_for(pilot, lambda: pane.selected == RUNNING["Id"])
        pane._section("#containers-action", Text("container tutor-pytest-ab12 is running\n" * 4))
        output = "".join(f"line {n}\n" for n in range(1, 41))
        pane.post_message(ExecFinished(ct.ExecResult(0, output, "docker exec tutor-pytest-ab12 ls"), RUNNING["Id"]))
        results = pane.query_one("#containers-results", VerticalScroll)
        await wait_for(pilot, lambda: results.max_scroll_y > 0)
        await pilot.pause()
        log = pane.query_one("#containers-log", Log)
        assert log.region.bottom <= pane.region.bottom, [(w.id, w.region) for w in pane.children]
        assert log.scrollable_content_region.height >= 2, log.region
