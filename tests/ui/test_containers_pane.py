"""The containers pane and its prompts without an engine: prompt defaults, bad port mappings
refused with a message, results turned into rows and sections, and a missing engine explained.

The real engine's side (run, probe, exec, stop, rm, rmi) is in tests/docker/test_containers_ui.py.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pytest
from textual import on
from textual.app import App, ComposeResult
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Log, Static

from tests.conftest import ROOT, TEST_SEAT
from tests.ui.conftest import click, wait_for
from tutor.engine import containers as ct
from tutor.engine.container_actions import RunPlan, check_exec_command, parse_mappings
from tutor.ui.dialogs.run_dialog import ConfirmDialog, ExecDialog, RunChoice, RunDialog
from tutor.ui.widgets.containers_pane import AskLearner, ContainersListed, ContainersPane, ContainerStarted

NO_ENGINE = "unix:///nonexistent/docker.sock"
IMAGE = "tutor/pytest/go_app:latest"
SIZE = (150, 50)

# A `containers(all=True)` entry as the engine lists it (abridged to the fields the pane reads).
RUNNING = {
    "Id": "4f0c1d9a8b7e" + "0" * 52,
    "Names": ["/tutor-pytest-ab12"],
    "Image": IMAGE,
    "State": "running",
    "Ports": [
        {"IP": "127.0.0.1", "PrivatePort": 8080, "PublicPort": 18080, "Type": "tcp"},
        {"IP": "::1", "PrivatePort": 8080, "PublicPort": 18080, "Type": "tcp"},
    ],
    "Labels": {"io.tutor.managed": "true", "io.tutor.seat": TEST_SEAT},
}
EXITED = {
    "Id": "9a8b7c6d5e4f" + "1" * 52,
    "Names": ["/tutor-pytest-cd34"],
    "Image": IMAGE,
    "State": "exited",
    "Ports": [{"PrivatePort": 8080, "Type": "tcp"}],
    "Labels": {"io.tutor.managed": "true", "io.tutor.seat": TEST_SEAT},
}


class DialogApp(App):
    """Pushes one prompt and keeps what it was dismissed with."""

    def __init__(self, dialog: ModalScreen) -> None:
        super().__init__()
        self.dialog = dialog
        self.results: list[object] = []

    def on_mount(self) -> None:
        self.push_screen(self.dialog, self.results.append)


class PaneApp(App):
    """Hosts the pane and asks its questions, as the lesson screen does."""

    @on(AskLearner)
    def _ask(self, message: AskLearner) -> None:
        self.push_screen(message.dialog, message.answered)

    def compose(self) -> ComposeResult:
        yield ContainersPane(engine=NO_ENGINE, seat="pytest", id="containers")


async def ready(pilot, kind: type) -> ModalScreen:
    """The prompt, once all its widgets are composed (its buttons come last)."""
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, kind) and bool(pilot.app.screen.query("Button")))
    return pilot.app.screen


def text_of(node, selector: str) -> str:
    return str(node.query_one(selector, Static).render())


def shown(node, selector: str) -> bool:
    return not node.query_one(selector).has_class("-hidden")


# --------------------------------------------------------------------------- the port prompt


async def test_the_run_prompt_defaults_to_the_exposed_port_and_shows_the_command() -> None:
    app = DialogApp(RunDialog(RunPlan(IMAGE, container_port=8080, host_port=8080, exposed=(8080,))))
    async with app.run_test(size=SIZE) as pilot:
        dialog = await ready(pilot, RunDialog)
        assert dialog.query_one("#run-ports", Input).value == "8080:8080"
        assert app.focused is dialog.query_one("#run-ports", Input)
        assert text_of(dialog, "#run-cli") == f"$ docker run -d -p 127.0.0.1:8080:8080 {IMAGE}"
        assert "EXPOSEs 8080: that only documents the port" in text_of(dialog, "#run-explain")
        assert not shown(dialog, "#run-note") and not shown(dialog, "#run-error")
        await pilot.press("enter")
    assert app.results == [RunChoice(((8080, 8080),))]
    assert app.results[0].mapping == {8080: 8080}


async def test_a_busy_host_port_is_named_and_the_free_one_offered() -> None:
    plan = RunPlan(IMAGE, container_port=8080, host_port=8081, exposed=(8080,), busy_port=8080)
    app = DialogApp(RunDialog(plan))
    async with app.run_test(size=SIZE) as pilot:
        dialog = await ready(pilot, RunDialog)
        assert dialog.query_one("#run-ports", Input).value == "8081:8080"
        assert shown(dialog, "#run-note")
        assert "Host port 8080 is already in use here; 8081 is free" in text_of(dialog, "#run-note")
        assert text_of(dialog, "#run-cli") == f"$ docker run -d -p 127.0.0.1:8081:8080 {IMAGE}"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("80x:8080", "the host port '80x' is not a number"),
        ("70000:8080", "the host port 70000 is out of range"),
        ("8080:8080 8080:9090", "host port 8080 is given twice"),
        ("127.0.0.1:8080:8080", "give only HOST:CONTAINER ports here"),
        ("", "give a port mapping HOST:CONTAINER"),
        ("8080/udp", "only TCP ports can be published"),
    ],
)
async def test_a_bad_mapping_is_refused_with_a_message_and_the_prompt_stays(typed: str, message: str) -> None:
    app = DialogApp(RunDialog(RunPlan(IMAGE, 8080, 8080, (8080,))))
    async with app.run_test(size=SIZE) as pilot:
        dialog = await ready(pilot, RunDialog)
        dialog.query_one("#run-ports", Input).value = typed
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is dialog and app.results == []
        assert shown(dialog, "#run-error") and message in text_of(dialog, "#run-error")
        # Typing again clears the message; a good mapping goes through.
        dialog.query_one("#run-ports", Input).value = "-p 9000:8080"
        await pilot.pause()
        assert not shown(dialog, "#run-error")
        assert text_of(dialog, "#run-cli") == f"$ docker run -d -p 127.0.0.1:9000:8080 {IMAGE}"
        await pilot.press("enter")
    assert app.results == [RunChoice(((9000, 8080),))]


async def test_run_without_p_and_cancel() -> None:
    app = DialogApp(RunDialog(RunPlan(IMAGE, 8080, 8080, (8080,))))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, RunDialog)
        await click(pilot, "#run-no-port")
    assert app.results == [RunChoice(())] and app.results[0].mapping == {}

    app = DialogApp(RunDialog(RunPlan(IMAGE, 8080, 8080, ())))
    async with app.run_test(size=SIZE) as pilot:
        dialog = await ready(pilot, RunDialog)
        assert "The image has no EXPOSE" in text_of(dialog, "#run-explain")
        await pilot.press("escape")
    assert app.results == [None]


def test_port_mappings_parse_like_docker_run_p() -> None:
    assert parse_mappings("8080:8080") == {8080: 8080}
    # `docker run -p 8080` publishes on a random host port: the tutor asks for both sides instead.
    with pytest.raises(ValueError, match="random host port; give both sides, e.g. 8080:8080"):
        parse_mappings("8080")
    assert parse_mappings("-p 9000:8080, 9001:8080") == {9000: 8080, 9001: 8080}
    with pytest.raises(ValueError, match="not a number"):
        parse_mappings("a:b")


# --------------------------------------------------------------------------- exec and confirm prompts


async def test_the_exec_prompt_refuses_empty_and_interactive_commands() -> None:
    app = DialogApp(ExecDialog("tutor-pytest-ab12"))
    async with app.run_test(size=SIZE) as pilot:
        dialog = await ready(pilot, ExecDialog)
        field = dialog.query_one("#exec-command", Input)
        assert field.value == "ls -l"  # the working directory, whatever the image's WORKDIR
        assert text_of(dialog, "#exec-cli") == "$ docker exec tutor-pytest-ab12 ls -l"
        for typed, message in (("  ", "type a command"), ("sh", "docker exec -it NAME sh")):
            field.value = typed
            await pilot.pause()
            await pilot.press("enter")
            await pilot.pause()
            assert app.screen is dialog and shown(dialog, "#exec-error")
            assert message in text_of(dialog, "#exec-error")
        field.value = "cat /etc/os-release"
        await pilot.pause()
        assert not shown(dialog, "#exec-error")
        await pilot.press("enter")
    assert app.results == ["cat /etc/os-release"]
    with pytest.raises(ValueError):
        check_exec_command("bash")


@pytest.mark.parametrize(("key", "answer"), [("y", True), ("n", False), ("escape", False), ("enter", False)])
async def test_the_confirmation_shows_the_command_and_defaults_to_no(key: str, answer: bool) -> None:
    app = DialogApp(ConfirmDialog(f"Remove the image {IMAGE}?", "detail", f"docker rmi {IMAGE}"))
    async with app.run_test(size=SIZE) as pilot:
        dialog = await ready(pilot, ConfirmDialog)
        assert text_of(dialog, "#confirm-cli") == f"$ docker rmi {IMAGE}"
        assert app.focused is dialog.query_one("#confirm-no")
        await pilot.press(key)  # enter presses the focused button: Cancel
    assert app.results == [answer]


# --------------------------------------------------------------------------- the pane


async def test_listed_containers_become_rows_like_docker_ps() -> None:
    app = PaneApp()
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(ContainersPane)
        await wait_for(pilot, lambda: pane.last_error is not None)  # the first listing found no engine
        listed = (ct.info_from_summary(RUNNING), ct.info_from_summary(EXITED))
        pane.post_message(ContainersListed(listed, ct.ps_cli(TEST_SEAT, all=True)))
        await wait_for(pilot, lambda: pane.lists_received >= 1 and len(pane.containers) == 2)
        table = pane.query_one(DataTable)
        assert table.row_count == 2
        first = [str(c) for c in table.get_row(RUNNING["Id"])]
        assert first == ["tutor-pytest-ab12", "running", "127.0.0.1:18080->8080/tcp", IMAGE, "4f0c1d9a8b7e"]
        second = [str(c) for c in table.get_row(EXITED["Id"])]
        assert second[1] == "exited" and second[2] == "8080/tcp"  # exposed, not published
        assert pane.selected == RUNNING["Id"]
        hint = text_of(pane, "#containers-hint")
        assert "docker ps -a --filter label=io.tutor.managed=true --filter label=io.tutor.seat=pytest" in hint

        # Choosing the other row selects it (and follows its log).
        table.focus()
        await pilot.press("down")
        await wait_for(pilot, lambda: pane.selected == EXITED["Id"])
        log = pane.query_one(Log)
        assert log.border_subtitle == "$ docker logs -f tutor-pytest-cd34"
        # No engine here: the log says why it stopped.
        await wait_for(pilot, lambda: any("the log stopped: No Docker engine socket" in line for line in log.lines))

        # A container that starts goes on top, selected, with the command that ran it.
        started = ct.ContainerInfo(
            id="c" * 64,
            short_id="c" * 12,
            name="tutor-pytest-ef56",
            image=IMAGE,
            status="running",
            ports=(ct.PortBinding("127.0.0.1", 8080, 8080),),
            exposed=(8080,),
            cli=ct.run_cli(IMAGE, {8080: 8080}, "tutor-pytest-ef56"),
        )
        pane.post_message(ContainerStarted(started))
        await wait_for(pilot, lambda: pane.selected == started.id)
        assert next(iter(pane.containers)) == started.id and table.cursor_row == 0
        action = text_of(pane, "#containers-action")
        assert f"$ docker run -d -p 127.0.0.1:8080:8080 --name tutor-pytest-ef56 {IMAGE}" in action
        assert "press p to probe it" in action

        # It exits a moment later (no server in it): the next listing, the table and the Last action agree.
        gone = replace(started, status="exited", ports=(), cli="")
        pane.post_message(ContainersListed((gone,), ct.ps_cli(TEST_SEAT, all=True)))
        await wait_for(pilot, lambda: "is exited" in text_of(pane, "#containers-action"))
        action = text_of(pane, "#containers-action")
        assert "it is not running: press p to see why" in action and "press p to probe it" not in action
        assert f"--name tutor-pytest-ef56 {IMAGE}" in action  # still the command that ran it


async def test_without_an_engine_the_pane_says_why_and_how_to_fix_it() -> None:
    app = PaneApp()
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(ContainersPane)
        # Listing on first show fails quietly: in the pane, no notification.
        await wait_for(pilot, lambda: pane.last_error is not None)
        assert pane.last_error.engine_lost and pane.last_error.quiet
        hint = text_of(pane, "#containers-hint")
        assert "$ docker ps -a" in hint and "✗ docker ps: No Docker engine socket at /nonexistent/docker.sock" in hint
        assert "fix: Start the Docker engine" in hint
        assert list(app._notifications) == []

        # An action the learner asked for is also notified.
        pane.last_error = None
        pane.run_image(IMAGE)
        await wait_for(pilot, lambda: pane.last_error is not None)
        assert pane.last_error.action == "run" and not pane.last_error.quiet
        # App.notify posts a message: the toast lands a moment after the failure is shown.
        await wait_for(pilot, lambda: list(app._notifications))
        notes = list(app._notifications)
        assert notes[-1].title == "docker run" and "No Docker engine socket" in notes[-1].message
        assert "✗ docker run: No Docker engine socket" in text_of(pane, "#containers-action")
        assert not isinstance(app.screen, RunDialog)


async def test_actions_without_an_image_or_a_container_say_what_to_do_first() -> None:
    app = PaneApp()
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(ContainersPane)
        pane.run_image(None)
        await pilot.pause()
        assert "nothing built yet" in text_of(pane, "#containers-action") and "press b" in text_of(
            pane, "#containers-action"
        )
        pane.probe()
        await pilot.pause()
        assert "no container yet" in text_of(pane, "#containers-probe") and "press r" in text_of(
            pane, "#containers-probe"
        )
        for action in (pane.stop, pane.remove_container, pane.exec_command):
            pane.last_error = None
            action()
            await pilot.pause()
            assert pane.last_error is not None and "no container yet" in pane.last_error.message
        assert not isinstance(app.screen, ModalScreen)

        # exec on a stopped container is refused at once, without a prompt.
        pane.post_message(ContainersListed((ct.info_from_summary(EXITED),), ct.ps_cli(TEST_SEAT, all=True)))
        await wait_for(pilot, lambda: pane.selected == EXITED["Id"])
        pane.exec_command()
        await pilot.pause()
        assert not isinstance(app.screen, ExecDialog)
        assert "exec needs a running container" in text_of(pane, "#containers-exec")

        # rmi asks first and shows the command; the stopped container using the image is named.
        pane.remove_image()
        dialog = await ready(pilot, ConfirmDialog)
        assert text_of(dialog, "#confirm-cli") == f"$ docker rmi {IMAGE}"
        assert "tutor-pytest-cd34 still uses it" in text_of(dialog, "#confirm-detail")
        await pilot.press("n")
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmDialog))


def test_quitting_without_having_run_anything_does_not_reach_for_the_engine() -> None:
    code = (
        "from tutor.engine.container_actions import stop_started_containers as stop, ContainersReport\n"
        f"r = stop({NO_ENGINE!r}, 'pytest', keep=False)\n"
        "assert r == ContainersReport() and r.summary() == '', r\n"
        "print('nothing to stop')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "nothing to stop"
