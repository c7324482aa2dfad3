"""Shown instead of a build when no engine answers: the reason, and the fix."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class EngineProblemScreen(ModalScreen[None]):
    CSS_PATH = "engine_problem.tcss"
    BINDINGS = [Binding("escape,enter", "dismiss", "Close")]

    def __init__(self, reason: str, fix: str) -> None:
        super().__init__()
        self.reason = reason
        self.fix = fix

    def compose(self) -> ComposeResult:
        with Vertical(id="problem-box"):
            yield Static(Text("The Docker engine is not reachable", style="bold red"))
            yield Static(Text(self.reason))
            yield Static(Text.assemble(("Fix: ", "bold"), self.fix))
            yield Static(
                Text(
                    "You can keep reading the lessons. Once the engine answers, press b again: "
                    "no restart is needed.",
                    style="dim",
                )
            )
            yield Button("OK", id="ok", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)
