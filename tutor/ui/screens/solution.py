"""Hints so far and, once earned (or when the learner gives up), the reference solution as a diff.

The diff goes from the learner's files to the solution's.  Copying the
solution into the workspace asks first and keeps each replaced file beside it
as ``<name>.before-solution``.  Revealing is recorded in the progress store.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from tutor import paths
from tutor.course.model import Exercise
from tutor.course.progress import ExerciseProgress, ProgressError, ProgressStore
from tutor.course.solution import can_reveal, revealed_hints, solution_diffs
from tutor.ui.screens.editor import inside, save_text

BACKUP_SUFFIX = ".before-solution"


def backup_path(workspace: Path, name: str) -> Path:
    """Where the learner's version of ``name`` is kept: outside the workspace, so never sent to a build."""
    return paths.backups_dir() / workspace.parent.name / workspace.name / (name + BACKUP_SUFFIX)


@dataclass(frozen=True)
class SolutionClosed:
    revealed: bool  # the learner has seen the solution
    copied: tuple[str, ...] = ()  # workspace files replaced by the solution's


_HEADER_PATH_RE = re.compile(r"^((?:---|\+\+\+) .*?) \(.*\)(.*)$")


def diff_text(diff: str) -> Text:
    """A unified diff, coloured: additions green, removals red, hunk headers cyan."""
    text = Text()
    for line in diff.splitlines():
        if line.startswith(("+++", "---")):
            line = _HEADER_PATH_RE.sub(r"\1\2", line)  # "--- your Dockerfile": the full path is noise here
            style = "bold"
        elif line.startswith("@@"):
            style = "cyan"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        else:
            style = "dim"
        text.append(line + "\n", style=style)
    return text


def copy_solution(exercise: Exercise, workspace: Path) -> list[str]:
    """Write the solution's files that differ into the workspace, keeping each replaced file as a backup.

    Returns the relative names written.  OSError or ValueError say what failed.
    """
    folder = exercise.solution_dir
    if folder is None or not folder.is_dir():
        raise ValueError("this exercise has no reference solution")
    written: list[str] = []
    for name in solution_diffs(exercise, workspace):
        target = inside(workspace, name)
        solution = (folder / name).read_text(encoding="utf-8")
        if target.exists():
            backup = backup_path(workspace, name)
            backup.parent.mkdir(parents=True, exist_ok=True)
            backup.write_text(target.read_text(encoding="utf-8", errors="replace"), encoding="utf-8")
        save_text(target, solution)
        written.append(name)
    return written


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question."""

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen #confirm-box { width: 68; max-width: 95%; height: auto; border: thick $warning; background: $surface; padding: 1 2; }
    ConfirmScreen #confirm-buttons { height: auto; margin-top: 1; }
    ConfirmScreen Button { margin-right: 1; }
    """
    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str, yes: str = "Yes") -> None:
        super().__init__()
        self.question = question
        self.yes = yes

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(self.question)
            with Horizontal(id="confirm-buttons"):
                yield Button(f"{self.yes} (y)", id="yes", variant="warning")
                yield Button("No (n)", id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class SolutionScreen(ModalScreen[SolutionClosed]):
    CSS_PATH = "solution.tcss"
    BINDINGS = [
        Binding("g", "give_up", "Give up", tooltip="Give up on this exercise and see the solution now"),
        Binding("y", "copy", "Use solution", tooltip="Copy the solution into your files (yours are kept as backups)"),
        Binding("escape,q", "close", "Close", tooltip="Back to the lesson"),
    ]

    def __init__(
        self, lesson_id: str, exercise: Exercise, workspace: Path, store: ProgressStore, hints_shown: int = 0
    ) -> None:
        super().__init__()
        self.lesson_id = lesson_id
        self.exercise = exercise
        self.workspace = Path(workspace)
        self.store = store
        self.hints_shown = hints_shown
        self.revealed = False
        self.copied: list[str] = []

    def _progress(self) -> ExerciseProgress:
        return self.store.load()[0].exercise(self.lesson_id, self.exercise.id)

    # -- layout ------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(id="solution-box"):
            yield Static(Text(f"{self.exercise.title}: hints and solution", style="bold"), id="solution-title")
            with VerticalScroll(id="solution-scroll"):
                yield Static(id="solution-hints")
                yield Static(id="solution-status")
                yield Static(id="solution-diff")
            with Horizontal(id="solution-buttons"):
                yield Button("Give up and show it (g)", id="give-up", variant="warning")
                yield Button("Use the solution (y)", id="copy", variant="primary")
                yield Button("Close (esc)", id="close")

    def on_mount(self) -> None:
        progress = self._progress()
        self._show_hints(progress)
        allowed, why = can_reveal(self.exercise, progress)
        if allowed:
            self._reveal(why)
        else:
            self._lock(why)

    def _show_hints(self, progress: ExerciseProgress) -> None:
        shown = max(len(revealed_hints(self.exercise, progress)), self.hints_shown)
        hints = self.exercise.hints[:shown]
        text = Text()
        text.append("Hints\n", style="bold")
        if hints:
            for number, hint in enumerate(hints, start=1):
                text.append(f" {number}. {hint}\n")
        else:
            text.append(" none shown yet.\n", style="dim")
        left = len(self.exercise.hints) - len(hints)
        if left > 0:
            text.append(f" {left} more hint{'s' if left != 1 else ''}: press h on the lesson screen.\n", style="dim")
        self.query_one("#solution-hints", Static).update(text)

    def _lock(self, why: str) -> None:
        self.query_one("#solution-status", Static).update(
            Text.assemble(("\nSolution\n", "bold"), (f" Not yet: {why}.", "yellow"))
        )
        self.query_one("#solution-diff", Static).update("")
        has_solution = self.exercise.solution_dir is not None
        self.query_one("#give-up", Button).display = has_solution
        self.query_one("#copy", Button).display = False

    def _reveal(self, why: str) -> None:
        if not self.revealed:
            try:
                self.store.reveal_solution(self.lesson_id, self.exercise.id)
            except ProgressError as exc:
                self.notify(
                    f"That the solution was seen could not be saved: {exc}", title="Progress", severity="warning"
                )
            self.revealed = True
            self.refresh_bindings()
        self.query_one("#give-up", Button).display = False
        self._show_diff(why)

    def _show_diff(self, why: str = "") -> None:
        diffs = solution_diffs(self.exercise, self.workspace)
        status = Text.assemble(("\nSolution\n", "bold"))
        if why:
            status.append(f" Shown because {why}.\n", style="dim")
        if diffs:
            status.append(" From your files (-) to the solution (+):", style="")
        else:
            status.append(" Your files match the solution.", style="green")
        self.query_one("#solution-status", Static).update(status)
        ordered = sorted(diffs, key=lambda name: (name != self.exercise.dockerfile, name))
        body = Text()
        for name in ordered:
            body.append("\n")
            body.append_text(diff_text(diffs[name]))
        self.query_one("#solution-diff", Static).update(body)
        self.query_one("#copy", Button).display = bool(diffs)

    # -- actions -----------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Only the keys that can do something now show in the footer."""
        if action == "give_up":
            return not self.revealed and self.exercise.solution_dir is not None
        if action == "copy":
            return self.revealed
        return True

    def action_give_up(self) -> None:
        if self.revealed:
            return
        allowed, why = can_reveal(self.exercise, self._progress(), give_up=True)
        if not allowed:
            self.notify(why, title="Solution")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._reveal(why)

        self.app.push_screen(
            ConfirmScreen("Give up and see the solution now? You can still finish the exercise yourself.", "Show it"),
            answered,
        )

    def action_copy(self) -> None:
        if not self.revealed:
            self.notify("The solution is not shown yet.", title="Solution")
            return
        names = list(solution_diffs(self.exercise, self.workspace))
        if not names:
            self.notify("Your files already match the solution.", title="Solution")
            return
        kept = ", ".join(str(backup_path(self.workspace, n)) for n in names if (self.workspace / n).exists())
        question = f"Replace {', '.join(names)} in your workspace with the solution's?"
        if kept:
            question += f" Your current version is kept as {kept}."

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            try:
                written = copy_solution(self.exercise, self.workspace)
            except (OSError, ValueError) as exc:
                self.notify(f"The solution was not copied: {exc}", title="Solution", severity="error", timeout=10)
                return
            self.copied.extend(n for n in written if n not in self.copied)
            self.notify(
                f"Copied the solution's {', '.join(written)} into your workspace. Build it with b.", title="Solution"
            )
            self._show_diff()

        self.app.push_screen(ConfirmScreen(question, "Replace"), answered)

    def action_close(self) -> None:
        self.dismiss(SolutionClosed(self.revealed, tuple(self.copied)))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        actions = {"give-up": self.action_give_up, "copy": self.action_copy, "close": self.action_close}
        actions.get(event.button.id or "close", self.action_close)()
