"""Predict, then build: the learner marks every step "cached" or "rebuilt" before the build.

``PredictScreen`` dismisses with ``{step: "cached" | "rebuilt"}`` for every
step except FROM (a base image is never rebuilt, so FROM is not asked), or
None when the learner cancels.  After the build, ``grade_text`` and
``PredictionResultScreen`` show ``tutor.course.prediction.grade``'s verdict.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.coordinate import Coordinate
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Static

from tutor import fmt
from tutor.course.checks import CACHED_WORD, REBUILT_WORD
from tutor.course.prediction import NOT_RUN, PredictionGrade
from tutor.engine.dockerfile import PlannedStep, plan

MARKS = {CACHED_WORD: ("● cached", "bold green"), REBUILT_WORD: ("▲ rebuilt", "bold yellow")}
FLIP = {CACHED_WORD: REBUILT_WORD, REBUILT_WORD: CACHED_WORD}


def initial_marks(steps: list[PlannedStep], previous: Mapping[int, str] | None = None) -> dict[int, str]:
    """Every non-FROM step's starting mark: the previous prediction where it had one, else cached."""
    previous = previous or {}
    return {
        s.step: str(previous.get(s.step)) if previous.get(s.step) in FLIP else CACHED_WORD
        for s in steps
        if s.keyword != "FROM"
    }


class StepTable(DataTable):
    """A row table where one click on a row selects it (the stock table wants a second click)."""

    async def _on_click(self, event: events.Click) -> None:
        # Runs before DataTable's own click handler: with the cursor already on the
        # clicked row, that handler posts RowSelected for this first click.
        meta = event.style.meta
        row = meta.get("row")
        if isinstance(row, int) and row >= 0 and "column" in meta:
            self.cursor_coordinate = Coordinate(row, max(int(meta["column"]), 0))


class PredictScreen(ModalScreen[dict[int, str] | None]):
    CSS_PATH = "predict.tcss"
    BINDINGS = [
        Binding("space", "toggle_mark", "Switch", tooltip="Switch the highlighted step between cached and rebuilt"),
        Binding("a", "mark_all('cached')", "All cached", tooltip="Mark every step as coming from the cache"),
        Binding("r", "mark_all('rebuilt')", "All rebuilt", tooltip="Mark every step as rebuilt"),
        Binding("enter", "confirm", "Build", priority=True, tooltip="Keep these marks and build"),
        Binding("escape", "cancel", "Cancel", tooltip="Close without predicting (nothing is built)"),
    ]

    def __init__(
        self, dockerfile_text: str, previous: Mapping[int, str] | None = None, title: str = "Predict, then build"
    ) -> None:
        super().__init__()
        self.steps = plan(dockerfile_text)
        self.marks = initial_marks(self.steps, previous)
        self.heading = title

    def compose(self) -> ComposeResult:
        with Vertical(id="predict-box"):
            yield Static(
                Text.assemble(
                    (self.heading, "bold"),
                    "\nWhich steps will the engine take from its cache, and which will it rebuild? "
                    "Mark every step, then build and compare.",
                ),
                id="predict-intro",
            )
            yield StepTable(id="predict-steps", cursor_type="row", zebra_stripes=True)
            yield Static(
                Text("space/click switch · a all cached · r all rebuilt · esc cancel", style="dim"),
                id="predict-keys",
            )
            with Horizontal(id="predict-buttons"):
                yield Button("Build (enter)", id="confirm", variant="primary")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        table = self.query_one(StepTable)
        table.add_column("Step", key="step")
        table.add_column("Instruction", key="instruction")
        table.add_column("Your prediction", key="mark")
        total = len(self.steps)
        for s in self.steps:
            table.add_row(
                f"{s.step}/{total}",
                fmt.ellipsize(s.instruction, 44),
                self._mark_cell(s.step),
                key=str(s.step),
            )
        if not self.steps:
            self.query_one("#predict-intro", Static).update(
                Text("The Dockerfile has no steps to predict: write one first (o opens the editor).", style="yellow")
            )
        self._fit(self.app.size.height)
        first = next((n for n, s in enumerate(self.steps) if s.keyword != "FROM"), 0)
        if self.steps:
            table.move_cursor(row=first)
        table.focus()

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.height)

    def _fit(self, height: int) -> None:
        # The box is at most 95% of the screen; the text, keys and buttons around the table take 12 rows.
        self.query_one(StepTable).styles.max_height = max(4, int(height * 0.95) - 12)

    def _mark_cell(self, step: int) -> Text:
        mark = self.marks.get(step)
        if mark is None:
            return Text("● cached (base)", style="dim")
        label, style = MARKS[mark]
        return Text(label, style=style)

    def _show(self, step: int) -> None:
        self.query_one(StepTable).update_cell(str(step), "mark", self._mark_cell(step))

    def toggle(self, step: int) -> None:
        if step not in self.marks:
            self.notify("FROM names the base image: it always counts as cached.", title="Prediction", timeout=3)
            return
        self.marks[step] = FLIP[self.marks[step]]
        self._show(step)

    def _highlighted_step(self) -> int | None:
        table = self.query_one(StepTable)
        if not self.steps or table.row_count == 0:
            return None
        return self.steps[table.cursor_row].step

    def action_toggle_mark(self) -> None:  # (Textual has its own action_toggle)
        step = self._highlighted_step()
        if step is not None:
            self.toggle(step)

    @on(DataTable.RowSelected, "#predict-steps")
    def _clicked(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.toggle(int(event.row_key.value or 0))

    def action_mark_all(self, word: str) -> None:
        for step in self.marks:
            self.marks[step] = word
            self._show(step)

    def action_confirm(self) -> None:
        if not self.steps:
            self.dismiss(None)
            return
        self.dismiss(dict(self.marks))

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "confirm":
            self.action_confirm()
        else:
            self.action_cancel()


# -- after the build -----------------------------------------------------------------------------------


def grade_text(result: PredictionGrade) -> Text:
    """Every step ✓ or ✗, why the missed ones went the way they did, and the score."""
    text = Text()
    if result.total == 0:
        text.append("No step was graded: the build did not run any step you marked.\n", style="yellow")
    else:
        style = "bold green" if result.perfect else "bold"
        text.append(f"Your prediction: {result.summary()}", style=style)
        text.append("  (perfect!)\n" if result.perfect else "\n", style="green")
    text.append("\n")
    for g in result.per_step:
        label = fmt.ellipsize(g.instruction, 44) if g.instruction else f"step {g.step}"
        if not g.scored:
            text.append("   ", style="dim")
            text.append(f"{g.step:>2} {label}", style="dim")
            if g.actual == NOT_RUN:
                text.append(f"  — {g.explanation}\n", style="dim")
            else:
                text.append(f"  {g.actual} (base image, not scored)\n", style="dim")
            continue
        if g.correct:
            text.append(" ✓ ", style="bold green")
            text.append(f"{g.step:>2} {label}")
            text.append(f"  {g.actual}\n", style="green")
            continue
        text.append(" ✗ ", style="bold red")
        text.append(f"{g.step:>2} {label}", style="bold")
        said = f"you said {g.predicted}" if g.predicted else "no mark"
        text.append(f"  {said}, it was {g.actual}\n", style="yellow")
        text.append(f"      {g.explanation}\n", style="")
    return text


class PredictionResultScreen(ModalScreen[None]):
    """The graded prediction, shown once the build is done."""

    CSS_PATH = "predict.tcss"
    BINDINGS = [Binding("escape,enter,q", "close", "Close", tooltip="Close the prediction's result")]

    def __init__(self, result: PredictionGrade) -> None:
        super().__init__()
        self.result = result

    def compose(self) -> ComposeResult:
        with Vertical(id="grade-box"):
            yield Static(Text("How did your prediction do?", style="bold"), id="grade-title")
            with VerticalScroll(id="grade-scroll"):
                yield Static(grade_text(self.result), id="grade-text")
            yield Button("OK (enter)", id="ok", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
