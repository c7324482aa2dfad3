"""The solution screen: hints so far, the diff only once earned, and copying the solution in."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App
from textual.widgets import Button

from tests.conftest import FIXTURES
from tests.ui.conftest import click, wait_for
from tutor.course.loader import load_course
from tutor.course.model import Exercise, Lesson
from tutor.course.progress import ProgressStore
from tutor.course.workspace import prepare_workspace
from tutor.ui.screens.solution import ConfirmScreen, SolutionClosed, SolutionScreen, backup_path

GOOD_COURSE = FIXTURES / "courses" / "good"


@pytest.fixture
def serve() -> tuple[Lesson, Exercise, Path]:
    course = load_course(GOOD_COURSE)
    lesson = course.lesson("serve")
    assert lesson is not None, course.problems
    exercise = lesson.exercise("answer-http")
    assert exercise is not None and exercise.reveal_solution_after == 3
    return lesson, exercise, prepare_workspace(lesson, exercise)


class SolutionApp(App):
    def __init__(
        self, lesson: Lesson, exercise: Exercise, workspace: Path, store: ProgressStore, hints_shown: int = 0
    ) -> None:
        super().__init__()
        self.args = (lesson.id, exercise, workspace, store, hints_shown)
        self.results: list[SolutionClosed | None] = []

    def on_mount(self) -> None:
        self.push_screen(SolutionScreen(*self.args), self.results.append)


def shown(screen: SolutionScreen, part: str) -> str:
    return str(screen.query_one(f"#solution-{part}").render())


async def opened(pilot) -> SolutionScreen:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, SolutionScreen))
    return pilot.app.screen


def attempts(store: ProgressStore, lesson: Lesson, exercise: Exercise, count: int) -> None:
    for _ in range(count):
        store.record_attempt(lesson.id, exercise.id, passed=False, seconds=5)


async def test_the_diff_stays_hidden_before_three_attempts(serve) -> None:
    lesson, exercise, workspace = serve
    store = ProgressStore()
    attempts(store, lesson, exercise, 2)
    app = SolutionApp(lesson, exercise, workspace, store, hints_shown=1)
    async with app.run_test(size=(110, 34)) as pilot:
        screen = await opened(pilot)
        assert "1. The binary is built with `go build -o main`." in shown(screen, "hints")
        assert "try 1 more time first" in shown(screen, "status")
        assert shown(screen, "diff").strip() == ""
        assert screen.query_one("#copy", Button).display is False
        assert screen.query_one("#give-up", Button).display is True
        await pilot.press("y")  # nothing to copy yet
        assert not isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.results != [])
    assert app.results == [SolutionClosed(revealed=False)]
    assert store.load()[0].exercise(lesson.id, exercise.id).solution_revealed is False


async def test_the_diff_shows_after_three_attempts_and_is_recorded(serve) -> None:
    lesson, exercise, workspace = serve
    store = ProgressStore()
    attempts(store, lesson, exercise, 3)
    app = SolutionApp(lesson, exercise, workspace, store)
    async with app.run_test(size=(110, 34)) as pilot:
        screen = await opened(pilot)
        diff = shown(screen, "diff")
        assert '-CMD ["./server"]' in diff and '+CMD ["./main"]' in diff
        assert "after 3 attempts" in shown(screen, "status")
        assert "none shown yet" in shown(screen, "hints")
        assert screen.query_one("#copy", Button).display is True
        assert screen.query_one("#give-up", Button).display is False
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.results != [])
    assert app.results == [SolutionClosed(revealed=True)]
    assert store.load()[0].exercise(lesson.id, exercise.id).solution_revealed is True


async def test_giving_up_asks_then_shows_the_diff(serve) -> None:
    lesson, exercise, workspace = serve
    store = ProgressStore()
    attempts(store, lesson, exercise, 1)
    app = SolutionApp(lesson, exercise, workspace, store)
    async with app.run_test(size=(110, 34)) as pilot:
        screen = await opened(pilot)
        await pilot.press("g")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")
        await wait_for(pilot, lambda: app.screen is screen)
        assert shown(screen, "diff").strip() == "" and not screen.revealed
        await pilot.press("g")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: app.screen is screen and screen.revealed)
        assert '+CMD ["./main"]' in shown(screen, "diff")
        assert "give up" in shown(screen, "status")
    assert store.load()[0].exercise(lesson.id, exercise.id).solution_revealed is True


async def test_copying_the_solution_keeps_a_backup(serve) -> None:
    lesson, exercise, workspace = serve
    store = ProgressStore()
    attempts(store, lesson, exercise, 3)
    mine = (workspace / "Dockerfile").read_text() + "# my own note\n"
    (workspace / "Dockerfile").write_text(mine)
    solution = (exercise.solution_dir / "Dockerfile").read_text()
    app = SolutionApp(lesson, exercise, workspace, store)
    async with app.run_test(size=(110, 34)) as pilot:
        screen = await opened(pilot)
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "Dockerfile.before-solution" in str(app.screen.question)
        await pilot.press("n")  # changed my mind: nothing is written
        await wait_for(pilot, lambda: app.screen is screen)
        assert (workspace / "Dockerfile").read_text() == mine
        assert not backup_path(workspace, "Dockerfile").exists()
        await click(pilot, "#copy")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await click(pilot, "#yes")
        await wait_for(pilot, lambda: app.screen is screen and screen.copied == ["Dockerfile"])
        assert (workspace / "Dockerfile").read_text() == solution
        assert backup_path(workspace, "Dockerfile").read_text() == mine
        assert not (workspace / "Dockerfile.before-solution").exists()  # the backup is never built
        assert "match the solution" in shown(screen, "status")
        assert screen.query_one("#copy", Button).display is False
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.results != [])
    assert app.results == [SolutionClosed(revealed=True, copied=("Dockerfile",))]


async def test_an_exercise_without_a_solution_says_so() -> None:
    course = load_course(FIXTURES / "courses" / "ui")
    first = course.lesson("first-build")
    build_it = first.exercise("build-it")
    store = ProgressStore()
    attempts(store, first, build_it, 5)
    app = SolutionApp(first, build_it, prepare_workspace(first, build_it), store, hints_shown=2)
    async with app.run_test(size=(110, 34)) as pilot:
        screen = await opened(pilot)
        assert "no reference solution" in shown(screen, "status")
        assert "2. Press b again" in shown(screen, "hints")
        assert screen.query_one("#give-up", Button).display is False
        await pilot.press("g")
        assert app.screen is screen and not screen.revealed
