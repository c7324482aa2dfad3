"""The containers pane: run what was built, ask it for a page, look inside, stop and clean up.

Every engine call runs in a thread worker that only posts a message with its
result; the handlers here, on the UI thread, update the widgets.  Under each
action the pane shows the docker command line that does the same.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import docker
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Log, Static
from textual.worker import Worker, WorkerState

from tutor.engine import containers as ct
from tutor.engine.client import EngineUnavailable, connect, forget_thread_client, thread_client
from tutor.engine.container_actions import (
    ContainersReport,
    LogFollower,
    ProbeOutcome,
    RunPlan,
    exec_command,
    note_started,
    plan_run,
    probe_container,
    remove_leftovers,
    started_labels,
)
from tutor.engine.stream import strip_ansi
from tutor.ui.channel import EventChannel
from tutor.ui.dialogs.run_dialog import ConfirmDialog, ExecDialog, RunChoice, RunDialog

LOG_TAIL = 500  # lines of an existing log shown when following starts
LOG_MAX_LINES = 2000
EXEC_MAX_LINES = 200
GROUP = "containers"
LOG_GROUP = "containers-logs"
_CONTROL = re.compile("[\u0000-\u0008\u000b-\u001f]")
# What each action stands for, in notifications and error lines.
COMMANDS = {
    "run": "docker run",
    "ps": "docker ps",
    "probe": "curl",
    "stop": "docker stop",
    "rm": "docker rm",
    "rmi": "docker rmi",
    "exec": "docker exec",
}


# --------------------------------------------------------------------------- messages


@dataclass
class AskLearner(Message):
    """A question for the learner (run, exec, confirm): the screen that holds the pane shows the
    dialog and hands the answer to ``answered``. A widget pushes no screen itself."""

    dialog: ModalScreen
    answered: Callable[[Any], None]


@dataclass
class RunPlanned(Message, bubble=False):
    """The image's ports are known: ask the learner for the mapping."""

    plan: RunPlan
    problem: str = ""


@dataclass
class ContainerStarted(Message):
    info: ct.ContainerInfo


@dataclass
class ContainersListed(Message, bubble=False):
    containers: tuple[ct.ContainerInfo, ...]
    cli: str
    leftovers: ContainersReport | None = None


@dataclass
class ContainerActionDone(Message):
    """stop, rm or rmi succeeded."""

    result: ct.ActionResult
    container_id: str | None = None


@dataclass
class ProbeFinished(Message):
    outcome: ProbeOutcome


@dataclass
class ExecFinished(Message):
    result: ct.ExecResult
    container: str


@dataclass
class ContainersFailed(Message, bubble=False):
    action: str  # run | ps | probe | stop | rm | rmi | exec
    message: str
    fix: str = ""
    engine_lost: bool = False
    quiet: bool = False  # an automatic refresh: show it in the pane, without a notification


@dataclass
class LogLinesReady(Message, bubble=False):
    follow_id: int


@dataclass
class LogsEnded(Message, bubble=False):
    follow_id: int
    container_id: str
    error: str = ""


# --------------------------------------------------------------------------- rendering helpers


def _command(cli: str) -> Text:
    return Text.assemble(("$ ", "dim"), (cli, "bold cyan"))


def ports_cell(info: ct.ContainerInfo) -> str:
    """As `docker ps` shows them: published ``127.0.0.1:8080->8080/tcp``, the others ``8080/tcp``."""
    published = {b.container_port for b in info.ports}
    parts = [f"{b.host_ip}:{b.host_port}->{b.container_port}/tcp" for b in info.ports]
    parts += [f"{p}/tcp" for p in info.exposed if p not in published]
    return ", ".join(parts)


def status_cell(status: str) -> Text:
    style = {"running": "bold green", "exited": "red", "dead": "red", "created": "yellow"}.get(status, "")
    return Text(status, style=style)


COLUMNS = ("NAME", "STATUS", "PORTS", "IMAGE", "ID")  # what a narrow pane must show comes first


def row_cells(info: ct.ContainerInfo) -> tuple[object, ...]:
    return (info.name, status_cell(info.status), ports_cell(info), info.image, info.short_id)


# --------------------------------------------------------------------------- the pane


class ContainersPane(Vertical):
    """The seat's containers, the selected one's live log, and the last probe, exec and action."""

    DEFAULT_CSS = """
    ContainersPane { height: 1fr; }
    ContainersPane #containers-hint { height: auto; padding: 0 1; color: $text-muted; }
    ContainersPane #containers-table {
        height: auto; max-height: 10; border: round $primary; border-title-align: left;
    }
    ContainersPane #containers-results { height: auto; max-height: 55%; }
    ContainersPane .containers-section {
        height: auto; border: round $panel-lighten-2; border-title-align: left; padding: 0 1;
    }
    ContainersPane .containers-section.-empty { display: none; }
    ContainersPane #containers-log {
        height: 1fr; min-height: 5; border: round $panel-lighten-2;
        border-title-align: left; border-subtitle-align: left;
    }
    /* Short of rows (24 of them at 80x24): the results and the log keep only their top rule, and
       the results give the log room to show its last lines. */
    ContainersPane.-short #containers-results { max-height: 35%; }
    ContainersPane.-short .containers-section { border: none; border-top: round $panel-lighten-2; }
    ContainersPane.-short #containers-log { min-height: 3; border: none; border-top: round $panel-lighten-2; }
    """

    SHORT = 26  # rows under which the pane is -short

    def __init__(
        self,
        engine: str | None = None,
        *,
        seat: str,
        lesson: str | None = None,
        port_range: tuple[int, int] | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.engine = engine
        self.seat = seat
        self.lesson = lesson
        self.port_range = port_range  # a workshop seat's host ports; None: the container's own port
        self.image: str | None = None  # the image `run_image` was last given
        self.containers: dict[str, ct.ContainerInfo] = {}  # engine order: newest first
        self.selected: str | None = None
        self.last_started: ct.ContainerInfo | None = None
        self.last_probe: ProbeOutcome | None = None
        self.last_exec: ct.ExecResult | None = None
        self.last_action: ct.ActionResult | None = None
        self._acted_since_start = False  # the Last action line shows a later action than the last run
        self.last_error: ContainersFailed | None = None
        self.lists_received = 0
        self._last_command = ExecDialog.DEFAULT_COMMAND
        self._started = False
        self._log_channel: EventChannel[tuple[int, str]] = EventChannel()
        self._follow_id = 0
        self._following: str | None = None  # the container whose log is streaming now
        self._log_of: str | None = None  # the container whose log is shown
        self._follower: LogFollower | None = None

    # -- layout ----------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # Titles and columns are set here, before mounting: nested children mount after on_mount.
        yield Static(id="containers-hint")
        table: DataTable = DataTable(id="containers-table", cursor_type="row", zebra_stripes=True)
        table.add_columns(*COLUMNS)
        table.border_title = f"Containers of seat {self.seat}"
        yield table
        with VerticalScroll(id="containers-results"):
            for section_id, title in (("action", "Last action"), ("probe", "Probe"), ("exec", "Exec")):
                section = Static(id=f"containers-{section_id}", classes="containers-section -empty")
                section.border_title = title
                yield section
        log = Log(id="containers-log", max_lines=LOG_MAX_LINES, highlight=False)
        log.border_title = "Logs"
        yield log

    def on_resize(self) -> None:
        self.set_class(self.size.height < self.SHORT, "-short")

    def on_mount(self) -> None:
        self._show_hint(ct.ps_cli(self.seat, all=True))

    def on_show(self) -> None:
        # The first time the pane is seen: clear a crashed run's leftovers, then list.
        if not self._started:
            self._started = True
            self._list_worker(cleanup=True, quiet=True)

    def on_unmount(self) -> None:
        self._stop_following()

    # -- public actions (the lesson screen's keys call these) --------------------------------------

    def run_image(self, image: str | None) -> None:
        """Ask for the port mapping, then `docker run -d [-p HOST:CONTAINER] IMAGE`."""
        if not image:
            self._fail_here(
                "run", "nothing built yet: there is no image to run", "press b to build the exercise's image first"
            )
            return
        self.image = image
        self._section(
            "#containers-action",
            Text.assemble(_command(ct.run_cli(image)), "\n", ("reading the image's ports…", "dim")),
        )
        self._plan_worker(image, self.port_range)

    def probe(self, path: str = "/") -> None:
        """Ask the selected (or last started) container's server for a page, as curl would."""
        info = self._target("probe")
        if info is None:
            return
        self._section(
            "#containers-probe",
            Text(f"asking {info.name}… (a server that is starting gets a few seconds)", style="dim"),
        )
        self._probe_worker(info.id, path)

    def stop(self) -> None:
        info = self._target("stop")
        if info is None:
            return
        self._section(
            "#containers-action",
            Text.assemble(
                _command(ct.cli_line("stop", info.name)),
                "\n",
                ("stopping… (docker stop asks the app to exit, and kills it after 10 s)", "dim"),
            ),
        )
        self._stop_worker(info.id)

    def remove_container(self) -> None:  # (not `remove`: that is Widget.remove, which Textual calls)
        """`docker rm`; a running container needs -f, so that asks first."""
        info = self._target("rm")
        if info is None:
            return
        if not info.running:
            self._remove_worker(info.id, False)
            return
        self._ask(
            ConfirmDialog(
                f"{info.name} is running. Stop and remove it?",
                "docker rm refuses a running container; -f kills it first.",
                ct.cli_line("rm", "-f", info.name),
                confirm="Stop and remove",
            ),
            lambda yes: self._confirmed(yes, lambda: self._remove_worker(info.id, True)),
        )

    def remove_image(self, image: str | None = None) -> None:
        """`docker rmi IMAGE` after a confirmation: ``image``, else the last one run, else the selected container's."""
        selected = self.containers.get(self.selected or "")
        target = image or self.image or (selected.image if selected else None)
        if not target:
            self._fail_here("rmi", "no image to remove: build one (b) and run it (r) first")
            return
        users = [c.name for c in self.containers.values() if c.image == target]
        detail = "The layers only this image uses are deleted; cache layers other images share stay."
        if len(users) == 1:
            detail = f"{users[0]} still uses it: remove it first (x), or the engine refuses. {detail}"
        elif users:
            detail = f"{', '.join(users)} still use it: remove them first (x), or the engine refuses. {detail}"
        self._ask(
            ConfirmDialog(f"Remove the image {target}?", detail, ct.cli_line("rmi", target)),
            lambda yes: self._confirmed(yes, lambda: self._rmi_worker(target)),
        )

    def exec_command(self) -> None:
        """Ask for one command and run it in the selected running container (`docker exec`)."""
        info = self._target("exec")
        if info is None:
            return
        if not info.running:
            self._fail_here(
                "exec",
                f"{info.name} is not running ({info.status}): exec needs a running container",
                "press r to run the image again, then e",
            )
            return

        def chosen(command: str | None) -> None:
            if command:
                self._last_command = command
                self._section(
                    "#containers-exec",
                    Text.assemble(
                        _command(ct.cli_line("exec", info.name, *command.split())), "\n", ("running…", "dim")
                    ),
                )
                self._exec_worker(info.id, info.name, command)

        self._ask(ExecDialog(info.name, self._last_command), chosen)

    def refresh_list(self) -> None:
        """`docker ps -a` for this seat's containers."""
        self._list_worker(cleanup=False, quiet=False)

    # -- choosing the container ----------------------------------------------------------------------

    def _target(self, action: str) -> ct.ContainerInfo | None:
        info = self.containers.get(self.selected or "")
        if info is None and self.last_started is not None:
            info = self.containers.get(self.last_started.id, self.last_started)
        if info is None:
            self._fail_here(action, "no container yet", "press r to run the last built image")
        return info

    @on(DataTable.RowHighlighted, "#containers-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        # Read the cursor now, not the event's row: a rebuilt table sends stale highlights.
        table = event.data_table
        if table.row_count == 0:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if key is not None and key != self.selected and key in self.containers:
            self.selected = key
            self._follow(self.containers[key])

    # -- workers: engine calls only; results go out as messages ---------------------------------------

    def _ask(self, dialog: ModalScreen, answered: Callable[[Any], None]) -> None:
        self.post_message(AskLearner(dialog, answered))

    @staticmethod
    def _confirmed(yes: bool | None, then: Callable[[], object]) -> None:
        if yes:
            then()

    def _guard(self, action: str, job: Callable[[docker.APIClient], object], quiet: bool = False) -> None:
        """Run ``job`` with this thread's client; a failure becomes a ContainersFailed message."""
        try:
            job(thread_client(self.engine))
        except ct.ContainerError as exc:
            self.post_message(ContainersFailed(action, exc.message, exc.fix, quiet=quiet))
        except EngineUnavailable as exc:
            forget_thread_client(self.engine)  # the next call reconnects
            self.post_message(
                ContainersFailed(action, exc.problem.reason, exc.problem.fix, engine_lost=True, quiet=quiet)
            )

    @work(thread=True, exit_on_error=False, group=GROUP)
    def _list_worker(self, cleanup: bool, quiet: bool) -> None:
        def job(api: docker.APIClient) -> None:
            report = remove_leftovers(api, self.seat) if cleanup else None
            found = ct.list_containers(api, self.seat, all=True)
            self.post_message(ContainersListed(tuple(found), ct.ps_cli(self.seat, all=True), report))

        self._guard("ps", job, quiet)

    @work(thread=True, exit_on_error=False, group=GROUP)
    def _plan_worker(self, image: str, port_range: tuple[int, int] | None) -> None:
        self._guard("run", lambda api: self.post_message(RunPlanned(plan_run(api, image, port_range=port_range))))

    @work(thread=True, exit_on_error=False, group=GROUP)
    def _run_worker(self, image: str, ports: dict[int, int]) -> None:
        def job(api: docker.APIClient) -> None:
            try:
                info = ct.run_container(
                    api, image, ports=ports, labels=started_labels(), seat=self.seat, lesson=self.lesson
                )
            except ct.PortInUse as busy:
                # Taken between the prompt and the run: ask again, offering the free one.
                plan = RunPlan(
                    image, ports.get(busy.port, 8080), busy.suggestion, ct.exposed_ports(api, image), busy.port
                )
                self.post_message(RunPlanned(plan, f"{busy.message}."))
                return
            note_started(info.id)
            self.post_message(ContainerStarted(info))

        self._guard("run", job)

    @work(thread=True, exit_on_error=False, group=GROUP)
    def _probe_worker(self, container_id: str, path: str) -> None:
        self._guard("probe", lambda api: self.post_message(ProbeFinished(probe_container(api, container_id, path))))

    @work(thread=True, exit_on_error=False, group=GROUP)
    def _stop_worker(self, container_id: str) -> None:
        self._guard(
            "stop",
            lambda api: self.post_message(ContainerActionDone(ct.stop_container(api, container_id), container_id)),
        )

    @work(thread=True, exit_on_error=False, group=GROUP)
    def _remove_worker(self, container_id: str, force: bool) -> None:
        self._guard(
            "rm",
            lambda api: self.post_message(
                ContainerActionDone(ct.remove_container(api, container_id, force=force), container_id)
            ),
        )

    @work(thread=True, exit_on_error=False, group=GROUP)
    def _rmi_worker(self, image: str) -> None:
        self._guard(
            "rmi", lambda api: self.post_message(ContainerActionDone(ct.remove_image(api, image, seat=self.seat)))
        )

    @work(thread=True, exit_on_error=False, group=GROUP)
    def _exec_worker(self, container_id: str, name: str, command: str) -> None:
        self._guard("exec", lambda api: self.post_message(ExecFinished(exec_command(api, container_id, command), name)))

    @work(thread=True, exit_on_error=False, group=LOG_GROUP)
    def _follow_worker(self, follow_id: int, container_id: str, follower: LogFollower) -> None:
        """Iterate `docker logs -f` until the container stops or the follower is closed."""
        error = ""
        try:
            # Its own client: closing a stream from the UI thread shuts that connection down.
            api = connect(self.engine)
        except EngineUnavailable as exc:
            self.post_message(LogsEnded(follow_id, container_id, exc.problem.reason))
            return
        try:
            stream = ct.logs(api, container_id, follow=True, tail=LOG_TAIL)
            if follower.attach(stream):
                for line in stream:
                    if self._log_channel.put((follow_id, line)):
                        self.post_message(LogLinesReady(follow_id))
        except (ct.ContainerError, EngineUnavailable) as exc:
            error = str(exc)
        finally:
            api.close()
            self.post_message(LogsEnded(follow_id, container_id, "" if follower.closed else error))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group not in (GROUP, LOG_GROUP):
            return
        event.stop()
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            self._show_failure(ContainersFailed(event.worker.name or "containers", f"unexpected error: {error}"))

    # -- handlers: the UI thread updates the widgets ---------------------------------------------------

    @on(RunPlanned)
    def _planned(self, message: RunPlanned) -> None:
        plan = message.plan
        self._section(
            "#containers-action",
            Text.assemble(
                _command(ct.run_cli(plan.image, {plan.host_port: plan.container_port})),
                "\n",
                ("choose the port mapping…", "dim"),
            ),
        )

        def chosen(choice: RunChoice | None) -> None:
            if choice is None:
                self._section("#containers-action", Text("run cancelled", style="dim"))
                return
            what = "starting…" if choice.ports else "starting without -p: nothing will be published…"
            self._section(
                "#containers-action",
                Text.assemble(_command(ct.run_cli(plan.image, choice.mapping)), "\n", (what, "dim")),
            )
            self._run_worker(plan.image, choice.mapping)

        self._ask(RunDialog(plan, message.problem), chosen)

    @on(ContainerStarted)
    def _container_started(self, message: ContainerStarted) -> None:
        info = message.info
        self.last_started = info
        self._acted_since_start = False
        self.containers = {info.id: info, **{k: v for k, v in self.containers.items() if k != info.id}}
        self.selected = info.id
        self._render_table()
        self._show_started(info)
        self._follow(info)

    def _show_started(self, info: ct.ContainerInfo) -> None:
        """The Last action line of a run, as the table shows the container now."""
        if not info.running:
            next_step = "it is not running: press p to see why, or read its Logs"
        elif info.ports:
            port = info.ports[0]
            next_step = f"published on {port.host_ip}:{port.host_port} → {port.container_port}: press p to probe it"
        elif info.exposed:
            next_step = f"no port published (the image EXPOSEs {', '.join(map(str, info.exposed))}): press p and see what happens"
        else:
            next_step = "no port published"
        self._section(
            "#containers-action",
            Text.assemble(
                _command(info.cli),
                "\n",
                (f"container {info.name} ({info.short_id}) is {info.status}", "green" if info.running else "yellow"),
                f"; {next_step}",
            ),
        )

    @on(ContainersListed)
    def _listed(self, message: ContainersListed) -> None:
        self.lists_received += 1
        self.containers = {c.id: c for c in message.containers}
        started = self.last_started
        now = self.containers.get(started.id) if started is not None else None
        if (
            started is not None
            and now is not None
            and not self._acted_since_start  # a later action's line (a stop) stays as it is
            and (now.status, now.ports) != (started.status, started.ports)
        ):
            # The container moved on since it started (it exited, or its ports showed): say so.
            self.last_started = dataclasses.replace(now, cli=started.cli)
            self._show_started(self.last_started)
        previous = self.selected
        if self.selected not in self.containers:
            self.selected = next(iter(self.containers), None)
        self._render_table()
        chosen = self.containers.get(self.selected or "")
        if chosen is not None and (self.selected != previous or (self._following is None and chosen.running)):
            self._follow(chosen)
        report = message.leftovers
        if report is not None and report.removed:
            self.notify(
                f"Removed {len(report.removed)} container(s) an earlier run left behind: {', '.join(report.removed)}",
                title="Containers",
                timeout=8,
            )
        if report is not None and report.failures:
            self.notify("\n".join(report.failures), title="Containers", severity="warning", timeout=8)

    @on(ContainerActionDone)
    def _action_done(self, message: ContainerActionDone) -> None:
        result = message.result
        self.last_action = result
        self._acted_since_start = True
        text = {
            "stop": f"{result.target} stopped: still listed (docker ps -a); x removes it",
            "rm": f"{result.target} removed",
            "rmi": f"image {result.target} removed" + (f" ({result.detail})" if result.detail else ""),
        }.get(result.action, f"{result.action} {result.target}: done")
        self._section("#containers-action", Text.assemble(_command(result.cli), "\n", (text, "green")))
        cid = message.container_id
        if result.action == "rm" and cid is not None:
            self.containers.pop(cid, None)
            if self.last_started is not None and self.last_started.id == cid:
                self.last_started = None
            if self._log_of == cid:
                self._stop_following()
                log = self.query_one(Log)
                log.write_line(f"── {result.target} removed")
                log.border_title = f"Logs of {result.target} (removed)"
            if self.selected == cid:
                self.selected = next(iter(self.containers), None)
            self._render_table()
        self.refresh_list()

    @on(ProbeFinished)
    def _probed(self, message: ProbeFinished) -> None:
        outcome = message.outcome
        self.last_probe = outcome
        text = Text.assemble(_command(outcome.cli), "\n")
        text.append(outcome.summary(), style="bold green" if outcome.ok else "bold red")
        if outcome.explanation:
            text.append("\n" + outcome.explanation)
        info = self.containers.get(self.selected or "")
        if not outcome.ok and info is not None and info.running and not info.ports:
            text.append("\nPress r to run the image again, this time with -p.", style="bold")
        self._section("#containers-probe", text)

    @on(ExecFinished)
    def _executed(self, message: ExecFinished) -> None:
        result = message.result
        self.last_exec = result
        lines = result.output.rstrip("\n").splitlines()
        text = Text.assemble(_command(result.cli), "\n")
        if len(lines) > EXEC_MAX_LINES:
            text.append(f"… {len(lines) - EXEC_MAX_LINES} earlier lines not shown\n", style="dim")
            lines = lines[-EXEC_MAX_LINES:]
        text.append("\n".join(_CONTROL.sub("", strip_ansi(line)) for line in lines))
        text.append(f"\nexit code {result.exit_code}", style="dim" if result.exit_code == 0 else "bold red")
        self._section("#containers-exec", text)

    @on(ContainersFailed)
    def _failed(self, message: ContainersFailed) -> None:
        self._show_failure(message)

    @on(LogLinesReady)
    def _log_lines(self, message: LogLinesReady | None = None) -> None:
        lines = [
            _CONTROL.sub("", strip_ansi(line).expandtabs())
            for fid, line in self._log_channel.drain()
            if fid == self._follow_id
        ]
        if lines:
            self.query_one(Log).write_lines(lines)

    @on(LogsEnded)
    def _logs_ended(self, message: LogsEnded) -> None:
        if message.follow_id != self._follow_id:
            return  # a follow that was replaced or closed
        self._log_lines()
        self._following = None
        log = self.query_one(Log)
        if message.error:
            log.write_line(f"── the log stopped: {message.error}")
        else:
            log.write_line("── end of the log: the container is not running")
        info = self.containers.get(message.container_id)
        if info is not None and info.running and not message.error:
            self._list_worker(cleanup=False, quiet=True)  # it stopped by itself: show its new status

    # -- widget helpers (UI thread only) -------------------------------------------------------------

    def _render_table(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for info in self.containers.values():
            table.add_row(*row_cells(info), key=info.id)
        if self.selected in self.containers:
            table.move_cursor(row=table.get_row_index(self.selected), animate=False)
        self._show_hint(ct.ps_cli(self.seat, all=True))

    def _show_hint(self, ps_cli: str, problem: Text | None = None) -> None:
        text = Text()
        if not self.containers:
            text.append("No containers yet. Build the image (b), then press r to run it.\n")
        else:
            text.append("r run · p probe · s stop · x remove · e exec · i remove image · tab: scroll the output\n")
        text.append_text(_command(ps_cli))
        if problem is not None:
            text.append("\n")
            text.append_text(problem)
        self.query_one("#containers-hint", Static).update(text)

    def _section(self, selector: str, content: Text) -> None:
        section = self.query_one(selector, Static)
        section.update(content)
        section.remove_class("-empty")
        # The newest result in view: on a short terminal it would open below the fold.
        results = self.query_one("#containers-results", VerticalScroll)
        self.call_after_refresh(results.scroll_to_widget, section, animate=False, top=True)

    def focus_table(self) -> None:
        """Focus the containers (arrows pick one; tab goes on to the output) unless the pane has it."""
        focused = self.screen.focused
        if focused is None or self not in focused.ancestors_with_self:
            self.query_one("#containers-table", DataTable).focus()

    def _fail_here(self, action: str, message: str, fix: str = "") -> None:
        self._show_failure(ContainersFailed(action, message, fix))

    def _show_failure(self, failure: ContainersFailed) -> None:
        self.last_error = failure
        command = COMMANDS.get(failure.action, failure.action)
        text = Text.assemble((f"✗ {command}: ", "bold red"), failure.message)
        if failure.fix:
            text.append("\nfix: ", style="bold")
            text.append(failure.fix)
        if failure.quiet:  # an automatic listing: under the `docker ps` line, not over the last action
            self._show_hint(ct.ps_cli(self.seat, all=True), text)
            return
        self._section(
            {"probe": "#containers-probe", "exec": "#containers-exec"}.get(failure.action, "#containers-action"), text
        )
        self.notify(
            failure.message + (f"\nFix: {failure.fix}" if failure.fix else ""),
            title=command,
            severity="error",
            timeout=8,
        )

    def _follow(self, info: ct.ContainerInfo) -> None:
        """Show ``info``'s log, live: a worker follows it until it stops or another is chosen."""
        self._stop_following()
        self._follow_id += 1
        self._following = self._log_of = info.id
        follower = LogFollower()
        self._follower = follower
        log = self.query_one(Log)
        log.clear()
        log.border_title = f"Logs of {info.name}"
        log.border_subtitle = f"$ {ct.cli_line('logs', '-f', info.name)}"
        self._follow_worker(self._follow_id, info.id, follower)

    def _stop_following(self) -> None:
        if self._follower is not None:
            self._follower.close()
            self._follower = None
        self._following = None
        self._follow_id += 1  # whatever the old stream still sends is ignored
