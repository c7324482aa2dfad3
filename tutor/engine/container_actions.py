"""What the containers tab asks of the engine, as plain functions returning frozen results.

Everything here runs in worker threads (or at exit) and never touches a
widget; the pane turns the results into messages.  It also owns the life
cycle of the containers the app starts: each carries a label naming this
process, so that quitting removes exactly those, and a later start can tell a
crashed run's leftovers from containers another tutor still uses.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import docker

from tutor import atomic, paths
from tutor.engine import containers as ct
from tutor.engine import probe as pr
from tutor.engine.client import EngineUnavailable, connect
from tutor.engine.ports import is_port_free, parse_mapping

# The process that started a container: "host:pid:token".  Quitting removes exactly
# this process's containers (the token keeps out a later process that reuses the pid);
# at start, containers whose process is gone from this host are a crash's leftovers.
STARTED_BY = "io.tutor.started-by"
KEEP_ENV = "TUTOR_KEEP_CONTAINERS"
KEPT_FILE = "kept-containers.json"
DEFAULT_PORT = 8080
READY_WAIT = 10.0  # seconds a probe waits for a server that is still starting
INTERACTIVE_SHELLS = frozenset({"sh", "bash", "ash", "zsh", "/bin/sh", "/bin/bash", "/bin/ash"})

_MARK = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
_started_here: set[str] = set()
_started_lock = threading.Lock()


def process_mark() -> str:
    return _MARK


def started_labels() -> dict[str, str]:
    """Labels added to every container this app process runs (on top of the managed ones)."""
    return {STARTED_BY: _MARK}


def note_started(container_id: str) -> None:
    with _started_lock:
        _started_here.add(container_id)


def keep_containers_setting(environ: Mapping[str, str] = os.environ) -> bool:
    """``TUTOR_KEEP_CONTAINERS=1`` leaves the app's containers running when it quits."""
    return environ.get(KEEP_ENV, "").strip().lower() in ("1", "true", "yes", "on")


# --------------------------------------------------------------------------- port mappings


def parse_mappings(text: str) -> dict[int, int]:
    """``"8080:8080"`` or several (``"8080:8080, 9000:8080"``) -> {host: container}.

    ValueError with a message a learner can act on; one host port cannot serve twice.
    """
    # A learner may type the flag too: "-p 9000:8080" or "-p9000:8080".
    parts = [p.removeprefix("-p") for p in re.split(r"[,\s]+", text.strip()) if p not in ("", "-p")]
    if not parts:
        raise ValueError("give a port mapping HOST:CONTAINER, e.g. 8080:8080 (or choose “Run without -p”)")
    mapping: dict[int, int] = {}
    for part in parts:
        host, container = parse_mapping(part)
        if host in mapping:
            raise ValueError(f"host port {host} is given twice: every mapping needs its own host port")
        mapping[host] = container
    return mapping


def mapping_text(mapping: Mapping[int, int]) -> str:
    return ", ".join(f"{host}:{container}" for host, container in mapping.items())


@dataclass(frozen=True)
class RunPlan:
    """What the port prompt offers for ``image``: found before anything runs."""

    image: str
    container_port: int
    host_port: int  # the default host port: the container's, or a free one when that is busy
    exposed: tuple[int, ...] = ()
    busy_port: int | None = None  # the host port that was wanted but is in use

    @property
    def default_mapping(self) -> str:
        return f"{self.host_port}:{self.container_port}"


def plan_run(
    api: docker.APIClient, image: str, preferred: int | None = None, port_range: tuple[int, int] | None = None
) -> RunPlan:
    """Read the image's EXPOSE and check the host port before the prompt shows.

    ``port_range`` (a workshop seat's) gives the host ports to offer: the first free one of it.
    ImageMissing when the image is not on the engine (nothing is pulled).
    """
    exposed = ct.exposed_ports(api, image)
    container_port = exposed[0] if exposed else DEFAULT_PORT
    wanted = preferred or container_port
    candidates = None
    if port_range is not None and preferred is None:
        wanted, candidates = port_range[0], range(port_range[0] + 1, port_range[1] + 1)
    try:
        ct.check_ports_free(api, {wanted: container_port}, candidates=candidates)
    except ct.PortInUse as busy:
        if candidates is not None:  # the seat's range: its next free port, nothing to report
            return RunPlan(image, container_port, busy.suggestion, exposed)
        return RunPlan(image, container_port, busy.suggestion, exposed, busy_port=wanted)
    return RunPlan(image, container_port, wanted, exposed)


# --------------------------------------------------------------------------- probe


@dataclass(frozen=True)
class ProbeOutcome:
    container: str  # its name
    ok: bool
    cli: str  # the curl line, or the docker line that shows why there was nothing to ask
    result: pr.ProbeResult | None = None
    explanation: str = ""  # why it failed and what to do; empty on success

    def summary(self) -> str:
        if self.result is not None:
            return self.result.summary()
        return f"{self.container} was not asked: it is not running"


STOPPED_CODES = {143: "128 + 15, SIGTERM", 137: "128 + 9, SIGKILL"}


def _exit_story(api: docker.APIClient, info: ct.ContainerInfo) -> str:
    """Why a stopped container answers nothing, with what it ran."""
    data = api.inspect_container(info.id)
    state = data.get("State") or {}
    command = " ".join([data.get("Path") or "", *(data.get("Args") or [])]).strip()
    code = state.get("ExitCode")
    error = f" ({state['Error']})" if state.get("Error") else ""
    lines = [f"The container {info.name} is not running ({info.status}, exit code {code}){error}: nothing listens."]
    if code in STOPPED_CODES and not state.get("OOMKilled"):
        # Ended by a signal (`docker stop` sends SIGTERM, then SIGKILL): it ran fine until stopped.
        lines.append(
            f"It was stopped (exit code {code} is {STOPPED_CODES[code]}), as `docker stop` does: start it again "
            f"with `docker start {info.name}` (s stopped it? r runs a new one), then probe."
        )
        return "\n".join(lines)
    if command:
        lines.append(f"It ran `{command}`. A container lives only as long as that main process (its CMD).")
    lines.append(
        "An image without its own CMD runs the base image's default command: often a shell, which exits "
        "at once without a terminal. `docker ps -a` shows the COMMAND; `docker logs "
        f"{info.name}` shows what it printed."
    )
    return "\n".join(lines)


def probe_container(api: docker.APIClient, container: str, path: str = "/", wait: float = READY_WAIT) -> ProbeOutcome:
    """Ask the container's server for ``path`` on its published port, as `curl` would.

    Without a published port, ask localhost for the port the image EXPOSEs
    (it fails), and explain: EXPOSE documents, -p publishes.
    """
    info = ct.inspect_container(api, container)
    if not info.running:
        return ProbeOutcome(
            info.name,
            False,
            ct.cli_line("ps", "-a", "--filter", f"name={info.name}"),
            explanation=_exit_story(api, info),
        )
    exposed = info.exposed or ct.exposed_ports(api, info.image)
    if info.ports:
        binding = next((b for b in info.ports if b.container_port in exposed), info.ports[0])
        host = binding.host_ip
        pr.wait_ready(
            binding.host_port, wait, host=host, path=path, still_running=lambda: ct.container_running(api, info.id)
        )
        result = pr.probe(binding.host_port, path, host=host)
        if result.ok:
            return ProbeOutcome(info.name, True, result.cli, result)
        fresh = ct.inspect_container(api, info.id)
        if not fresh.running:
            return ProbeOutcome(info.name, False, result.cli, result, _exit_story(api, fresh))
        why = [f"{info.name} runs and publishes {binding.host_port}->{binding.container_port}, but {result.summary()}."]
        if exposed and binding.container_port not in exposed:
            why.append(
                f"The app listens on {', '.join(map(str, exposed))} (the image's EXPOSE), not on "
                f"{binding.container_port}: -p HOST:CONTAINER must name the port inside the container, "
                f"e.g. -p {binding.host_port}:{exposed[0]}."
            )
        return ProbeOutcome(info.name, False, result.cli, result, "\n".join(why))

    # The "forgot -p" moment.
    port = exposed[0] if exposed else DEFAULT_PORT
    explanation = pr.explain_unpublished(info, exposed)
    if is_port_free(port):
        result = pr.probe(port, path, timeout=1.0)
        if result.ok:  # something else on this machine answered meanwhile
            explanation = (
                f"(that answer came from another program on port {port}, not from {info.name})\n" + explanation
            )
        return ProbeOutcome(info.name, False, result.cli, result, explanation)
    note = f"(not asking localhost:{port}: another program holds that port, so no answer would come from {info.name})"
    return ProbeOutcome(info.name, False, f"curl {pr.probe_url(port, path)}", None, note + "\n" + explanation)


# --------------------------------------------------------------------------- exec


def check_exec_command(command: str) -> str:
    """The command to run, stripped; ValueError when it cannot work in a one-shot exec."""
    text = command.strip()
    if not text:
        raise ValueError("type a command to run inside the container, e.g. ls /app")
    if text in INTERACTIVE_SHELLS:
        raise ValueError(
            f"{text} alone waits for typing, and this prompt runs one command without a terminal. "
            "Run one command (e.g. ls /app), or use `docker exec -it NAME sh` in a terminal."
        )
    return text


def exec_command(api: docker.APIClient, container: str, command: str) -> ct.ExecResult:
    info = ct.inspect_container(api, container)
    if not info.running:
        raise ct.ContainerError(
            f"{info.name} is not running ({info.status}): exec needs a running container",
            "press r to run the image again, then e",
        )
    return ct.exec_in(api, info.id, check_exec_command(command))


# --------------------------------------------------------------------------- life cycle


@dataclass(frozen=True)
class ContainersReport:
    """What quitting (or the start-up cleanup) did to the app's containers."""

    removed: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()
    failures: tuple[str, ...] = ()
    cli: tuple[str, ...] = ()

    def summary(self) -> str:
        parts = []
        if self.removed:
            parts.append(
                f"removed {len(self.removed)} container{'s' if len(self.removed) != 1 else ''}: {', '.join(self.removed)}"
            )
        if self.kept:
            names = ", ".join(self.kept)
            parts.append(f"kept {names} running (`docker rm -f {' '.join(self.kept)}` or `tutor clean` removes them)")
        parts.extend(self.failures)
        return "; ".join(parts)


def _kept_file(seat: str) -> Path:
    return paths.seat_dir(seat) / KEPT_FILE


def _read_kept(seat: str) -> set[str]:
    try:
        data = json.loads(_kept_file(seat).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    return {str(x) for x in data} if isinstance(data, list) else set()


def _write_kept(seat: str, ids: set[str]) -> str:
    """Save the kept ids; the reason it failed, or "" (a read-only home must not stop a quit)."""
    target = _kept_file(seat)
    try:
        atomic.write_text(target, json.dumps(sorted(ids)))  # a crash leaves the old list or the new one
    except OSError as exc:
        return f"could not note the kept containers in {target} ({exc.strerror or exc}): the next start removes them"
    return ""


def _owner_alive(mark: str) -> bool:
    """Whether the process named by a STARTED_BY label may still run (True when unsure)."""
    host, _, rest = mark.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return True  # another machine's tutor: not ours to judge
    if mark == _MARK:
        return True
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove(api: docker.APIClient, found: list[ct.ContainerInfo]) -> tuple[list[str], list[str], list[str]]:
    removed, failures, clis = [], [], []
    for info in found:
        try:
            result = ct.remove_container(api, info.id, force=True)
        except ct.ContainerMissing:
            continue
        except ct.ContainerError as exc:
            failures.append(f"could not remove {info.name}: {exc.message}")
            continue
        removed.append(info.name)
        clis.append(result.cli)
    return removed, failures, clis


def remove_leftovers(api: docker.APIClient, seat: str) -> ContainersReport:
    """Remove this seat's containers that an app process started and did not remove: it crashed.

    Containers of a tutor that still runs, containers a quit kept on purpose,
    and containers `tutor run --keep` left (no STARTED_BY label) all stay.
    """
    kept = _read_kept(seat)
    found = [c for c in ct.list_containers(api, seat, all=True) if STARTED_BY in c.labels]
    leftovers = [c for c in found if c.id not in kept and not _owner_alive(c.labels[STARTED_BY])]
    removed, failures, clis = _remove(api, leftovers)
    if kept - {c.id for c in found}:
        _write_kept(seat, kept & {c.id for c in found})  # forget the ones removed some other way
    return ContainersReport(tuple(removed), (), tuple(failures), tuple(clis))


def remove_leftover_containers(engine: str | None, seat: str) -> ContainersReport:
    """``remove_leftovers`` with its own client; never raises (a failure is in the report)."""
    try:
        api = connect(engine)
    except EngineUnavailable as exc:
        return ContainersReport(
            failures=(f"could not look for leftover containers of seat {seat}: {exc.problem.reason}",)
        )
    try:
        return remove_leftovers(api, seat)
    except (ct.ContainerError, EngineUnavailable) as exc:
        return ContainersReport(failures=(f"could not look for leftover containers of seat {seat}: {exc}",))
    finally:
        api.close()


def stop_started_containers(engine: str | None, seat: str, keep: bool = False) -> ContainersReport:
    """On quit: stop and remove (``docker rm -f``) the containers this app process started.

    ``keep`` leaves the running ones running and notes them, so the next start
    does not take them for a crash's leftovers.  Never raises: an engine that
    is gone is reported, and `tutor clean` removes what is left.
    """
    with _started_lock:
        if not _started_here:
            return ContainersReport()  # nothing was run: no need to reach the engine
    try:
        api = connect(engine, timeout=10)  # quitting must not hang on an unreachable engine
    except EngineUnavailable as exc:
        return ContainersReport(
            failures=(
                f"could not remove the app's containers: {exc.problem.reason} (`tutor clean` removes them later)",
            )
        )
    try:
        found = [c for c in ct.list_containers(api, seat, all=True) if c.labels.get(STARTED_BY) == _MARK]
        kept: tuple[str, ...] = ()
        problem = ""
        if keep:
            running = [c for c in found if c.running]
            if running:
                problem = _write_kept(seat, _read_kept(seat) | {c.id for c in running})
            kept = tuple(c.name for c in running)
            found = [c for c in found if not c.running]  # a stopped one is of no use to keep
        removed, failures, clis = _remove(api, found)
        if problem:
            failures.append(problem)
        with _started_lock:
            _started_here.clear()
        return ContainersReport(tuple(removed), kept, tuple(failures), tuple(clis))
    except (ct.ContainerError, EngineUnavailable) as exc:
        return ContainersReport(
            failures=(f"could not remove the app's containers: {exc} (`tutor clean` removes them later)",)
        )
    finally:
        api.close()


class LogFollower:
    """Lets the UI thread end a log stream that a worker thread is reading.

    The UI may close it before the worker has opened the stream: the worker
    then closes the stream as soon as it has it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stream: ct.LogStream | None = None
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def attach(self, stream: ct.LogStream) -> bool:
        """False (and the stream closed) when the follower was closed already."""
        with self._lock:
            if self._closed:
                stream.close()
                return False
            self._stream = stream
            return True

    def close(self) -> None:
        with self._lock:
            self._closed = True
            stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()
