"""The size race: every image the learner built in the course, against the binary it runs.

Bars to scale in the terminal (``sizerace.render_bars``), in MB and as a
multiple of the floor: the static Go binary alone, which no image can beat.
The smallest image whose exercise passes its checks is marked.  Measuring
needs the engine (a container is created to read the binary's size), so it
runs in a thread worker.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, LoadingIndicator, Static
from textual.worker import Worker, WorkerState

from tutor import fmt
from tutor.engine.seat_race import ExerciseName, SeatRace, course_names, passed_exercises, race_notes, seat_race
from tutor.engine.sizerace import render_bars
from tutor.ui.widgets.footer import KeysFooter

Measure = Callable[[], SeatRace]
CHAMPION_MARK = "★ "

INTRO = (
    "How big is each image you built, next to the Go binary it runs? The binary alone is the floor: "
    "an image cannot be smaller than the program it ships."
)


@dataclass
class RaceMeasured(Message):
    race: SeatRace


@dataclass
class RaceFailed(Message):
    reason: str


def engine_measure(
    seat: str, engine: str | None, names: Sequence[ExerciseName], passed: Collection[tuple[str, str]]
) -> Measure:
    def measure() -> SeatRace:
        from tutor.engine.client import connect

        api = connect(engine)  # EngineUnavailable says why and how to fix it
        try:
            return seat_race(api, seat, names, passed)
        finally:
            api.close()

    return measure


def distinct_labels(labels: Sequence[str], width: int) -> list[str]:
    """Labels cut to ``width`` so that no two read the same.

    Cut at the end, "L3 Predict an edit to main.go" and "L3 Predict an edit to go.mod" both read
    "L3 Predict an edit t…"; those that would collide keep where they differ instead:
    "L3 Predict…main.go".
    """
    labels = [" ".join(label.split()) for label in labels]
    cut = [fmt.ellipsize(label, width) for label in labels]
    for shown in {c for c in cut if cut.count(c) > 1}:
        group = [i for i, c in enumerate(cut) if c == shown]
        same = len(os.path.commonprefix([labels[i] for i in group]))
        for i in group:
            label = labels[i]
            head = min(same, max(1, width // 3))
            word = label.rfind(" ", head, same) + 1  # from the start of the word where they differ
            rest = label[max(head, word):]
            room = width - head - 1
            cut[i] = label[:head] + "…" + (rest if len(rest) <= room else rest[: max(0, room - 1)] + "…")
    return cut


def race_lines(race: SeatRace, width: int) -> Text:
    """The bars, the champion marked, the floor dimmed."""
    text = Text()
    bars_width = max(24, width - len(CHAMPION_MARK))
    # render_bars gives labels a third of its width at most; cut them here first, told apart.
    labels = distinct_labels([row.label for row in race.rows], max(6, bars_width // 3))
    rows = [replace(row, label=label) for row, label in zip(race.rows, labels)]
    lines = render_bars(rows, bars_width)
    for row, line in zip(race.rows, lines):
        if race.champion is not None and row is race.champion:
            text.append(CHAMPION_MARK + line + "\n", style="bold green")
        elif row.is_floor:
            text.append(" " * len(CHAMPION_MARK) + line + "\n", style="italic cyan")
        else:
            text.append(" " * len(CHAMPION_MARK) + line + "\n")
    text.rstrip()
    return text


NOTE_STYLE = {"champion": "bold green", "none-passed": "yellow", "floor": "dim", "problem": "yellow", "hint": "bold"}


def notes_text(race: SeatRace) -> Text:
    text = Text()
    for note in race_notes(race):
        prefix = CHAMPION_MARK if note.kind == "champion" else ""
        text.append(prefix + note.text + "\n", style=NOTE_STYLE.get(note.kind, ""))
    text.rstrip()
    return text


class SizeRaceScreen(Screen):
    CSS_PATH = "size_race.tcss"
    BINDINGS = [
        Binding("escape", "close", "Close", tooltip="Back to the lesson"),
        Binding("r", "refresh_race", "Measure again", tooltip="Measure the images again (after a new build)"),
    ]

    def __init__(
        self,
        seat: str,
        engine: str | None = None,
        *,
        names: Sequence[ExerciseName] | None = None,
        passed: Collection[tuple[str, str]] | None = None,
        measure: Measure | None = None,
    ) -> None:
        super().__init__()
        self.seat = seat
        self.engine = engine
        self._names = names
        self._passed = passed
        self._measure = measure
        self.race: SeatRace | None = None
        self._measuring = False

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="race-body"):
            yield Static(Text(INTRO, style="dim"), id="race-intro")
            yield LoadingIndicator(id="race-loading")
            yield Static(id="race-status")
            yield Static(id="race-bars")
            yield Static(id="race-notes")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one("#race-bars", Static).border_title = "image size, and × the binary"
        self.title = "Image size race"
        self.sub_title = f"seat {self.seat}"
        names = self._names if self._names is not None else course_names(getattr(self.app, "course", None))
        passed = self._passed if self._passed is not None else passed_exercises(getattr(self.app, "progress", None), names)
        self._measure = self._measure or engine_measure(self.seat, self.engine, names, passed)
        self.action_refresh_race()

    def on_resize(self) -> None:
        if self.race is not None:
            self._show(self.race)

    @property
    def is_loading(self) -> bool:
        return bool(self.query_one("#race-loading", LoadingIndicator).display)

    # -- measuring, off the UI thread -----------------------------------------------------------

    def action_refresh_race(self) -> None:
        if self._measuring:
            return
        self._measuring = True
        self.query_one("#race-loading", LoadingIndicator).display = True
        self._set_status(Text("Measuring your images on the engine…", style="italic"))
        self._measure_race()

    @work(thread=True, exclusive=True, exit_on_error=False, group="size-race")
    def _measure_race(self) -> None:
        assert self._measure is not None
        try:
            race = self._measure()
        except Exception as exc:  # noqa: BLE001 - an engine gone or an image removed: shown, never raised
            problem = getattr(exc, "problem", None)
            reason = f"{problem.reason} {problem.fix}" if problem is not None else f"The images could not be measured: {exc}"
            self.post_message(RaceFailed(reason))
        else:
            self.post_message(RaceMeasured(race))

    @on(RaceMeasured)
    def _measured(self, message: RaceMeasured) -> None:
        self._measuring = False
        self.race = message.race
        self.query_one("#race-loading", LoadingIndicator).display = False
        self._set_status("")
        self._show(message.race)

    @on(RaceFailed)
    def _failed(self, message: RaceFailed) -> None:
        self._measuring = False
        self.query_one("#race-loading", LoadingIndicator).display = False
        self._set_status(Text(message.reason + "  (r: measure again)", style="bold red"))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "size-race" and event.state == WorkerState.ERROR:
            self._measuring = False
            self.query_one("#race-loading", LoadingIndicator).display = False
            self.notify(f"Measuring stopped: {event.worker.error}", title="Size race", severity="error")

    # -- drawing --------------------------------------------------------------------------------

    def _set_status(self, text: Text | str) -> None:
        status = self.query_one("#race-status", Static)
        status.update(text)
        status.display = bool(str(text))

    def _show(self, race: SeatRace) -> None:
        bars = self.query_one("#race-bars", Static)
        width = bars.content_region.width or self.size.width - 4
        bars.update(race_lines(race, width))
        bars.display = bool(race.rows)
        self.query_one("#race-notes", Static).update(notes_text(race))

    def action_close(self) -> None:
        self.dismiss()
