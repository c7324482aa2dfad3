"""Predict, then build: marking steps, the dict handed back, and the graded result of a real build."""

from __future__ import annotations

from textual.app import App

from tests.conftest import ROOT, STREAMS
from tests.ui.conftest import click, wait_for
from tutor.course.prediction import grade
from tutor.engine.dockerfile import plan
from tutor.engine.record import BuildRecord
from tutor.engine.replay import Recording, ReplayBuild
from tutor.ui.screens.predict import PredictionResultScreen, PredictScreen, StepTable, grade_text

GO_APP_DOCKERFILE = (ROOT / "go_app" / "Dockerfile").read_text()
NON_FROM_STEPS = [s.step for s in plan(GO_APP_DOCKERFILE) if s.keyword != "FROM"]

_NOT_YET = object()


class PredictApp(App):
    def __init__(self, text: str = GO_APP_DOCKERFILE, previous=None) -> None:
        super().__init__()
        self.text = text
        self.previous = previous
        self.result: object = _NOT_YET

    def on_mount(self) -> None:
        self.push_screen(PredictScreen(self.text, self.previous), self._done)

    def _done(self, result) -> None:
        self.result = result


async def opened(pilot) -> PredictScreen:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, PredictScreen))
    screen = pilot.app.screen
    await wait_for(pilot, lambda: screen.query_one(StepTable).row_count == len(screen.steps))
    return screen


def cell(screen: PredictScreen, step: int) -> str:
    return str(screen.query_one(StepTable).get_cell(str(step), "mark"))


async def test_every_step_starts_cached_and_enter_returns_the_marks() -> None:
    app = PredictApp()
    async with app.run_test(size=(110, 34)) as pilot:
        screen = await opened(pilot)
        assert [s.step for s in screen.steps] == list(range(1, 10))
        assert screen.query_one(StepTable).cursor_row == 1  # the first step that can be marked
        assert cell(screen, 1) == "● cached (base)" and cell(screen, 2) == "● cached"
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.result is not _NOT_YET)
    assert app.result == {step: "cached" for step in NON_FROM_STEPS}
    assert 1 not in app.result  # FROM is not asked


async def test_space_toggles_the_highlighted_step() -> None:
    app = PredictApp()
    async with app.run_test(size=(110, 34)) as pilot:
        screen = await opened(pilot)
        await pilot.press("space")  # step 2
        assert cell(screen, 2) == "▲ rebuilt"
        await pilot.press("down", "down", "down", "down", "space")  # step 6: COPY . .
        await pilot.press("down", "space", "space", "space")  # step 7: back and forth, ends rebuilt
        assert cell(screen, 6) == "▲ rebuilt" and cell(screen, 7) == "▲ rebuilt"
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.result is not _NOT_YET)
    expected = {step: "cached" for step in NON_FROM_STEPS} | {2: "rebuilt", 6: "rebuilt", 7: "rebuilt"}
    assert app.result == expected


async def test_from_stays_cached() -> None:
    app = PredictApp()
    async with app.run_test(size=(110, 34)) as pilot:
        screen = await opened(pilot)
        await pilot.press("up", "space")
        assert cell(screen, 1) == "● cached (base)"
        assert 1 not in screen.marks


async def test_all_rebuilt_then_all_cached() -> None:
    app = PredictApp()
    async with app.run_test(size=(110, 34)) as pilot:
        screen = await opened(pilot)
        await pilot.press("r")
        assert all(cell(screen, step) == "▲ rebuilt" for step in NON_FROM_STEPS)
        assert screen.marks == {step: "rebuilt" for step in NON_FROM_STEPS}
        await pilot.press("a")
        assert screen.marks == {step: "cached" for step in NON_FROM_STEPS}
        await pilot.press("r", "enter")
        await wait_for(pilot, lambda: app.result is not _NOT_YET)
    assert app.result == {step: "rebuilt" for step in NON_FROM_STEPS}


async def test_one_click_on_a_row_toggles_it() -> None:
    app = PredictApp()
    async with app.run_test(size=(110, 34)) as pilot:
        screen = await opened(pilot)
        table = screen.query_one(StepTable)
        await click(pilot, StepTable, offset=(4, 1 + 5))  # the header, then rows 1.. : step 6
        await wait_for(pilot, lambda: screen.marks[6] == "rebuilt")
        assert table.cursor_row == 5
        await click(pilot, StepTable, offset=(4, 1 + 5))
        await wait_for(pilot, lambda: screen.marks[6] == "cached")
        await click(pilot, "#confirm")
        await wait_for(pilot, lambda: app.result is not _NOT_YET)
    assert app.result == {step: "cached" for step in NON_FROM_STEPS}


async def test_escape_returns_none() -> None:
    app = PredictApp()
    async with app.run_test(size=(110, 34)) as pilot:
        await opened(pilot)
        await pilot.press("space", "escape")
        await wait_for(pilot, lambda: app.result is not _NOT_YET)
    assert app.result is None


async def test_a_previous_prediction_is_the_starting_point() -> None:
    app = PredictApp(previous={6: "rebuilt", 7: "rebuilt", 8: "bogus"})
    async with app.run_test(size=(110, 34)) as pilot:
        screen = await opened(pilot)
        assert screen.marks[6] == "rebuilt" and screen.marks[7] == "rebuilt" and screen.marks[8] == "cached"


async def test_a_dockerfile_without_steps_cannot_be_predicted() -> None:
    app = PredictApp(text="# only a comment\n")
    async with app.run_test(size=(110, 34)) as pilot:
        screen = await opened(pilot)
        assert "no steps to predict" in str(screen.query_one("#predict-intro").render())
        await pilot.press("space", "enter")
        await wait_for(pilot, lambda: app.result is not _NOT_YET)
    assert app.result is None


def replayed(name: str) -> BuildRecord:
    record = BuildRecord()
    for event in ReplayBuild(Recording.load(STREAMS / f"{name}.jsonl")).events():
        record.apply(event)
    return record


def test_grade_text_of_a_real_build_after_editing_main_go() -> None:
    # The learner thought only `RUN go build` would rebuild; the engine rebuilt from `COPY . .` on.
    record = replayed("edit_main_go")
    prediction = {step: "cached" for step in NON_FROM_STEPS} | {7: "rebuilt"}
    result = grade(prediction, record)
    text = grade_text(result).plain
    assert result.score == 5 and result.total == 8
    assert "Your prediction: 5 of 8 steps predicted right" in text
    lines = text.splitlines()
    miss = next(line for line in lines if "6 COPY . ." in line)
    assert miss.startswith(" ✗ ") and "you said cached, it was rebuilt" in miss
    assert any("its own input changed" in line for line in lines)
    assert any(line.startswith(" ✓ ") and "7 RUN go build -o main" in line for line in lines)
    assert any("1 FROM golang:1.24-alpine" in line and "not scored" in line for line in lines)
    assert sum(line.startswith(" ✗ ") for line in lines) == 3  # steps 6, 8 and 9


def test_grade_text_of_a_perfect_prediction() -> None:
    record = replayed("cached")
    result = grade({step: "cached" for step in NON_FROM_STEPS}, record)
    text = grade_text(result).plain
    assert result.perfect and "8 of 8" in text and "(perfect!)" in text and "✗" not in text


async def test_the_result_screen_shows_the_grade() -> None:
    record = replayed("edit_main_go")
    result = grade({step: "rebuilt" for step in NON_FROM_STEPS}, record)
    closed: list[None] = []

    class ResultApp(App):
        def on_mount(self) -> None:
            self.push_screen(PredictionResultScreen(result), closed.append)

    app = ResultApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, PredictionResultScreen))
        shown = str(app.screen.query_one("#grade-text").render())
        assert "4 of 8 steps predicted right" in shown and "came from the cache" in shown
        await pilot.press("enter")
        await wait_for(pilot, lambda: closed == [None])
