"""The exercise: its goal, its checks (with what was expected and found), and hints."""

from __future__ import annotations

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from tutor.course.checks import CheckResult
from tutor.course.model import Exercise, Lesson


def exercise_text(
    lesson: Lesson,
    exercise: Exercise | None,
    results: list[CheckResult] | None,
    hints: list[str],
    running: str | None = None,
    workspace: str | None = None,
) -> Text:
    text = Text()
    if exercise is None:
        text.append("This lesson has no exercise: read, then move on with ].", style="dim")
        return text
    index = lesson.exercises.index(exercise) + 1
    text.append(f"Exercise {index}/{len(lesson.exercises)}: {exercise.title}\n", style="bold")
    text.append(" ".join(exercise.goal.split()) + "\n")
    if workspace:
        text.append(f"Your files: {workspace}\n", style="dim")
    if exercise.scenario:
        text.append(f"When you build, the tutor also runs the scenario '{exercise.scenario}'.\n", style="italic")
    text.append("\nChecks\n", style="bold")
    by_name = {r.name or r.kind: r for r in results or []}
    for check in exercise.checks:
        result = by_name.get(check.name)
        if result is None:
            mark, style = ("…", "cyan") if running else ("○", "dim")
            text.append(f" {mark} {check.name}\n", style=style)
            continue
        if result.passed:
            text.append(" ✓ ", style="bold green")
            text.append(f"{check.name}\n")
        else:
            text.append(" ✗ ", style="bold red")
            text.append(f"{check.name}\n", style="bold")
            text.append(f"     expected: {result.expected}\n", style="")
            text.append(f"     found:    {result.found}\n", style="yellow")
            if result.line:
                text.append(f"     (Dockerfile line {result.line})\n", style="dim")
    if running:
        text.append(f"\n{running}\n", style="cyan")
    if hints:
        text.append("\nHints\n", style="bold")
        for number, hint in enumerate(hints, start=1):
            text.append(f" {number}. {hint}\n")
    remaining = len(exercise.hints) - len(hints)
    if remaining > 0:
        text.append(f"\n{remaining} more hint{'s' if remaining > 1 else ''}: press h.\n", style="dim")
    return text


class ExercisePanel(VerticalScroll):
    DEFAULT_CSS = """
    ExercisePanel > Static { width: 1fr; }
    """

    def compose(self):
        yield Static(id="exercise-text")

    def show(self, text: Text) -> None:
        self.query_one("#exercise-text", Static).update(text)
