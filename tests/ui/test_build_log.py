"""The build log follows its tail as lines arrive, unless the learner scrolled up."""

from __future__ import annotations

from textual.app import App, ComposeResult

from tests.ui.conftest import wait_for
from tutor.ui.widgets.build_log import BuildLog


class LogApp(App):
    CSS = "BuildLog { height: 12; }"

    def compose(self) -> ComposeResult:
        yield BuildLog(max_lines=500)


def tail_in_view(log: BuildLog) -> bool:
    return log.settled and log.scroll_y == log.max_scroll_y


async def test_the_tail_stays_in_view_as_the_log_grows_and_a_wide_line_adds_a_scrollbar() -> None:
    app = LogApp()
    async with app.run_test(size=(60, 20)) as pilot:
        log = app.query_one(BuildLog)
        log.write_lines([f"line {n}" for n in range(1, 6)])
        await wait_for(pilot, lambda: tail_in_view(log))
        assert log.max_scroll_y == 0

        # More lines than the pane holds: the view scrolls with them.
        log.write_lines([f"line {n}" for n in range(6, 200)])
        await wait_for(pilot, lambda: tail_in_view(log) and log.max_scroll_y > 0)
        assert log.virtual_size.height == 199 and log.max_scroll_y > 0

        # A line wider than the pane: the tail stays shown, the line can be scrolled to sideways.
        log.write_lines(["x" * 200 + " the end"])
        await wait_for(pilot, lambda: tail_in_view(log) and log.max_scroll_x > 0)
        assert log.lines[-1].endswith("the end")

        # Scrolled up, the learner keeps their place while lines arrive.
        log.scroll_to(y=10, animate=False, immediate=True)
        await pilot.pause()
        log.write_lines([f"more {n}" for n in range(50)])
        await wait_for(pilot, lambda: log.settled)
        await pilot.pause(0.2)
        assert log.scroll_y == 10 and log.virtual_size.height == 250


async def test_the_log_keeps_max_lines() -> None:
    app = LogApp()
    async with app.run_test(size=(60, 20)) as pilot:
        log = app.query_one(BuildLog)
        log.write_lines([f"line {n}" for n in range(2000)])
        await wait_for(pilot, lambda: tail_in_view(log))
        assert log.line_count == 500 and log.virtual_size.height == 500
        assert log.lines[0] == "line 1500" and log.lines[-1] == "line 1999"


async def test_a_note_wraps_between_words_not_inside_an_image_tag() -> None:
    from textual.app import App

    from tutor.ui.widgets.build_log import BuildLog

    class LogApp(App):
        def compose(self):
            yield BuildLog()

    app = LogApp()
    async with app.run_test(size=(60, 10)) as pilot:
        log = app.query_one(BuildLog)
        log.write_line("── build (1/1) → tutor/local/multi-stage-split-the-build:latest and more words here")
        await pilot.pause()
        assert any("tutor/local/multi-stage-split-the-build:latest" in line for line in log.lines), log.lines
