"""The lesson screen during real (replayed) builds."""

from __future__ import annotations

from tests.ui.conftest import no_engine_report, wait_for
from tutor.ui.screens.course_map import CourseMapScreen
from tutor.ui.screens.lesson import LessonScreen
from tutor.ui.widgets.build_log import BuildLog
from tutor.ui.widgets.cache_pane import CachePane
from tutor.ui.widgets.layer_pane import LayerPane


def cells(table: LayerPane, step: int) -> list[str]:
    return [str(c) for c in table.get_row(str(step))]


async def open_first_lesson(pilot) -> LessonScreen:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, CourseMapScreen))
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, LessonScreen))
    return pilot.app.screen


async def build(pilot, screen: LessonScreen) -> None:
    before = screen.builds_started
    await pilot.press("b")
    await wait_for(pilot, lambda: screen.builds_started > before and not screen.building)


async def test_cold_build_rows_appear_in_order_with_statuses(make_app):
    app = make_app("cold")
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_first_lesson(pilot)
        await build(pilot, screen)
        table = screen.query_one(LayerPane)
        rows = [cells(table, n) for n in range(1, 10)]
        assert [r[0] for r in rows] == [f"{n}/9" for n in range(1, 10)]
        assert rows[0][1] == "FROM golang:1.24-alpine" and rows[6][1] == "RUN go build -o main"
        statuses = [r[2].split()[-1] for r in rows]
        assert statuses == ["CACHED"] + ["BUILT"] * 8
        assert rows[7][4] == "0 B" and rows[6][4].endswith("MB")  # EXPOSE adds no layer; go build does
        cache_text = screen.query_one(CachePane).text
        assert "1 from cache" in cache_text and "8 rebuilt" in cache_text
        # explained by comparing with the previous build of this workspace: there is none yet
        assert "Step 2/9 ENV" in cache_text and "no earlier build" in cache_text
        assert "steps 3-9" in cache_text
        assert [r.passed for r in screen.results] == [True, True]
        progress = app.progress_store.load()[0]
        assert progress.exercise("first-build", "build-it").state == "passed"


async def test_second_build_is_all_cached_and_passes(make_app):
    app = make_app("cold", "cached")
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_first_lesson(pilot)
        await build(pilot, screen)
        await build(pilot, screen)
        table = screen.query_one(LayerPane)
        assert all(cells(table, n)[2].split()[-1] == "CACHED" for n in range(1, 10))
        assert "All 9 steps came from the cache: nothing this build uses changed" in screen.query_one(CachePane).text


async def test_failed_check_says_expected_and_found(make_app):
    app = make_app("cached")
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_first_lesson(pilot)
        await pilot.press("greater_than_sign")
        await wait_for(pilot, lambda: screen.exercise is not None and screen.exercise.id == "two-stages")
        await build(pilot, screen)
        stages = next(r for r in screen.results if r.kind == "stages")
        assert not stages.passed and "2" in stages.expected and "1" in stages.found
        progress = app.progress_store.load()[0]
        assert progress.exercise("first-build", "two-stages").state == "attempted"


async def test_edit_cascade_from_copy(make_app):
    app = make_app("edit_main_go")
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_first_lesson(pilot)
        await build(pilot, screen)
        table = screen.query_one(LayerPane)
        statuses = [cells(table, n)[2].split()[-1] for n in range(1, 10)]
        assert statuses == ["CACHED"] * 5 + ["BUILT"] * 4
        text = screen.query_one(CachePane).text
        assert "Step 6/9 COPY . ." in text and "steps 7-9" in text


async def test_failed_build_marks_the_step_and_the_app_stays_usable(make_app):
    app = make_app("run_fails", "cached")
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_first_lesson(pilot)
        await build(pilot, screen)
        table = screen.query_one(LayerPane)
        assert cells(table, 7)[2].split()[-1] == "FAILED"
        log_text = "\n".join(screen.query_one(BuildLog).lines)
        assert "build failed: step 7" in log_text and "returned a non-zero code" in log_text
        # still usable: the next build runs and succeeds
        await build(pilot, screen)
        assert cells(table, 7)[2].split()[-1] == "CACHED"


async def test_log_is_bounded_under_heavy_output(make_app):
    app = make_app("heavy_output")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_first_lesson(pilot)
        await build(pilot, screen)
        log = screen.query_one(BuildLog)
        assert screen.record.steps[2].output_lines >= 100_000
        assert log.line_count <= log.max_lines
        assert log.lines[-2].endswith("line 100000") or any("line 100000" in line for line in log.lines[-5:])


async def test_second_build_while_running_is_refused(make_app):
    app = make_app("cold", speed=2.0)  # replay at twice the recorded pace: the build is still running
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_first_lesson(pilot)
        await pilot.press("b")
        await wait_for(pilot, lambda: screen.building)
        await pilot.press("b")
        await wait_for(pilot, lambda: any("already running" in n.message for n in app._notifications))
        await pilot.press("c")
        await wait_for(pilot, lambda: not screen.building, timeout=10)
        assert screen.record.failure is not None and screen.record.failure.cancelled


async def test_no_engine_build_shows_reason_and_fix(make_app):
    from tutor.engine.build import BuildRequest
    from tutor.ui.backend import EngineBackend

    app = make_app(report=no_engine_report())
    app.backend = EngineBackend("unix:///nonexistent/docker.sock")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_first_lesson(pilot)
        assert "Press" in screen.query_one("#lesson-markdown").source  # the lesson is readable
        await pilot.press("b")
        from tutor.ui.screens.engine_problem import EngineProblemScreen

        await wait_for(pilot, lambda: isinstance(app.screen, EngineProblemScreen))
        assert "No Docker engine socket" in app.screen.reason and "Start the Docker engine" in app.screen.fix
        await pilot.press("escape")
        assert isinstance(app.screen, LessonScreen)
        del BuildRequest


async def test_every_tab_and_view_key_works(make_app):
    app = make_app("cold")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_first_lesson(pilot)
        await build(pilot, screen)
        for key in ["2", "3", "4", "1", "v", "v", "2"]:
            await pilot.press(key)
            await pilot.pause(0.1)
            assert app.screen is screen and app.is_running
        from textual.widgets import TabbedContent

        assert screen.query_one(TabbedContent).active == "dockerfile"
        await pilot.press("question_mark")
        await pilot.pause(0.1)
        from tutor.ui.screens.help import HelpScreen

        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert app.screen is screen


async def test_the_key_of_the_tab_already_shown_leaves_focus_alone(make_app):
    """A tab's key pressed again keeps the focus where it is: every focus change restyles the
    whole screen, and a key held down would keep the UI thread (and a build's upload) waiting."""
    from textual.widgets import TabbedContent

    app = make_app("cold")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_first_lesson(pilot)
        await pilot.press("2")
        focused = app.focused
        assert focused is not None and screen.query_one(TabbedContent).active == "dockerfile"
        changes: list[object] = []
        screen.watch(screen, "focused", lambda widget: changes.append(widget), init=False)
        for _ in range(5):
            await pilot.press("2")
        await pilot.pause()
        assert app.focused is focused and changes == []
        await pilot.press("1")  # a real switch still moves the focus to the tab it shows
        await wait_for(pilot, lambda: screen.query_one(TabbedContent).active == "lesson-text")
        assert app.focused is not focused and changes


async def test_a_long_failure_wraps_in_the_build_log_at_80_columns(make_app):
    """The engine's message and the fix are read whole: wrapped to the log, not cut at its edge."""
    from tutor.engine.stream import strip_ansi
    from tutor.ui.widgets.build_log import BuildLog

    app = make_app("missing_base")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_first_lesson(pilot)
        await build(pilot, screen)
        log = screen.query_one(BuildLog)
        width = log.scrollable_content_region.width
        failed = next(i for i, line in enumerate(log.lines) if "build failed" in line)
        tail = [strip_ansi(line) for line in log.lines[failed:]]
        assert len(tail) > 2, tail  # the message and the fix took more than one row each
        assert all(len(line) <= width for line in tail), (width, tail)
        assert any(line.startswith("── fix: ") for line in tail)


async def test_the_built_line_wraps_in_a_narrow_build_log(make_app):
    """What was built, its size, the cache hits and the time: all of it on screen, none cut off.

    A seat's tags are longer than the recorded one (tutor/local/layers-label-it:latest): 64
    columns make the recorded line too long for the log."""
    from tutor.engine.stream import strip_ansi
    from tutor.ui.widgets.build_log import BuildLog

    app = make_app("cold")
    async with app.run_test(size=(64, 24)) as pilot:
        screen = await open_first_lesson(pilot)
        await build(pilot, screen)
        log = screen.query_one(BuildLog)
        width = log.scrollable_content_region.width
        await wait_for(pilot, lambda: any("── built" in line for line in log.lines))
        built = next(i for i, line in enumerate(log.lines) if "── built" in line)
        tail = [strip_ansi(line) for line in log.lines[built:]]
        assert all(len(line) <= width for line in tail), (width, tail)
        assert "steps from cache" in " ".join(" ".join(tail).split())
