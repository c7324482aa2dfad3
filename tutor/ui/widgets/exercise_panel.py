"""The exercise: its goal, its checks (with what was expected and found), and hints."""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from tutor.course.checks import CheckResult
from tutor.course.model import Exercise, Lesson
from tutor.course.scenarios import describe_scenario
from tutor.ui.widgets.static_update import update_in_place


@dataclass(frozen=True)
class EngineView:
    """An exercise done with the docker CLI: what of the lesson the engine holds, and the watch."""

    objects: tuple[str, ...] = ()
    note: str | None = None  # why the engine cannot be watched
    watching: bool = False


CODE_STYLE = "bold cyan"  # `code` in a goal or a hint, as the lesson text shows it: no backticks


def inline_code(text: str) -> Text:
    """Markdown's inline code (`like this`) shown as code: the backticks go, the style stays.
    An unpaired backtick is kept as written."""
    parts = text.split("`")
    if len(parts) % 2 == 0:  # an odd number of backticks: not markdown code, show it as written
        return Text(text)
    shown = Text()
    for index, part in enumerate(parts):
        shown.append(part, style=CODE_STYLE if index % 2 else "")
    return shown


def exercise_text(
    lesson: Lesson,
    exercise: Exercise | None,
    results: list[CheckResult] | None,
    hints: list[str],
    running: str | None = None,
    workspace: str | None = None,
    engine: EngineView | None = None,
) -> Group:
    """The panel's content; checks and hints are laid out in columns so long lines wrap under themselves."""
    if exercise is None:
        return Group(Text("This lesson has no exercise: read, then move on with ].", style="dim"))
    index = lesson.exercises.index(exercise) + 1
    head = Text()
    head.append(f"Exercise {index}/{len(lesson.exercises)}: {exercise.title}\n", style="bold")
    head.append_text(inline_code(" ".join(exercise.goal.split()) + "\n"))
    if workspace:
        head.append(f"Your files: {workspace}\n", style="dim")
    if engine is not None:
        head.append(
            "Type the command in a terminal, in that folder (or press d for the docker prompt). "
            "The tutor builds nothing here: it watches the engine and ticks each check as it changes.\n",
            style="italic",
        )
    if exercise.scenario:
        head.append(describe_scenario(exercise.scenario) + "\n", style="italic")
    head.append("\nChecks", style="bold")
    parts: list[RenderableType] = [head, Padding(_checks(exercise, results, running), (0, 0, 0, 1))]
    tail = Text()
    if running:
        tail.append(f"\n{running}\n", style="cyan")
    if tail:
        parts.append(tail)
    if engine is not None:
        parts.extend(_engine_part(engine))
    if hints:
        parts.append(Text("\nHints", style="bold"))
        grid = Table.grid(padding=(0, 1))
        grid.add_column(justify="right", no_wrap=True)
        grid.add_column(ratio=1)
        for number, hint in enumerate(hints, start=1):
            grid.add_row(f"{number}.", inline_code(hint))
        parts.append(grid)
    remaining = len(exercise.hints) - len(hints)
    if remaining > 0:
        parts.append(Text(f"\n{remaining} more hint{'s' if remaining > 1 else ''}: press h.", style="dim"))
    parts.extend((Text("\nKeys", style="bold"), _keys(lesson, exercise)))
    return Group(*parts)


def _engine_part(engine: EngineView) -> list[RenderableType]:
    """What of this lesson is on the engine, found by the names the exercises give it."""
    parts: list[RenderableType] = [Text("\nOn the engine", style="bold")]
    if engine.note:
        parts.append(Text(f"Cannot watch the engine: {engine.note}", style="yellow"))
    lines = Text()
    for line in engine.objects:
        lines.append(f" {line}\n")
    if not engine.objects:
        lines.append(" nothing of this lesson\n", style="dim")
    parts.append(lines)
    if engine.objects:
        parts.append(Text("Made by your commands: they stay until you remove them (k asks first).", style="dim"))
    return parts


def _keys(lesson: Lesson, exercise: Exercise) -> Table:
    """The keys of the exercise, where the learner works on it (not only under ?)."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True, style="bold", justify="right")
    grid.add_column(ratio=1)
    if exercise.watches_engine:
        rows = [
            ("d", "a docker prompt, in your files' folder"),
            ("h / S", "the next hint / the commands that do it"),
            ("k", "remove this lesson's images and containers (asks first)"),
            ("4", "the Containers tab"),
        ]
        if lesson.exercises.index(exercise) + 1 < len(lesson.exercises):
            rows.append((">", "the next exercise of this lesson"))
        for key, what in rows:
            grid.add_row(key, Text(what, style="dim"))
        return grid
    rows = [
        ("b", "predict which steps come from the cache, then build" if exercise.predict else "build, then run the checks"),
        ("t", "predict which steps come from the cache, then build"),
        ("o", "edit the exercise's files"),
        ("w", "watch: rebuild each time you save in your own editor"),
        ("h / S", "the next hint / the solution, once earned"),
        ("l", "what the highlighted step's layer holds (after a build)"),
        ("z", "the size race of the images you built"),
        ("r", "run the image you built (then the Containers tab, 4)"),
    ]
    if exercise.predict:
        rows.pop(1)  # b predicts already
    if lesson.exercises.index(exercise) + 1 < len(lesson.exercises):
        rows.append((">", "the next exercise of this lesson"))
    for key, what in rows:
        grid.add_row(key, Text(what, style="dim"))
    return grid


def _checks(exercise: Exercise, results: list[CheckResult] | None, running: str | None) -> Table:
    """One row per check: its mark, then what it asks for and, when it failed, expected and found."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(ratio=1)
    by_name = {r.name or r.kind: r for r in results or []}
    for check in exercise.checks:
        result = by_name.get(check.name)
        if result is None:
            mark = Text("…", style="cyan") if running else Text("○", style="dim")
            grid.add_row(mark, Text(check.title, style="cyan" if running else "dim"))
        elif result.passed:
            said = inline_code(result.sentence + ".")
            said.style = "dim"
            grid.add_row(Text("✓", style="bold green"), Group(Text(check.title), said))
        else:
            said = inline_code(result.sentence + ".")
            said.style = "yellow"
            if result.line:
                said.append(f" (Dockerfile line {result.line})", style="dim")
            grid.add_row(Text("✗", style="bold red"), Group(Text(check.title, style="bold"), said))
    return grid


class ExercisePanel(VerticalScroll):
    DEFAULT_CSS = """
    ExercisePanel > Static { width: 1fr; }
    """

    def compose(self):
        yield Static(id="exercise-text")

    def show(self, text: RenderableType) -> None:
        update_in_place(self.query_one("#exercise-text", Static), text)
