"""The kiosk's own screens: the welcome screen, the instructor's PIN and menu, the learner's
finish, and the reset in progress; and the messages they send up to ``KioskApp``."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Footer, Input, LoadingIndicator, Static

from tutor.course.model import Course
from tutor.ui.widgets.engine_status import EngineStatus
from tutor.workshop.config import KioskConfig
from tutor.workshop.preflight import PreflightResult
from tutor.workshop.reset import ResetResult

# -- messages (up from workers and screens) ----------------------------------------------------------


@dataclass
class StartSession(Message):
    """The learner pressed Start on the welcome screen."""


@dataclass
class PreflightDone(Message):
    result: PreflightResult


@dataclass
class SeatResetDone(Message):
    result: ResetResult


@dataclass
class SeatResetFailed(Message):
    message: str
    fix: str


# -- screens -----------------------------------------------------------------------------------------


def status_text(result: PreflightResult | None) -> Text:
    if result is None:
        return Text("◌ checking this seat…", style="dim")
    if result.ok:
        return Text("● seat ready", style="bold green")
    text = Text()
    text.append(f"✗ {result.headline()}\n", style="bold red")
    text.append("fix: ", style="bold")
    text.append(result.problems[0].fix)
    text.append("\nAsk your instructor: this seat needs fixing before you can start.", style="dim")
    return text


class WelcomeScreen(Screen):
    """The first screen of every session: the seat's name, and whether it is ready."""

    BINDINGS = [Binding("enter", "start", "Start", tooltip="Start your session at this seat")]

    def __init__(self, seat: str, course: Course, result: PreflightResult | None, resuming: bool = False) -> None:
        super().__init__()
        self.seat = seat
        self.course = course
        self.result = result
        self.resuming = resuming

    def compose(self) -> ComposeResult:
        # No Header here: its title watchers can fire after a screen this short-lived is gone.
        with Center(id="welcome"):
            with Vertical(id="welcome-box"):
                yield Static(Text("Welcome to the Docker workshop", style="bold"), id="welcome-title")
                yield Static(Text.assemble(("Seat  ", "dim"), (self.seat, "bold")), id="welcome-seat")
                yield Static(self._course_text(), id="welcome-course")
                yield Static(status_text(self.result), id="welcome-status")
                yield Button("Continue" if self.resuming else "Start", id="start", variant="primary")
                yield Static(
                    Text("Instructor: ctrl+q (PIN) to reset this seat or leave the kiosk.", style="dim"),
                    id="welcome-staff",
                )
        yield EngineStatus(id="engine-status")
        yield Footer()

    def on_mount(self) -> None:
        self.show_preflight(self.result)

    def _course_text(self) -> Text:
        n = len(self.course.lessons)
        text = Text()
        text.append(f"How Docker images are made: {n} lesson{'' if n == 1 else 's'}", style="")
        text.append("\nEvery build is a real build on a real Docker engine. Press Enter to begin.", style="dim")
        return text

    def show_preflight(self, result: PreflightResult | None) -> None:
        """Attributes down: the app hands each new preflight result to the screen."""
        self.result = result
        if not self.is_mounted:
            return  # on_mount shows the latest result
        self.query_one("#welcome-status", Static).update(status_text(result))
        button = self.query_one("#start", Button)
        button.disabled = result is None or not result.ok
        if not button.disabled:
            button.focus()

    def action_start(self) -> None:
        self.post_message(StartSession())

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_start()


class PinScreen(ModalScreen[str | None]):
    """Asks for the instructor PIN; dismisses with what was typed (checked by the app), or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", tooltip="Back to the course without the PIN")]

    def __init__(self, purpose: str) -> None:
        super().__init__()
        self.purpose = purpose

    def compose(self) -> ComposeResult:
        with Vertical(id="pin-box", classes="kiosk-dialog"):
            yield Static(Text("Instructor PIN", style="bold"))
            yield Static(Text(self.purpose, style="dim"))
            yield Input(password=True, placeholder="PIN", id="pin")
            with Horizontal(classes="kiosk-buttons"):
                yield Button("OK", id="ok", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#pin", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(self.query_one("#pin", Input).value if event.button.id == "ok" else None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class InstructorMenu(ModalScreen[str | None]):
    """After the PIN: reset the seat, exit the kiosk, or go back.  Dismisses with "reset", "exit" or None."""

    BINDINGS = [
        Binding("r", "choose('reset')", "Reset seat", tooltip="Save this session's progress, then reset the seat"),
        Binding("x", "choose('exit')", "Exit kiosk", tooltip="Leave the kiosk (the seat stays as it is)"),
        Binding("escape", "back", "Back", tooltip="Back to the course"),
    ]

    def __init__(self, seat: str, config: KioskConfig, result: PreflightResult | None, last: ResetResult | None) -> None:
        super().__init__()
        self.seat, self.config, self.result, self.last = seat, config, result, last

    def compose(self) -> ComposeResult:
        with Vertical(id="menu-box", classes="kiosk-dialog"):
            yield Static(Text(f"Seat {self.seat}", style="bold"))
            yield Static(self._details())
            with Horizontal(classes="kiosk-buttons"):
                yield Button("Reset this seat (r)", id="reset", variant="warning")
                yield Button("Exit the kiosk (x)", id="exit", variant="error")
                yield Button("Back", id="back")

    def _details(self) -> Text:
        text = Text()
        text.append("Reset saves this session's progress to ", style="dim")
        text.append(str(self.config.export_dir))
        text.append(", removes the seat's containers, images and files, and shows the welcome screen.\n", style="dim")
        text.append(status_text(self.result))
        if self.last is not None:
            text.append(f"\nLast reset: {self.last.summary()}", style="dim")
        return text

    def on_mount(self) -> None:
        self.query_one("#back", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None if event.button.id == "back" else event.button.id)

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)

    def action_back(self) -> None:
        self.dismiss(None)


class FinishScreen(ModalScreen[bool]):
    """The learner is done: confirm before the seat starts over."""

    BINDINGS = [Binding("escape", "keep_going", "Keep going", tooltip="Back to the course")]

    def compose(self) -> ComposeResult:
        with Vertical(id="finish-box", classes="kiosk-dialog"):
            yield Static(Text("Finish your session?", style="bold"))
            yield Static(
                Text(
                    "Your progress is saved for your instructor, then this seat starts over for the next "
                    "learner: your files and the images you built here are removed.",
                )
            )
            with Horizontal(classes="kiosk-buttons"):
                yield Button("Finish", id="finish", variant="primary")
                yield Button("Keep going", id="keep")

    def on_mount(self) -> None:
        self.query_one("#keep", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "finish")

    def action_keep_going(self) -> None:
        self.dismiss(False)


class ResettingScreen(ModalScreen[None]):
    """Shown while the seat resets; the app replaces the whole stack when it is done."""

    REASONS = {
        "finish": "Thank you! Saving your progress and preparing the seat for the next learner…",
        "idle": "Nobody used this seat for a while: saving the progress and starting over…",
        "instructor": "Resetting this seat…",
        "interrupted": "Finishing an interrupted reset of this seat…",
    }

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason

    def compose(self) -> ComposeResult:
        with Vertical(id="resetting-box", classes="kiosk-dialog"):
            yield Static(Text(self.REASONS.get(self.reason, "Resetting this seat…"), style="bold"))
            yield LoadingIndicator()


# -- the app -----------------------------------------------------------------------------------------
