"""The layer pane: one row per Dockerfile step, lit up as the engine reaches it."""

from __future__ import annotations

import time
from collections.abc import Mapping

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from tutor import fmt
from tutor.engine.dockerfile import PlannedStep
from tutor.engine.record import BUILT, CACHED, FAILED, METADATA, RUNNING, WAITING, StepState
from tutor.fmt import ellipsize

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
# Each frame redraws the whole table (a DataTable drops its drawn rows on any cell update, about
# 0.7 ms a row): four frames a second show life without taking the UI thread from the log.
SPIN_EVERY = 0.25
# Status stands out by word AND by colour (colour-blind learners, monochrome terminals).
STATUS_STYLE = {
    WAITING: ("waiting", "dim"),
    RUNNING: ("RUNNING", "bold cyan"),
    CACHED: ("CACHED", "bold green"),
    BUILT: ("BUILT", "bold yellow"),
    FAILED: ("FAILED", "bold white on red"),
}


def status_text(status: str, frame: int = 0) -> Text:
    word, style = STATUS_STYLE.get(status, (status.upper(), ""))
    if status == RUNNING:
        return Text(f"{SPINNER[frame % len(SPINNER)]} {word}", style=style)
    return Text(f"  {word}", style=style)


def step_name(state: StepState) -> str:
    """The step as the learner's builder numbers it: "7/9" on the classic builder, BuildKit's own
    "5/6" (its "[builder 5/6]", the stage shown by the pane), and "—" for an instruction that
    BuildKit runs no step for."""
    if state.builder == "classic" or (state.label is None and state.status != METADATA):
        return f"{state.step}/{state.total}"
    if state.label is None:
        return "—"
    return state.label.strip("[]").split()[-1]


class LayerPane(DataTable):
    """Rows keyed by step number; stage header rows in multi-stage builds."""

    DEFAULT_CSS = """
    LayerPane { height: auto; max-height: 16; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self._spin_frame = 0
        self._spinning: set[int] = set()
        self._step_states: dict[int, StepState] = {}
        self._stage_names: dict[int, str | None] = {}
        self._final_stage: int | None = None
        self._planned_total: int | None = None
        self._plan: list[PlannedStep] = []
        self._plan_names: dict[int, str] = {}  # BuildKit's names of the planned steps
        self._run_started: dict[int, float] = {}  # step -> when the pane saw it start
        self._width = 0

    def on_mount(self) -> None:
        self.add_column("step", key="step", width=5)
        self.add_column("instruction", key="instruction", width=self._instruction_width())
        self.add_column("status", key="status", width=10)
        self.add_column("time", key="time", width=7)
        self.add_column("size", key="size", width=9)
        self.set_interval(SPIN_EVERY, self._spin)
        self.border_title = "Layers"

    # -- attributes down: the screen calls these ---------------------------------------------

    def _instruction_width(self) -> int:
        # step 5 + status 10 + time 6 + size 9, two cells of padding per column, the scrollbar
        return max(16, (self.size.width or 80) - (5 + 10 + 7 + 9) - 2 * 5 - 3)

    def on_resize(self) -> None:
        width = self._instruction_width()
        if width == self._width:
            return
        self._width = width
        column = self.columns.get(ColumnKey("instruction"))
        if column is not None:
            column.width = width
            column.auto_width = False
        states = sorted(self._step_states.values(), key=lambda s: s.step)
        cursor = self.cursor_row
        self.show_plan(self._plan, self._plan_names)
        for state in states:
            self.show_step(state)
        if 0 <= cursor < self.row_count:
            self.move_cursor(row=cursor, animate=False, scroll=False)

    def _cut(self, text: str) -> str:
        return ellipsize(text, self._instruction_width())

    def show_plan(self, planned: list[PlannedStep], names: Mapping[int, str] | None = None) -> None:
        """Before a build: the steps the Dockerfile will run, all waiting. ``names``: how BuildKit
        will name each step (``5/6``, ``—``); a step it leaves out belongs to a stage the build
        skips. Without it, steps are numbered as the classic builder numbers them."""
        self._plan = list(planned)
        self._plan_names = dict(names or {})
        total = len(planned)  # the engine numbers every instruction of the file
        if names:
            planned = [p for p in planned if p.step in names]
        self.clear()
        self._spinning.clear()
        self._run_started.clear()
        self._step_states.clear()
        self._stage_names = {p.stage: p.stage_name for p in planned}
        self._final_stage = max(self._stage_names) if self._stage_names else None
        self._planned_total = total or None
        last_stage = None
        for p in planned:
            if len(self._stage_names) > 1 and p.stage != last_stage:
                self._add_stage_row(p.stage, p.stage_name)
                last_stage = p.stage
            self.add_row(
                Text(self._plan_names.get(p.step) or f"{p.step}/{total}", style="dim"),
                Text(self._cut(p.instruction), style="dim"),
                status_text(WAITING),
                "",
                "",
                key=str(p.step),
            )
        self._update_title()

    def show_step(self, state: StepState) -> None:
        """A step started, ran, finished or failed: (re)draw its row."""
        if self._planned_total is not None and state.total != self._planned_total:
            # The engine runs another Dockerfile than the one planned (edited meanwhile): follow it.
            known = dict(self._step_states)
            self.clear()
            self._stage_names, self._final_stage, self._planned_total = {}, None, None
            self._step_states.clear()
            for earlier in sorted(known.values(), key=lambda s: s.step):
                if earlier.step != state.step:
                    self.show_step(earlier)
        self._step_states[state.step] = state
        key = str(state.step)
        if state.status == RUNNING:
            self._spinning.add(state.step)
            self._run_started.setdefault(state.step, time.monotonic())
        else:
            self._spinning.discard(state.step)
            self._run_started.pop(state.step, None)
        cells = (
            Text(step_name(state)),
            Text(self._cut(state.instruction)),
            status_text(state.status, self._spin_frame),
            "" if state.status == METADATA else fmt.seconds(state.seconds),
            fmt.size(state.size) if state.status in (CACHED, BUILT) and state.size is not None else "",
        )
        if key in self.rows:
            for column, value in zip(("step", "instruction", "status", "time", "size"), cells):
                self.update_cell(key, column, value)
        else:
            if state.stage not in self._stage_names or (len(self._stage_names) > 1 and not self._has_stage_row(state.stage)):
                self._stage_names.setdefault(state.stage, state.stage_name)
                if len(self._stage_names) > 1:
                    self._add_stage_row(state.stage, state.stage_name)
            self.add_row(*cells, key=key)
        if state.status == RUNNING and key in self.rows:
            self.move_cursor(row=self.get_row_index(key), animate=False, scroll=True)
        self._update_title()

    def mark_final_stage(self, stage: int | None) -> None:
        self._final_stage = stage
        for index, name in self._stage_names.items():
            key = f"stage-{index}"
            if key in self.rows:
                self.update_cell(key, "instruction", self._stage_label(index, name))
                self.update_cell(key, "status", self._stage_role(index))

    def point_at(self, step: int | None) -> None:
        """After a build: the cursor on the step that matters (the first miss, or the failure)."""
        # After the next refresh: the scrolls that followed the running step are queued the same way
        # and must not land after this one.
        self.call_after_refresh(self._point_at, step)

    def _point_at(self, step: int | None) -> None:
        self.scroll_to(y=0, animate=False, immediate=True)
        key = str(step) if step is not None else None
        if key and key in self.rows:
            self.move_cursor(row=self.get_row_index(key), animate=False, scroll=True)
        else:
            self.move_cursor(row=0, animate=False, scroll=False)

    def state(self, step: int) -> StepState | None:
        return self._step_states.get(step)

    # -- internals ---------------------------------------------------------------------------

    def _has_stage_row(self, stage: int) -> bool:
        return f"stage-{stage}" in self.rows

    def _stage_label(self, stage: int, name: str | None) -> Text:
        """The stage's name in the instruction column: the whole of it fits there when the
        column is narrow (its role goes in the next column, ``_stage_role``)."""
        title = name or f"stage {stage}"
        style = "bold" if self._is_final(stage) else "italic"
        return Text(self._cut(f"━━ {title}"), style=style)

    def _is_final(self, stage: int) -> bool:
        return self._final_stage is not None and stage == self._final_stage

    def _stage_role(self, stage: int) -> Text:
        """Whether the stage's layers are in the image: the final stage's are, and those of the
        stages it starts FROM (`FROM builder AS local`); the others are left behind."""
        if self._is_final(stage):
            return Text("the image", style="bold")
        if stage in self._under_final():
            return Text("in image", style="bold dim")
        return Text("not kept", style="italic dim")

    def _under_final(self) -> set[int]:
        """The stages the final stage starts FROM, followed back (from the plan)."""
        named = {p.stage_name.lower(): p.stage for p in self._plan if p.keyword == "FROM" and p.stage_name}
        start = {p.stage: p.instruction.split()[1].lower() for p in self._plan if p.keyword == "FROM" and len(p.instruction.split()) > 1}
        under: set[int] = set()
        stage = self._final_stage
        while stage is not None and start.get(stage) in named and named[start[stage]] < stage:
            stage = named[start[stage]]
            under.add(stage)
        return under

    def _add_stage_row(self, stage: int, name: str | None) -> None:
        key = f"stage-{stage}"
        if key not in self.rows:
            self.add_row("", self._stage_label(stage, name), self._stage_role(stage), "", "", key=key)

    def _update_title(self) -> None:
        states = list(self._step_states.values())
        if not states:
            self.border_subtitle = ""
            return
        final = self._final_stage if self._final_stage is not None else max(s.stage for s in states)
        total = sum(s.size or 0 for s in states if s.stage == final and s.status in (CACHED, BUILT))
        self.border_subtitle = f"final stage layers {fmt.size(total)}"

    def _spin(self) -> None:
        if not self._spinning:
            return
        self._spin_frame += 1
        for step in list(self._spinning):
            key = str(step)
            if key in self.rows:
                self.update_cell(key, "status", status_text(RUNNING, self._spin_frame))
                started = self._run_started.get(step)
                if started is not None and self._spin_frame % 2 == 0:  # the clock ticks twice a second
                    self.update_cell(key, "time", Text(fmt.seconds(time.monotonic() - started), style="cyan"))
