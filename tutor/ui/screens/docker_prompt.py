"""The docker prompt: type docker commands and see what the docker CLI prints, on this seat's engine.

Kiosk and browser seats have no shell; this is where their learners type ``docker build``,
``docker images``, ``docker run``, ``docker ps -a``... Elsewhere it is a convenience: the learner's
own terminal works as well. Each line goes to the prompt's rules
(``workshop.docker_prompt_rules.decide``: an argv or a one-line refusal) and then to the docker CLI
(``engine.docker_cli.DockerCommand``), in a thread worker that only iterates the command's events
and puts them in a channel; the handler, on the UI thread, writes them to the log. The output is
the CLI's own, in a log that keeps columns (tables stay aligned; long lines scroll sideways).

What was typed and shown stays with the app (``PromptMemory``) while the prompt is closed; a kiosk
seat's reset forgets it with the rest of the session.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, Input, Static

from tutor.ui.channel import EventChannel
from tutor.ui.widgets.build_log import NOTE, BuildLog
from tutor.ui.widgets.footer import KeysFooter

if TYPE_CHECKING:  # the rules read the engine's modules (the docker SDK): loaded when a line runs
    from tutor.engine.docker_cli import DockerCommand
    from tutor.workshop.docker_prompt_rules import PromptRules

MAX_HISTORY = 200
MAX_TRANSCRIPT = 5000
BOLD, RED, DIM, RESET = "\x1b[1m", "\x1b[31m", "\x1b[2m", "\x1b[0m"


@dataclass
class PromptMemory:
    """What the prompt keeps while it is closed: the lines typed and what the log showed."""

    history: list[str] = field(default_factory=list)
    transcript: deque[str] = field(default_factory=lambda: deque(maxlen=MAX_TRANSCRIPT))

    def remember(self, line: str) -> None:
        if line and (not self.history or self.history[-1] != line):
            self.history.append(line)
            del self.history[:-MAX_HISTORY]


@dataclass(frozen=True)
class PromptPlace:
    """Where commands run: the folder (the open exercise's, else the seat's workspace), the
    lesson (for the labels), the seat's rules, the engine and the environment the CLI gets."""

    cwd: Path
    rules: PromptRules
    engine: str | None
    environ: Mapping[str, str]
    lesson: str | None = None


@dataclass
class PromptOutputReady(Message):
    """The worker queued output in the screen's channel (sent when the channel was empty)."""


@dataclass
class _Lines:
    texts: list[str]


@dataclass(frozen=True)
class _Said:
    """A line of the prompt's own: a refusal, a note, a problem with its fix."""

    text: str
    style: str = DIM


@dataclass(frozen=True)
class _Done:
    cancelled: bool = False


def _merge(last: object, item: object) -> object | None:
    if isinstance(last, _Lines) and isinstance(item, _Lines):
        last.texts.extend(item.texts)
        return last
    return None


class HistoryInput(Input):
    """An Input whose up and down keys walk through the lines typed before, as a shell's do."""

    BINDINGS = [
        Binding("up", "older", "Older line", show=False),
        Binding("down", "newer", "Newer line", show=False),
    ]

    def __init__(self, history: list[str], **kwargs) -> None:
        super().__init__(**kwargs)
        self.history = history
        self.position = len(history)
        self.draft = ""

    def rewind(self) -> None:
        self.position = len(self.history)
        self.draft = ""

    def action_older(self) -> None:
        if self.position == 0:
            return
        if self.position == len(self.history):
            self.draft = self.value
        self.position -= 1
        self._show(self.history[self.position])

    def action_newer(self) -> None:
        if self.position >= len(self.history):
            return
        self.position += 1
        self._show(self.history[self.position] if self.position < len(self.history) else self.draft)

    def _show(self, value: str) -> None:
        self.value = value
        self.cursor_position = len(value)


def _shown_path(path: Path) -> str:
    """The folder as a learner reads it: its last two parts (the seat's workspace, the exercise)."""
    parts = path.parts
    return "/".join(parts[-2:]) + "/" if len(parts) > 2 else str(path)


class DockerPromptScreen(Screen[None]):
    CSS_PATH = "docker_prompt.tcss"
    BINDINGS = [
        Binding("ctrl+c", "interrupt", "Stop", priority=True, tooltip="Stop the running docker command, as Ctrl+C does in a terminal"),
        Binding("escape", "close", "Back", tooltip="Stop the running command; with none running, back to the course"),
        Binding("ctrl+l", "clear_log", "Clear", tooltip="Clear the output"),
    ]

    def __init__(self, place: PromptPlace, memory: PromptMemory) -> None:
        super().__init__()
        self.place = place
        self.memory = memory
        self.channel: EventChannel[object] = EventChannel()
        self._command: DockerCommand | None = None  # the running command (cancelled from the UI thread)
        self.running = False
        self.lines_done = 0  # lines typed and finished (refused, ended, or failed to start)

    # -- layout -------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self._intro(), id="prompt-intro")
        yield BuildLog(id="prompt-output")
        with Horizontal(id="prompt-line"):
            yield Static(f"{self.place.cwd.name or '/'} $ ", id="prompt-sign")
            yield HistoryInput(self.memory.history, id="prompt-input", placeholder="a docker command, e.g. docker images")
        yield KeysFooter()

    def _intro(self) -> Text:
        rules = self.place.rules
        text = Text()
        text.append("Type docker commands as in a terminal", style="bold")
        text.append(f" (`docker` may be left out): they run in {_shown_path(self.place.cwd)} on this seat's engine.")
        if rules.workshop:
            ports = f"outside {rules.port_range[0]}-{rules.port_range[1]}" if rules.port_range else "below 1024"
            text.append(f" This seat refuses host folders, other seats' images and containers, and host ports {ports}.")
        text.append("\nNo shell: one command a line. ↑↓ earlier lines · Ctrl+C stops · Esc back", style="dim")
        return text

    def on_mount(self) -> None:
        self.sub_title = f"docker prompt · seat {self.place.rules.seat}"
        log = self.query_one(BuildLog)
        log.border_title = "docker"
        if self.memory.transcript:
            log.write_lines(list(self.memory.transcript))
        self.query_one(HistoryInput).focus()

    def footer_hides(self, action: str) -> bool:
        return action == "interrupt" and not self.running or action == "docker_prompt"

    # -- typing a line ----------------------------------------------------------------------------------

    @on(Input.Submitted, "#prompt-input")
    def run_line(self, event: Input.Submitted) -> None:
        line = event.value.strip()
        field_ = self.query_one(HistoryInput)
        if self.running:
            self.notify("A command is running: Ctrl+C stops it.", title="docker", timeout=4)
            return
        field_.value = ""
        field_.rewind()
        if not line:
            return
        self.memory.remember(line)
        field_.rewind()
        self._write([f"{BOLD}{self.place.cwd.name or '/'} $ {line}{RESET}"])
        self._set_running(True)
        self._run(line)

    @work(thread=True, exclusive=True, exit_on_error=False, group="docker-prompt")
    def _run(self, line: str) -> None:
        """Decide, then run: iterate the command's events and queue them for the UI thread."""
        try:
            self._run_line(line)
        except Exception as exc:  # noqa: BLE001 - a traceback never reaches the learner: say what broke
            self._put(_Said(f"the prompt could not run this line: {exc}", RED))
        finally:
            self._command = None
            self._put(_Done())

    def _run_line(self, line: str) -> None:
        from tutor.ui.app import SDK_IMPORT

        with SDK_IMPORT:  # the docker SDK loads here, while the UI thread may import it too
            from tutor.engine.client import engine_url
            from tutor.engine.docker_cli import (
                CommandEnded,
                CommandNotStarted,
                DockerCommand,
                EngineOwners,
                OutputLine,
                command_env,
            )
            from tutor.workshop.docker_prompt_rules import Allowed, Refused, decide

        place = self.place
        decision = decide(line, place.rules, place.cwd, EngineOwners(place.engine), place.lesson)
        if decision is None:
            return
        if isinstance(decision, Refused):
            self._put(_Said(f"refused: {decision.reason}", RED))
            return
        assert isinstance(decision, Allowed)
        for note in decision.notes:
            self._put(_Said(note))
        command = DockerCommand(
            decision.argv, env=command_env(place.environ, engine_url(place.engine)), cwd=place.cwd, timeout=decision.timeout
        )
        self._command = command
        foreground_run = "run" in decision.argv[:3] and not any(a in ("--detach", "-d") for a in decision.argv)
        for event in command.events():
            if isinstance(event, OutputLine):
                self._put(_Lines([event.text]))
            elif isinstance(event, CommandNotStarted):
                self._put(_Said(f"{event.reason}: {event.fix}", RED))
            elif isinstance(event, CommandEnded):
                if event.timed_out:
                    self._put(_Said(f"stopped after {decision.timeout:.0f} s without an end", RED))
                elif event.cancelled:
                    self._put(_Said("stopped (Ctrl+C)"))
                    if foreground_run:
                        self._put(_Said("the container may still be running: `docker ps` lists it, `docker stop NAME` stops it"))
                elif event.exit_code != 0:
                    self._put(_Said(f"exit status {event.exit_code}"))

    def _put(self, item: object) -> None:
        if self.channel.put(item, merge=_merge):
            self.post_message(PromptOutputReady())

    def on_prompt_output_ready(self, _message: PromptOutputReady) -> None:
        for item in self.channel.drain():
            if isinstance(item, _Lines):
                self._write(item.texts)
            elif isinstance(item, _Said):
                self._say(item.text, item.style)
            elif isinstance(item, _Done):
                self.lines_done += 1
                self._set_running(False)

    # -- the log ----------------------------------------------------------------------------------------

    def _write(self, lines: list[str]) -> None:
        self.memory.transcript.extend(lines)
        self.query_one(BuildLog).write_lines(lines, scroll_end=True)

    def _say(self, text: str, style: str) -> None:
        log = self.query_one(BuildLog)
        before = len(log.lines)
        log.write_wrapped(text, prefix=NOTE, style=style)
        self.memory.transcript.extend(log.lines[before:])

    def _set_running(self, running: bool) -> None:
        self.running = running
        self.query_one("#prompt-sign", Static).set_class(running, "-running")
        self.refresh_bindings()

    # -- keys ---------------------------------------------------------------------------------------------

    def action_interrupt(self) -> None:
        """Ctrl+C: stop the running command; with none, clear the line as a shell does."""
        if self._command is not None:
            self._command.cancel()
            return
        field_ = self.query_one(HistoryInput)
        field_.value = ""
        field_.rewind()

    def action_close(self) -> None:
        if self.running:
            self.action_interrupt()
            return
        self.dismiss()

    def action_clear_log(self) -> None:
        self.memory.transcript.clear()
        self.query_one(BuildLog).clear()

    def on_unmount(self) -> None:
        if self._command is not None:  # closed by a seat reset or a quit: leave nothing running
            self._command.cancel()
