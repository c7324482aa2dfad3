"""Small prompts for the containers pane: the port mapping of a run, a confirmation, an exec command.

Each shows the docker command line its answer stands for, updated as the
learner types, and refuses bad input with a message instead of closing.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from tutor.engine import containers as ct
from tutor.engine.container_actions import RunPlan, check_exec_command, parse_mappings


@dataclass(frozen=True)
class RunChoice:
    """The learner's answer to the port prompt: host -> container ports (empty: no -p at all)."""

    ports: tuple[tuple[int, int], ...] = ()

    @property
    def mapping(self) -> dict[int, int]:
        return dict(self.ports)


def _command(cli: str) -> Text:
    return Text.assemble(("$ ", "dim"), (cli, "bold cyan"))


class RunDialog(ModalScreen[RunChoice | None]):
    """Which host port publishes the container's port: `-p HOST:CONTAINER`, or none at all."""

    CSS_PATH = "run_dialog.tcss"
    AUTO_FOCUS = "#run-ports"
    BINDINGS = [Binding("escape", "cancel", "Cancel", tooltip="Close the prompt without running anything")]

    def __init__(self, plan: RunPlan, problem: str = "") -> None:
        super().__init__()
        self.plan = plan
        self.problem = problem  # e.g. the port the last attempt found busy

    def compose(self) -> ComposeResult:
        plan = self.plan
        with Vertical(id="dialog-box", classes="dialog"):
            yield Static(Text(f"Run {plan.image}", style="bold"), classes="dialog-title")
            exposed = (
                f"The image EXPOSEs {', '.join(map(str, plan.exposed))}: that only documents the port. "
                if plan.exposed
                else "The image has no EXPOSE: give the port the app listens on. "
            )
            yield Static(
                Text(exposed + "-p HOST:CONTAINER publishes it on this machine (127.0.0.1).", style="dim"),
                id="run-explain",
            )
            notes = []
            if plan.busy_port is not None:
                notes.append(
                    f"Host port {plan.busy_port} is already in use here; {plan.host_port} is free, so it is offered."
                )
            if self.problem:
                notes.append(self.problem)
            yield Static(Text("\n".join(notes), style="yellow"), id="run-note", classes="" if notes else "-hidden")
            yield Input(value=plan.default_mapping, placeholder="HOST:CONTAINER, e.g. 8080:8080", id="run-ports")
            yield Static("", id="run-error", classes="dialog-error -hidden")
            yield Static(_command(self._cli(plan.default_mapping)), id="run-cli")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Run", id="run-go", variant="primary", tooltip="docker run -d -p HOST:CONTAINER IMAGE")
                yield Button(
                    "Run without -p",
                    id="run-no-port",
                    tooltip="Run with no port published: the request to localhost will fail (the forgotten -p)",
                )
                yield Button("Cancel", id="run-cancel")

    def _cli(self, text: str) -> str:
        try:
            ports = parse_mappings(text)
        except ValueError:
            ports = {}
        return ct.run_cli(self.plan.image, ports) if ports else ct.run_cli(self.plan.image, {}) + "   # no -p"

    def _show_error(self, message: str) -> None:
        error = self.query_one("#run-error", Static)
        error.update(Text(message))
        error.set_class(not message, "-hidden")

    @on(Input.Changed, "#run-ports")
    def _typed(self, event: Input.Changed) -> None:
        self._show_error("")
        self.query_one("#run-cli", Static).update(_command(self._cli(event.value)))

    @on(Input.Submitted, "#run-ports")
    @on(Button.Pressed, "#run-go")
    def _run(self) -> None:
        text = self.query_one("#run-ports", Input).value
        try:
            ports = parse_mappings(text)
        except ValueError as exc:
            self._show_error(str(exc))
            return
        self.dismiss(RunChoice(tuple(ports.items())))

    @on(Button.Pressed, "#run-no-port")
    def _run_without_port(self) -> None:
        self.dismiss(RunChoice(()))

    @on(Button.Pressed, "#run-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmDialog(ModalScreen[bool]):
    """Yes or no before something that cannot be undone; the command it runs is shown."""

    CSS_PATH = "run_dialog.tcss"
    AUTO_FOCUS = "#confirm-no"  # the safe answer is the default
    BINDINGS = [
        Binding("escape,n", "answer(False)", "No", tooltip="Keep it: do nothing"),
        Binding("y", "answer(True)", "Yes", tooltip="Go ahead"),
    ]

    def __init__(self, question: str, detail: str, cli: str, confirm: str = "Remove") -> None:
        super().__init__()
        self.question, self.detail, self.cli, self.confirm = question, detail, cli, confirm

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog-box", classes="dialog"):
            yield Static(Text(self.question, style="bold"), classes="dialog-title")
            if self.detail:
                yield Static(Text(self.detail, style="dim"), id="confirm-detail")
            yield Static(_command(self.cli), id="confirm-cli")
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.confirm} (y)", id="confirm-yes", variant="error")
                yield Button("Cancel (n)", id="confirm-no")

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class ExecDialog(ModalScreen[str | None]):
    """One command to run inside a running container, as `docker exec NAME COMMAND`."""

    CSS_PATH = "run_dialog.tcss"
    AUTO_FOCUS = "#exec-command"
    BINDINGS = [Binding("escape", "cancel", "Cancel", tooltip="Close the prompt without running anything")]
    # The container's working directory (its image's WORKDIR): /app in one stage, /root/ or / in
    # the multi-stage images, where `ls /app` only said "No such file or directory".
    DEFAULT_COMMAND = "ls -l"

    def __init__(self, container: str, command: str = DEFAULT_COMMAND) -> None:
        super().__init__()
        self.container = container
        self.command = command

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog-box", classes="dialog"):
            yield Static(Text(f"Run a command in {self.container}", style="bold"), classes="dialog-title")
            yield Static(
                Text(
                    "One command, its output shown here. For an interactive shell, run "
                    f"`docker exec -it {self.container} sh` in a terminal.",
                    style="dim",
                )
            )
            yield Input(value=self.command, placeholder="e.g. ls -l", id="exec-command")
            yield Static("", id="exec-error", classes="dialog-error -hidden")
            yield Static(_command(self._cli(self.command)), id="exec-cli")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Run", id="exec-go", variant="primary")
                yield Button("Cancel", id="exec-cancel")

    def _cli(self, command: str) -> str:
        try:
            words = shlex.split(command)
        except ValueError:  # an unclosed quote while typing
            words = command.split()
        return ct.cli_line("exec", self.container, *words)

    @on(Input.Changed, "#exec-command")
    def _typed(self, event: Input.Changed) -> None:
        self.query_one("#exec-error", Static).add_class("-hidden")
        self.query_one("#exec-cli", Static).update(_command(self._cli(event.value)))

    @on(Input.Submitted, "#exec-command")
    @on(Button.Pressed, "#exec-go")
    def _run(self) -> None:
        try:
            command = check_exec_command(self.query_one("#exec-command", Input).value)
        except ValueError as exc:
            error = self.query_one("#exec-error", Static)
            error.update(Text(str(exc)))
            error.remove_class("-hidden")
            return
        self.dismiss(command)

    @on(Button.Pressed, "#exec-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


__all__ = ["ConfirmDialog", "ExecDialog", "RunChoice", "RunDialog"]
