"""80x24 works: the footer keeps Quit and Help, the status is one line, every step of a build shows,
the editor's file names read whole, size race rows differ, the exercise panel lists its keys."""

from __future__ import annotations

import shutil
from pathlib import Path

from textual.app import App
from textual.widgets import OptionList, TabbedContent
from textual.widgets._footer import FooterKey

from tests.conftest import ROOT
from tests.ui.conftest import connected_report, wait_for
from tests.ui.test_course_progress import rendered
from tests.ui.test_lesson_build import build, open_first_lesson
from tutor.engine.sizerace import RaceRow
from tutor.ui.screens.course_map import CourseMapScreen
from tutor.ui.screens.editor import EditorScreen, workspace_files
from tutor.ui.screens.size_race import distinct_labels, race_lines
from tutor.ui.widgets.engine_status import EngineStatus, describe
from tutor.ui.widgets.layer_pane import LayerPane

NARROW = (80, 24)


def _footer_keys(app) -> dict[str, FooterKey]:
    return {key.key: key for key in app.screen.query(FooterKey)}


async def test_quit_and_help_fit_in_the_footer_at_80_columns(make_app):
    app = make_app("cold")
    async with app.run_test(size=NARROW) as pilot:
        for opened in (CourseMapScreen, None):
            if opened is None:
                await open_first_lesson(pilot)
            else:
                await wait_for(pilot, lambda: isinstance(app.screen, opened))
            await wait_for(pilot, lambda: "ctrl+q" in _footer_keys(app))
            await pilot.pause()
            keys = _footer_keys(app)
            palette = keys["ctrl+p"].region
            for key in ("ctrl+q", "question_mark"):
                region = keys[key].region
                assert region.width and region.right <= palette.x, (key, region, palette)


async def test_the_status_line_is_one_line_at_80_columns(make_app):
    app = make_app("cold")
    async with app.run_test(size=NARROW) as pilot:
        await wait_for(pilot, lambda: app.engine_report is not None)
        await pilot.pause()
        status = app.screen.query_one(EngineStatus)
        assert status.region.height == 1
        text = describe(app.engine_report, status.size.width).plain
        assert "+dfsg1" not in text and text.startswith("● Docker 20.10.24")


def test_the_status_line_says_less_before_it_wraps() -> None:
    report = connected_report()
    wide = describe(report, 200).plain
    assert wide == "● Docker 20.10.24 (local)  ·  golang:1.24-alpine stand-in  ·  alpine:latest stand-in"
    for width in (78, 60, 40, 30):
        assert describe(report, width).cell_len <= width


async def test_every_step_of_the_build_shows_at_80x24(make_app):
    app = make_app("cold")
    async with app.run_test(size=NARROW) as pilot:
        screen = await open_first_lesson(pilot)
        await build(pilot, screen)
        await pilot.pause(0.3)
        pane = screen.query_one(LayerPane)
        assert pane.row_count == 9
        assert pane.max_scroll_y == 0, "the layer pane hides steps at 80x24"


class EditorApp(App):
    def __init__(self, workspace: Path, open_file: str | None = None) -> None:
        super().__init__()
        self.workspace, self.open_file, self.results = workspace, open_file, []

    def on_mount(self) -> None:
        files = workspace_files(self.workspace)
        self.push_screen(EditorScreen(self.workspace, files, open_file=self.open_file), self.results.append)


def _workspace(tmp_path: Path) -> Path:
    dest = tmp_path / "ws"
    shutil.copytree(ROOT / "go_app", dest)
    (dest / "Dockerfile.multistage").write_text("FROM alpine:latest\n")
    return dest


async def test_editor_file_names_read_whole_and_the_open_one_is_marked(tmp_path: Path):
    app = EditorApp(_workspace(tmp_path), open_file="main.go")
    async with app.run_test(size=NARROW) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, EditorScreen) and app.screen.current == "main.go")
        await pilot.pause()
        files = app.screen.query_one("#file-list", OptionList)
        inner = files.scrollable_content_region.width
        prompts = {str(files.get_option_at_index(i).prompt): i for i in range(files.option_count)}
        assert "▸ main.go" in prompts and "  Dockerfile.multistage" in prompts
        assert all(len(prompt) <= inner for prompt in prompts), (inner, list(prompts))
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.results)
        assert app.results[0].current == "main.go"


async def test_the_editor_reopens_the_file_last_edited(make_app):
    app = make_app("cold")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_first_lesson(pilot)
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, EditorScreen))
        editor = app.screen
        editor.show_file("main.go")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, EditorScreen) and app.screen is not editor)
        await wait_for(pilot, lambda: app.screen.current == "main.go")


def test_size_race_rows_cut_to_width_still_differ() -> None:
    labels = ["L3 Predict an edit to main.go (first build)", "L3 Predict an edit to go.mod (first build)", "L1 Build"]
    for width in (24, 18, 12):
        cut = distinct_labels(labels, width)
        assert len(set(cut)) == 3 and all(len(label) <= width for label in cut), cut
    assert distinct_labels(["L1 Build", "L2 Run"], 24) == ["L1 Build", "L2 Run"]


def test_size_race_lines_at_80_columns_tell_rows_apart() -> None:
    from tutor.engine.seat_race import SeatRace

    rows = tuple(
        RaceRow(label, size, size / 1e6, size / 2e6)
        for label, size in (
            ("L3 Predict an edit to main.go (build after editing main.go)", 330_000_000),
            ("L3 Predict an edit to go.mod (build after editing go.mod)", 329_000_000),
        )
    )
    race = SeatRace("s", (), rows, None, None, None)
    lines = race_lines(race, 76).plain.splitlines()
    heads = [line.split("█")[0].strip() for line in lines]
    assert len(set(heads)) == 2, heads


async def test_the_exercise_panel_lists_the_keys_of_the_exercise(make_app):
    app = make_app("cold")
    async with app.run_test(size=NARROW) as pilot:
        screen = await open_first_lesson(pilot)
        await pilot.press("3")
        await pilot.pause()
        panel = rendered(screen.query_one("#exercise-text").content)
        for key, words in (("t", "predict"), ("l", "layer"), ("z", "size race"), ("o", "edit"), (">", "next exercise")):
            assert any(line.strip().startswith(f"{key} ") and words in line for line in panel.splitlines()), (key, panel)


async def test_a_long_cache_explanation_leaves_the_build_log_rows_at_80x24(make_app):
    """Every step, the why, and the log's last lines share 24 rows; a long why scrolls in its pane."""
    from tutor.ui.widgets.build_log import BuildLog
    from tutor.ui.widgets.cache_pane import CachePane

    app = make_app("cold")
    async with app.run_test(size=NARROW) as pilot:
        screen = await open_first_lesson(pilot)
        await build(pilot, screen)
        cache = screen.query_one(CachePane)
        long_why = " ".join(["Step 6/9 COPY . . missed the cache because Dockerfile changed."] * 8)
        cache.show(cache._record, long_why)
        log = screen.query_one(BuildLog)
        await wait_for(pilot, lambda: cache.virtual_size.height >= 8)  # laid out with the long why
        await pilot.pause()
        assert cache.max_scroll_y > 0  # the why scrolls in its pane...
        assert log.scrollable_content_region.height >= 2  # ...and the log keeps its last lines on screen
        assert screen.query_one(LayerPane).max_scroll_y == 0  # every step still shows


async def test_a_tab_opened_with_its_number_scrolls_with_the_keys(make_app):
    """At 80x24 the exercise panel is longer than the screen: End must reach its last key."""
    from tutor.ui.widgets.exercise_panel import ExercisePanel

    app = make_app("cold")
    async with app.run_test(size=NARROW) as pilot:
        screen = await open_first_lesson(pilot)
        await pilot.press("3")
        panel = screen.query_one(ExercisePanel)
        await wait_for(pilot, lambda: panel.max_scroll_y > 0)
        assert app.focused is panel
        await pilot.press("end")
        await wait_for(pilot, lambda: panel.scroll_y == panel.max_scroll_y)
        await pilot.press("4")
        await wait_for(pilot, lambda: app.focused is screen.query_one("#containers-table"))
        await pilot.press("3")  # from the containers table, without bouncing back to its tab
        await wait_for(pilot, lambda: app.focused is panel)
        await pilot.pause(0.2)
        assert screen.query_one(TabbedContent).active == "exercise"
        await pilot.press("1")
        await wait_for(pilot, lambda: type(app.focused).__name__ == "LessonText")
