"""The containers pane on the real engine: run with a port mapping, probe, exec, stop, remove;
the forgotten -p; a busy port caught before the run; a container without CMD; and the
app's containers removed on quit while a crash's leftovers are cleaned on the next start.

go_app is built once for the module (a cached rebuild after the first time).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from textual import on
from textual.app import App, ComposeResult
from textual.widgets import DataTable, Input, Log, Static

from tests.conftest import ROOT, TEST_SEAT
from tests.ui.conftest import click, wait_for
from tutor.engine import container_actions as cc
from tutor.engine import containers as ct
from tutor.engine import labels
from tutor.engine.build import Build, BuildRequest
from tutor.engine.events import BuildFailed, BuildSucceeded
from tutor.engine.ports import engine_published_ports, find_free_port, is_port_free
from tutor.ui.dialogs.run_dialog import ConfirmDialog, ExecDialog, RunDialog
from tutor.ui.widgets.containers_pane import AskLearner, ContainersPane

IMAGE = "tutor/pytest/containers-ui:latest"
NO_CMD_IMAGE = "tutor/pytest/containers-ui-nocmd:latest"
SIZE = (150, 50)


def _build(context: Path, tag: str) -> str:
    events = list(Build(BuildRequest(context, tag=tag, labels=labels.managed_labels(TEST_SEAT, kind="build"))).events())
    assert isinstance(events[-1], BuildSucceeded), (
        events[-1].message if isinstance(events[-1], BuildFailed) else events[-1]
    )
    return tag


def _ours(api: docker.APIClient) -> list[dict]:
    """Containers of the test seat that this test process started (others may share the seat)."""
    return api.containers(
        all=True, filters={"label": [f"{labels.SEAT}={TEST_SEAT}", f"{cc.STARTED_BY}={cc.process_mark()}"]}
    )


@pytest.fixture(scope="module")
def go_ui_image(engine_api: docker.APIClient, base_images, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    context = tmp_path_factory.mktemp("containers-ui") / "go_app"
    shutil.copytree(ROOT / "go_app", context)
    yield _build(context, IMAGE)
    for c in engine_api.containers(all=True, filters={"label": [f"{labels.SEAT}={TEST_SEAT}"], "ancestor": IMAGE}):
        engine_api.remove_container(c["Id"], force=True, v=True)
    try:
        engine_api.remove_image(IMAGE)
    except docker.errors.APIError:
        pass  # the session teardown removes what is left of the seat


@pytest.fixture
def no_leftovers(engine_api: docker.APIClient) -> Iterator[None]:
    """Whatever a test's app started is gone afterwards, even when the test failed."""
    yield
    for c in _ours(engine_api):
        engine_api.remove_container(c["Id"], force=True, v=True)


class PaneApp(App):
    """Hosts the pane and asks its questions, as the lesson screen does."""

    @on(AskLearner)
    def _ask(self, message: AskLearner) -> None:
        self.push_screen(message.dialog, message.answered)

    def compose(self) -> ComposeResult:
        yield ContainersPane(id="containers", seat=TEST_SEAT)


def _text(pane: ContainersPane, selector: str) -> str:
    return str(pane.query_one(selector, Static).render())


def _log_text(pane: ContainersPane) -> str:
    return "\n".join(pane.query_one(Log).lines)


def _row(pane: ContainersPane, container_id: str) -> list[str]:
    return [str(c) for c in pane.query_one(DataTable).get_row(container_id)]


async def _dialog(pilot, kind: type) -> None:
    """Until a prompt of ``kind`` shows with all its widgets (its buttons are composed last)."""
    await wait_for(
        pilot, lambda: isinstance(pilot.app.screen, kind) and bool(pilot.app.screen.query("Button")), timeout=20
    )


async def _run(pilot, pane: ContainersPane, image: str, mapping: str | None) -> ct.ContainerInfo:
    """r, then answer the port prompt: ``mapping`` typed, or None for “Run without -p”."""
    before, pane.last_error = pane.last_started, None
    pane.run_image(image)
    await _dialog(pilot, RunDialog)
    if mapping is None:
        await click(pilot, "#run-no-port")
    else:
        pilot.app.screen.query_one("#run-ports", Input).value = mapping
        await pilot.press("enter")
    await wait_for(
        pilot,
        lambda: (
            (pane.last_started is not None and pane.last_started is not before)
            or (pane.last_error is not None and pane.last_error.action == "run")
        ),
        timeout=30,
    )
    assert pane.last_error is None or pane.last_error.action != "run", pane.last_error
    return pane.last_started


async def _probe(pilot, pane: ContainersPane) -> cc.ProbeOutcome:
    pane.last_probe = None
    pane.probe()
    await wait_for(pilot, lambda: pane.last_probe is not None, timeout=30)
    return pane.last_probe


def _default_host_port(api: docker.APIClient) -> int | None:
    """8080 when nothing holds it now (then the prompt must offer 8080:8080), else None."""
    return 8080 if is_port_free(8080) and 8080 not in engine_published_ports(api) else None


async def test_run_probe_exec_stop_remove(engine_api, go_ui_image, no_leftovers) -> None:
    app = PaneApp()
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(ContainersPane)
        await wait_for(pilot, lambda: pane.lists_received >= 1, timeout=20)

        # r: the prompt defaults to the image's EXPOSE port, 8080:8080 (or a free host port when 8080 is busy).
        pane.run_image(go_ui_image)
        await _dialog(pilot, RunDialog)
        ports_input = app.screen.query_one("#run-ports", Input)
        host_default, _, container_default = ports_input.value.partition(":")
        assert container_default == "8080"
        if _default_host_port(engine_api) == 8080:
            assert ports_input.value == "8080:8080"
        free = find_free_port(18080, taken=engine_published_ports(engine_api))
        ports_input.value = f"{free}:8080"
        await pilot.pause()
        assert f"docker run -d -p 127.0.0.1:{free}:8080 {go_ui_image}" in str(
            app.screen.query_one("#run-cli", Static).render()
        )
        await pilot.press("enter")
        await wait_for(pilot, lambda: pane.last_started is not None, timeout=30)
        info = pane.last_started
        assert info.ports == (ct.PortBinding("127.0.0.1", free, 8080),)
        assert info.labels[labels.SEAT] == TEST_SEAT and info.labels[cc.STARTED_BY] == cc.process_mark()
        action = _text(pane, "#containers-action")
        assert f"$ docker run -d -p 127.0.0.1:{free}:8080 --name {info.name} {go_ui_image}" in action
        row = _row(pane, info.id)
        assert row == [info.name, "running", f"127.0.0.1:{free}->8080/tcp", go_ui_image, info.short_id]

        # p: the server answers through the published port.
        outcome = await _probe(pilot, pane)
        assert outcome.ok, outcome
        assert outcome.result.status == 200 and outcome.result.body == "Hello, Docker with Go!\n"
        probe_text = _text(pane, "#containers-probe")
        assert f"$ curl http://localhost:{free}/" in probe_text and "200 OK" in probe_text
        assert "Hello, Docker with Go!" in probe_text

        # The log streams in while the container runs.
        await wait_for(pilot, lambda: "Server running on port 8080..." in _log_text(pane), timeout=15)
        assert pane.query_one(Log).border_subtitle == f"$ docker logs -f {info.name}"

        # e: one command in the running container.
        pane.exec_command()
        await _dialog(pilot, ExecDialog)
        app.screen.query_one("#exec-command", Input).value = "ls /app"
        await pilot.press("enter")
        await wait_for(pilot, lambda: pane.last_exec is not None, timeout=20)
        assert pane.last_exec.exit_code == 0 and "main" in pane.last_exec.output.split()
        assert f"$ docker exec {info.name} ls /app" in _text(pane, "#containers-exec")

        # s: stopped, still listed; its log ends with it.
        pane.stop()
        await wait_for(pilot, lambda: pane.last_action is not None and pane.last_action.action == "stop", timeout=30)
        assert f"$ docker stop {info.name}" in _text(pane, "#containers-action")
        await wait_for(
            pilot, lambda: info.id in pane.containers and pane.containers[info.id].status == "exited", timeout=15
        )
        await wait_for(pilot, lambda: "end of the log" in _log_text(pane), timeout=15)
        assert _row(pane, info.id)[1] == "exited"

        # x: removed from the engine and from the table.
        pane.remove_container()
        await wait_for(pilot, lambda: pane.last_action.action == "rm", timeout=30)
        assert f"$ docker rm {info.name}" in _text(pane, "#containers-action")
        await wait_for(pilot, lambda: info.id not in pane.containers)
        assert pane.query_one(DataTable).row_count == len(pane.containers)
    assert _ours(engine_api) == []


async def test_forgotten_p_fails_with_the_explanation_then_p_answers(engine_api, go_ui_image, no_leftovers) -> None:
    app = PaneApp()
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(ContainersPane)
        bare = await _run(pilot, pane, go_ui_image, None)
        assert bare.ports == () and bare.exposed == (8080,)
        assert f"$ docker run -d --name {bare.name} {go_ui_image}" in _text(pane, "#containers-action")
        assert _row(pane, bare.id)[2] == "8080/tcp"  # exposed, not published: as docker ps shows it

        outcome = await _probe(pilot, pane)
        assert not outcome.ok
        assert "EXPOSE" in outcome.explanation and "-p" in outcome.explanation
        probe_text = _text(pane, "#containers-probe")
        assert "EXPOSE 8080" in probe_text and "-p HOST:CONTAINER publishes it" in probe_text
        assert "Press r to run the image again, this time with -p." in probe_text

        # Running again with -p answers.
        free = find_free_port(18180, taken=engine_published_ports(engine_api))
        published = await _run(pilot, pane, go_ui_image, f"{free}:8080")
        assert published.id != bare.id and pane.selected == published.id
        outcome = await _probe(pilot, pane)
        assert outcome.ok and outcome.result.status == 200 and "Hello, Docker with Go!" in outcome.result.body

    # Quitting removes what this app started: both containers.
    report = cc.stop_started_containers(None, TEST_SEAT, keep=False)
    assert set(report.removed) == {bare.name, published.name}, report
    assert report.failures == () and all(line.startswith("docker rm -f ") for line in report.cli)
    assert _ours(engine_api) == []


async def test_a_busy_port_is_found_before_the_run_and_a_free_one_offered(
    engine_api, go_ui_image, no_leftovers
) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        busy = holder.getsockname()[1]

        # The prompt's default avoids a busy port (as for 8080 held by another program).
        plan = cc.plan_run(engine_api, go_ui_image, preferred=busy)
        assert plan.busy_port == busy and plan.host_port != busy and plan.container_port == 8080
        assert is_port_free(plan.host_port)

        app = PaneApp()
        async with app.run_test(size=SIZE) as pilot:
            pane = app.query_one(ContainersPane)
            pane.run_image(go_ui_image)
            await _dialog(pilot, RunDialog)
            first = app.screen
            first.query_one("#run-ports", Input).value = f"{busy}:8080"
            await pilot.press("enter")
            # Refused before anything was created: the prompt comes back with a free port.
            await wait_for(pilot, lambda: app.screen is not first, timeout=20)
            await _dialog(pilot, RunDialog)
            again = app.screen
            offered = again.query_one("#run-ports", Input).value
            assert offered != f"{busy}:8080" and offered.endswith(":8080")
            note = str(again.query_one("#run-note", Static).render())
            assert f"host port {busy} is already in use" in note
            assert _ours(engine_api) == []
            await pilot.press("escape")
            await wait_for(pilot, lambda: not isinstance(app.screen, RunDialog))
            assert "run cancelled" in _text(pane, "#containers-action")
            assert pane.last_started is None


async def test_a_container_without_cmd_exits_and_the_probe_says_why(
    engine_api, go_ui_image, tmp_path, no_leftovers
) -> None:
    (tmp_path / "Dockerfile").write_text("FROM alpine:latest\nEXPOSE 8080\n")
    image = _build(tmp_path, NO_CMD_IMAGE)
    app = PaneApp()
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(ContainersPane)
        info = await _run(pilot, pane, image, None)
        await wait_for(
            pilot,
            lambda: pane.containers.get(info.id) is not None and pane.containers[info.id].status == "exited",
            timeout=15,
        )
        outcome = await _probe(pilot, pane)
        assert not outcome.ok and outcome.result is None
        assert "not running (exited, exit code 0)" in outcome.explanation
        assert "It ran `/bin/sh`" in outcome.explanation and "CMD" in outcome.explanation

        # exec needs a running container: said at once, no prompt.
        pane.exec_command()
        await pilot.pause()
        assert not isinstance(app.screen, ExecDialog)
        assert "exec needs a running container" in _text(pane, "#containers-exec")

        # i: the image is still used by the stopped container: the engine refuses, with the fix.
        pane.remove_image(image)
        await _dialog(pilot, ConfirmDialog)
        await pilot.press("y")
        await wait_for(pilot, lambda: pane.last_error is not None and pane.last_error.action == "rmi", timeout=20)
        assert "remove the containers that use it first" in _text(pane, "#containers-action")
        pane.remove_container()
        await wait_for(pilot, lambda: pane.last_action is not None and pane.last_action.action == "rm", timeout=20)
        pane.remove_image(image)
        await _dialog(pilot, ConfirmDialog)
        await pilot.press("y")
        await wait_for(pilot, lambda: pane.last_action.action == "rmi", timeout=20)
        assert f"$ docker rmi {image}" in _text(pane, "#containers-action")
    with pytest.raises(docker.errors.ImageNotFound):
        engine_api.inspect_image(image)


_CHILD = textwrap.dedent(
    """
    import sys
    from tutor.engine import containers as ct
    from tutor.engine.client import connect
    from tutor.engine import container_actions as cc

    image, mode = sys.argv[1], sys.argv[2]
    api = connect()
    info = ct.run_container(api, image, labels=cc.started_labels(), seat="pytest")
    cc.note_started(info.id)
    print(info.id)
    if mode == "keep":
        print(cc.stop_started_containers(None, "pytest", keep=True).summary())
    # mode "crash": exit without removing anything
    """
)


def _child(image: str, mode: str) -> list[str]:
    """A separate app process that runs one container, then quits keeping it, or crashes."""
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, image, mode],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=dict(os.environ),
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_a_crashed_apps_containers_go_at_the_next_start_kept_ones_stay(engine_api, go_ui_image) -> None:
    kept, summary = _child(go_ui_image, "keep")
    (crashed,) = _child(go_ui_image, "crash")
    try:
        kept_name = ct.inspect_container(engine_api, kept).name
        assert summary.startswith(f"kept {kept_name} running (`docker rm -f {kept_name}`")
        crashed_name = ct.inspect_container(engine_api, crashed).name
        assert ct.inspect_container(engine_api, kept).running and ct.inspect_container(engine_api, crashed).running
        report = cc.remove_leftover_containers(None, TEST_SEAT)
        assert crashed_name in report.removed and report.failures == ()
        with pytest.raises(ct.ContainerMissing):
            ct.inspect_container(engine_api, crashed)
        assert ct.inspect_container(engine_api, kept).running  # kept on purpose at quit
    finally:
        for cid in (kept, crashed):
            try:
                engine_api.remove_container(cid, force=True, v=True)
            except docker.errors.NotFound:
                pass


def test_a_seat_is_offered_the_first_free_port_of_its_range(engine_api, go_ui_image, no_leftovers) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        busy = holder.getsockname()[1]
        # The range starts at the busy port: the plan skips it and offers the next free one.
        plan = cc.plan_run(engine_api, go_ui_image, port_range=(busy, busy + 20))
        assert plan.busy_port is None and busy < plan.host_port <= busy + 20
        assert plan.default_mapping == f"{plan.host_port}:8080" and is_port_free(plan.host_port)
