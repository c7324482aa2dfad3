"""Running what was built: run, list, exec, logs, stop, remove, and cleaning a seat up.

A thin layer over ``docker.APIClient``.  Every container it starts carries the
tutor's labels, and every result carries the ``docker`` command line that does
the same thing, so the learner sees the CLI behind each action.

Safety rules kept here rather than in callers:
- containers run unprivileged, with no host mounts, published on 127.0.0.1 by
  default (``bind_host="0.0.0.0"`` opens them to the network on purpose);
- only objects labelled ``io.tutor.managed=true`` are stopped or removed;
  the course's base images are never removed, whatever their labels.
"""

from __future__ import annotations

import codecs
import dataclasses
import secrets
import shlex
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import docker
from docker.errors import APIError, DockerException, NotFound
from requests.exceptions import RequestException

from tutor import paths
from tutor.engine import labels as tl
from tutor.engine import ledger, seat_rules
from tutor.engine import ports as port_tools
from tutor.engine.baseimages import COURSE_BASE_IMAGES
from tutor.engine.client import EngineUnavailable, diagnose, engine_url
from tutor.engine.failures import advise_start
from tutor.engine.image_size import image_store
from tutor.engine.probe import wait_ready  # noqa: F401 - part of this module's interface

DEFAULT_BIND = "127.0.0.1"
STOP_TIMEOUT = 10  # seconds, as `docker stop`
_SHELL_CHARS = set("|&;<>()$`\\\"'*?[]{}~#\n")
_LOCAL_ENGINES = ("http+docker://localhost", "http+docker://localnpipe")


# --------------------------------------------------------------------------- results


class ContainerError(Exception):
    """An action on a container or image failed; ``message`` says why, ``fix`` what to do."""

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix


class ImageMissing(ContainerError):
    pass


class ContainerMissing(ContainerError):
    pass


class NotManaged(ContainerError):
    """Refused: the object was not made by the tutor (or is a base image)."""


class PortInUse(ContainerError):
    def __init__(self, port: int, host: str, suggestion: int) -> None:
        self.port, self.host, self.suggestion = port, host, suggestion
        super().__init__(
            f"host port {port} is already in use on {host}: another program or container holds it",
            f"publish on a free port instead, e.g. -p {suggestion}:CONTAINER (port {suggestion} is free now)",
        )


class PortBinding(NamedTuple):
    host_ip: str
    host_port: int
    container_port: int


@dataclass(frozen=True)
class ContainerInfo:
    id: str
    short_id: str
    name: str
    image: str
    status: str  # created | running | exited ...
    ports: tuple[PortBinding, ...] = ()  # published ports only
    exposed: tuple[int, ...] = ()  # ports the image documents with EXPOSE
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)
    cli: str = ""  # the docker command that did (or shows) this

    @property
    def running(self) -> bool:
        return self.status == "running"

    def host_port(self, container_port: int | None = None) -> int | None:
        """The host port forwarding to ``container_port`` (the first published one by default)."""
        for binding in self.ports:
            if container_port is None or binding.container_port == container_port:
                return binding.host_port
        return None


@dataclass(frozen=True)
class ActionResult:
    action: str  # stop | rm | rmi
    target: str
    cli: str
    detail: str = ""


@dataclass(frozen=True)
class ExecResult:
    exit_code: int
    output: str
    cli: str


@dataclass(frozen=True)
class CleanupResult:
    containers_removed: int
    images_removed: int
    layers_deleted: int = 0  # image ids the engine deleted, parents included
    kept: tuple[str, ...] = ()  # images other images or containers still use
    failures: tuple[str, ...] = ()
    cli: str = ""

    def summary(self) -> str:
        c, i = self.containers_removed, self.images_removed
        return f"removed {c} container{'' if c == 1 else 's'} and {i} image{'' if i == 1 else 's'}"


# --------------------------------------------------------------------------- command lines


def cli_line(action: str, *args: str) -> str:
    """``docker ACTION ARGS...`` quoted as a shell would need it."""
    return shlex.join(["docker", action, *(str(a) for a in args)])


def publish_flag(host_port: int, container_port: int, bind_host: str = DEFAULT_BIND) -> str:
    if bind_host in ("", "0.0.0.0"):
        return f"{host_port}:{container_port}"
    return f"{bind_host}:{host_port}:{container_port}"


def run_cli(
    image: str,
    ports: Mapping[int, int] | None = None,
    name: str | None = None,
    bind_host: str = DEFAULT_BIND,
    command: str | list[str] | None = None,
) -> str:
    """The ``docker run`` line equivalent to ``run_container`` with these arguments.

    The tutor's bookkeeping labels are left out: they change nothing about how
    the container runs and would bury the flags the lesson is about.
    """
    args = ["-d"]
    for host, container in (ports or {}).items():
        args += ["-p", publish_flag(host, container, bind_host)]
    if name:
        args += ["--name", name]
    args.append(image)
    if command:
        args += shlex.split(command) if isinstance(command, str) else list(command)
    return cli_line("run", *args)


def ps_cli(seat: str | None = None, all: bool = False) -> str:
    args = ["-a"] if all else []
    for value in tl.seat_filter(seat)["label"]:
        args += ["--filter", f"label={value}"]
    return cli_line("ps", *args)


# --------------------------------------------------------------------------- helpers


def _api_text(exc: Exception) -> str:
    explanation = getattr(exc, "explanation", None)
    if isinstance(explanation, bytes):
        explanation = explanation.decode("utf-8", "replace")
    return str(explanation or exc).strip()


@contextmanager
def _engine_errors() -> Iterator[None]:
    """A dropped connection becomes EngineUnavailable, with its reason and fix.

    An error answer the caller did not handle becomes a ContainerError; the
    order matters: the SDK's APIError is itself a RequestException.
    """
    try:
        yield
    except APIError as exc:
        raise ContainerError(f"the Docker engine refused: {_api_text(exc)}") from exc
    except RequestException as exc:
        raise EngineUnavailable(diagnose(engine_url(), exc)) from exc


def _engine_is_local(api: docker.APIClient) -> bool:
    # Ports published by a remote engine are on its host: checking ours would mislead.
    return str(getattr(api, "base_url", "")) in _LOCAL_ENGINES


def _ports_from_inspect(network_ports: Mapping[str, Any] | None) -> tuple[PortBinding, ...]:
    found: list[PortBinding] = []
    for key, bindings in (network_ports or {}).items():
        number, _, proto = key.partition("/")
        if proto not in ("", "tcp") or not bindings:
            continue
        for b in bindings:
            if b.get("HostPort"):
                found.append(PortBinding(b.get("HostIp") or "0.0.0.0", int(b["HostPort"]), int(number)))
    return _unique_ports(found)


def _unique_ports(found: Iterable[PortBinding]) -> tuple[PortBinding, ...]:
    # The engine lists a port once for IPv4 and once for IPv6 ("::"): show it once.
    seen: dict[tuple[int, int], PortBinding] = {}
    for b in found:
        key = (b.host_port, b.container_port)
        if key not in seen or seen[key].host_ip == "::":
            seen[key] = b
    return tuple(sorted(seen.values(), key=lambda b: (b.container_port, b.host_port)))


def _exposed(config_ports: Mapping[str, object] | None) -> tuple[int, ...]:
    numbers = []
    for key in config_ports or {}:
        number, _, proto = key.partition("/")
        if proto in ("", "tcp") and number.isdigit():
            numbers.append(int(number))
    return tuple(sorted(numbers))


def info_from_inspect(data: Mapping, cli: str = "") -> ContainerInfo:
    config = data.get("Config") or {}
    state = data.get("State") or {}
    return ContainerInfo(
        id=data["Id"],
        short_id=data["Id"][:12],
        name=str(data.get("Name", "")).lstrip("/"),
        image=config.get("Image") or data.get("Image", ""),
        status=state.get("Status", "unknown"),
        ports=_ports_from_inspect((data.get("NetworkSettings") or {}).get("Ports")),
        exposed=_exposed(config.get("ExposedPorts")),
        labels=dict(config.get("Labels") or {}),
        cli=cli,
    )


def info_from_summary(data: Mapping, cli: str = "") -> ContainerInfo:
    """From a ``containers()`` listing entry (cheaper than one inspect per container)."""
    published, exposed = [], set()
    for p in data.get("Ports") or ():
        if p.get("Type", "tcp") != "tcp":
            continue
        exposed.add(int(p["PrivatePort"]))
        if p.get("PublicPort"):
            published.append(PortBinding(p.get("IP") or "0.0.0.0", int(p["PublicPort"]), int(p["PrivatePort"])))
    names = data.get("Names") or [""]
    return ContainerInfo(
        id=data["Id"],
        short_id=data["Id"][:12],
        name=names[0].lstrip("/"),
        image=data.get("Image", ""),
        status=data.get("State", "unknown"),
        ports=_unique_ports(published),
        exposed=tuple(sorted(exposed)),
        labels=dict(data.get("Labels") or {}),
        cli=cli,
    )


def inspect_container(api: docker.APIClient, container: str) -> ContainerInfo:
    with _engine_errors():
        try:
            data = api.inspect_container(container)
        except NotFound as exc:
            raise ContainerMissing(f"no container {container} on this engine", "list them with `tutor run` or `docker ps -a`") from exc
    info = info_from_inspect(data)
    return dataclasses.replace(info, cli=cli_line("inspect", info.name))


def _require_managed(kind: str, name: str, object_labels: Mapping[str, str] | None) -> None:
    if (object_labels or {}).get(tl.MANAGED) != "true":
        raise NotManaged(
            f"refused: the {kind} {name} does not carry {tl.MANAGED}=true, so the tutor did not make it",
            "the tutor only stops and removes what it created; use the docker CLI for anything else",
        )


def image_config(api: docker.APIClient, image: str) -> Mapping:
    with _engine_errors():
        try:
            return api.inspect_image(image)
        except NotFound as exc:
            raise ImageMissing(
                f"no image {image} on this engine",
                "build it first (`tutor build PATH` prints its tag), or check the name with `docker images`",
            ) from exc


def exposed_ports(api: docker.APIClient, image: str) -> tuple[int, ...]:
    """The TCP ports the image documents with EXPOSE (its config's ExposedPorts)."""
    return _exposed((image_config(api, image).get("Config") or {}).get("ExposedPorts"))


def container_name(seat: str) -> str:
    return f"tutor-{seat}-{secrets.token_hex(2)}"


def check_ports_free(
    api: docker.APIClient,
    ports: Mapping[int, int],
    bind_host: str = DEFAULT_BIND,
    candidates: Iterable[int] | None = None,
) -> None:
    """PortInUse for the first busy host port, with a free one to use instead (the first free one
    of ``candidates`` when given, else one just above the busy port)."""
    if not ports or not _engine_is_local(api):
        return
    taken = port_tools.engine_published_ports(api)
    for host_port in ports:
        if host_port in taken or not port_tools.is_port_free(host_port, bind_host or "0.0.0.0"):
            others = set(taken) | set(ports)
            suggestion = port_tools.find_free_port(
                host_port, candidates, host=bind_host or "0.0.0.0", taken=others
            )
            raise PortInUse(host_port, bind_host or "0.0.0.0", suggestion)


# --------------------------------------------------------------------------- actions


def run_container(
    api: docker.APIClient,
    image: str,
    ports: Mapping[int, int] | None = None,
    labels: Mapping[str, str] | None = None,
    name: str | None = None,
    command: str | list[str] | None = None,
    bind_host: str = DEFAULT_BIND,
    seat: str | None = None,
    lesson: str | None = None,
) -> ContainerInfo:
    """``docker run -d [-p HOST:CONTAINER ...] [--name NAME] IMAGE [COMMAND]``.

    ``ports`` maps host port -> container port.  A busy host port raises
    PortInUse (with a free one to offer) before anything is created.  The
    container carries ``managed_labels(seat, lesson, kind="container")`` plus
    ``labels``.
    """
    seat = seat or (labels or {}).get(tl.SEAT) or paths.seat_name()
    all_labels = {**tl.managed_labels(seat, lesson, kind="container"), **(labels or {})}
    ports = dict(ports or {})
    for host_port, container_port in ports.items():
        for p in (host_port, container_port):
            if not port_tools.MIN_PORT <= int(p) <= port_tools.MAX_PORT:
                raise ContainerError(f"port {p} is out of range (1-65535)")
    try:  # a workshop seat publishes inside its port range, on 127.0.0.1 only
        seat_rules.check_publish(ports, bind_host)
    except seat_rules.PortRefused as exc:
        raise ContainerError(exc.message, "pick a host port from the seat's range") from exc
    image_config(api, image)  # ImageMissing before anything is created; never pulls
    check_ports_free(api, ports, bind_host)

    bindings: dict[int | str, list[tuple[str, int]]] = {}
    for host_port, container_port in ports.items():
        bindings.setdefault(int(container_port), []).append((bind_host or "0.0.0.0", int(host_port)))
    cmd = (shlex.split(command) if isinstance(command, str) else list(command)) if command else None
    with _engine_errors():
        host_config = api.create_host_config(port_bindings=bindings or None, privileged=False)
        for attempt in range(3):
            chosen = name or container_name(seat)
            try:
                created = api.create_container(
                    image,
                    command=cmd,
                    name=chosen,
                    labels=all_labels,
                    ports=list(bindings) or None,
                    host_config=host_config,
                    detach=True,
                )
                break
            except APIError as exc:
                if exc.status_code == 409 and name is None and attempt < 2:
                    continue  # the random name was taken: draw another
                raise ContainerError(f"the engine refused to create the container: {_api_text(exc)}") from exc
        cid = created["Id"]
        try:
            api.start(cid)
        except APIError as exc:
            api.remove_container(cid, force=True, v=True)
            text = _api_text(exc)
            if "already allocated" in text or "address already in use" in text:
                busy = next(iter(ports), 0)
                host = bind_host or "0.0.0.0"
                raise PortInUse(busy, host, port_tools.find_free_port(busy, host=host, taken=set(ports))) from exc
            raise ContainerError(f"the container could not start: {text}", advise_start(text) or "") from exc
        data = api.inspect_container(cid)
    return info_from_inspect(data, cli=run_cli(image, ports, chosen, bind_host, command))


def list_containers(api: docker.APIClient, seat: str | None = None, all: bool = False) -> list[ContainerInfo]:
    """The tutor's containers (of one seat), running ones or ``all``."""
    with _engine_errors():
        found = api.containers(all=all, filters=tl.seat_filter(seat))
    cli = ps_cli(seat, all)
    return [info_from_summary(c, cli=cli) for c in found]


def _managed_container(api: docker.APIClient, container: str) -> ContainerInfo:
    info = inspect_container(api, container)
    _require_managed("container", info.name, info.labels)
    return info


def stop_container(api: docker.APIClient, container: str, timeout: int = STOP_TIMEOUT) -> ActionResult:
    info = _managed_container(api, container)
    args = [info.name] if timeout == STOP_TIMEOUT else ["-t", str(timeout), info.name]
    with _engine_errors():
        try:
            api.stop(info.id, timeout=timeout)
        except NotFound as exc:
            raise ContainerMissing(f"container {info.name} is gone") from exc
    return ActionResult("stop", info.name, cli_line("stop", *args))


def remove_container(api: docker.APIClient, container: str, force: bool = False) -> ActionResult:
    """Remove a tutor container; ``force`` also stops a running one (``docker rm -f``)."""
    info = _managed_container(api, container)
    with _engine_errors():
        try:
            api.remove_container(info.id, force=force, v=True)
        except NotFound as exc:
            raise ContainerMissing(f"container {info.name} is gone") from exc
        except APIError as exc:
            fix = "stop it first, or remove it with force (`docker rm -f`)" if exc.status_code == 409 else ""
            raise ContainerError(f"could not remove {info.name}: {_api_text(exc)}", fix) from exc
    return ActionResult("rm", info.name, cli_line("rm", *(["-f"] if force else []), info.name))


def _is_base_image(repo_tags: Iterable[str]) -> bool:
    return any(tag in COURSE_BASE_IMAGES for tag in repo_tags or ())


def remove_image(api: docker.APIClient, image: str, force: bool = False, seat: str | None = None) -> ActionResult:
    """``docker rmi IMAGE`` for an image the tutor built, else NotManaged.

    Removing an image also deletes its untagged parent layers that nothing else
    uses (the engine prunes them); shared cache layers stay.
    """
    data = image_config(api, image)
    image_labels = (data.get("Config") or {}).get("Labels") or {}
    if _is_base_image(data.get("RepoTags") or ()):
        raise NotManaged(
            f"refused: {image} is one of the course's base images ({', '.join(COURSE_BASE_IMAGES)}); "
            "the tutor never removes them",
        )
    _require_managed("image", image, image_labels)
    if seat and image_labels.get(tl.SEAT) != seat:
        raise NotManaged(f"refused: the image {image} belongs to seat {image_labels.get(tl.SEAT)!r}, not {seat!r}")
    with _engine_errors():
        try:
            answer = api.remove_image(image, force=force, noprune=_keeps_parents(api))
        except NotFound as exc:
            raise ImageMissing(f"no image {image} on this engine") from exc
        except APIError as exc:
            raise ContainerError(f"could not remove {image}: {_api_text(exc)}", _rmi_fix(exc)) from exc
    deleted = sum(1 for entry in answer or () if entry.get("Deleted"))
    return ActionResult("rmi", image, cli_line("rmi", *(["-f"] if force else []), image), f"{deleted} layers deleted")


def _rmi_fix(exc: APIError) -> str:
    text = _api_text(exc)
    if "child images" in text:
        return "remove the images built on top of it first"
    if "container" in text:
        return "remove the containers that use it first (`tutor clean` removes the tutor's)"
    return ""


def _exec_argv(command: str) -> list[str]:
    # Simple commands run as they are (works in images without a shell);
    # anything with shell syntax runs under /bin/sh -c, as a learner would expect.
    if _SHELL_CHARS.intersection(command):
        return ["/bin/sh", "-c", command]
    return shlex.split(command)


def exec_in(api: docker.APIClient, container: str, command: str) -> ExecResult:
    """``docker exec CONTAINER COMMAND``: its exit code and combined output."""
    argv = _exec_argv(command)
    if not argv:
        raise ContainerError("no command to run: give one, e.g. `ls /app`")
    info = inspect_container(api, container)
    cli = cli_line("exec", info.name, *(["sh", "-c", command] if argv[0] == "/bin/sh" else argv))
    with _engine_errors():
        try:
            exec_id = api.exec_create(info.id, argv, stdout=True, stderr=True)["Id"]
            raw = api.exec_start(exec_id, stream=False, demux=False)
            exit_code = api.exec_inspect(exec_id).get("ExitCode")
        except APIError as exc:
            fix = "start it first (`tutor run IMAGE --keep`)" if exc.status_code == 409 else ""
            raise ContainerError(f"could not run {command!r} in {info.name}: {_api_text(exc)}", fix) from exc
    output = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw or "")
    return ExecResult(int(exit_code if exit_code is not None else -1), output, cli)


class LogStream(Iterator[str]):
    """The container's output, one decoded line at a time.

    With ``follow`` it ends when the container stops; ``close()`` (from any
    thread) ends it early by closing the connection.
    """

    def __init__(self, api: docker.APIClient, container: str, follow: bool = True, tail: int | Literal["all"] = "all") -> None:
        self.container = container
        self.cli = cli_line("logs", *(["-f"] if follow else []), container)
        self._closed = threading.Event()
        with _engine_errors():
            try:
                self._stream = api.logs(container, stream=True, follow=follow, tail=tail)
            except NotFound as exc:
                raise ContainerMissing(f"no container {container} on this engine") from exc
        self._lines = self._read()

    def __iter__(self) -> LogStream:
        return self

    def __next__(self) -> str:
        return next(self._lines)

    def _read(self) -> Iterator[str]:
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        pending = ""
        try:
            for chunk in self._stream:
                pending += decoder.decode(chunk)
                *lines, pending = pending.split("\n")
                for line in lines:
                    yield line.rstrip("\r")
        except Exception:  # reading a closed connection raises; anything else is the engine gone
            if not self._closed.is_set():
                raise
            return
        finally:
            self._close_stream()
        pending += decoder.decode(b"", final=True)
        if pending:
            yield pending.rstrip("\r")

    def _close_stream(self) -> None:
        try:
            self._stream.close()
        except Exception:  # noqa: BLE001 - already closed
            pass

    def close(self) -> None:
        self._closed.set()
        self._close_stream()


def logs(api: docker.APIClient, container: str, follow: bool = True, tail: int | Literal["all"] = "all") -> LogStream:
    """``docker logs [-f] CONTAINER`` as an iterator of lines."""
    return LogStream(api, container, follow=follow, tail=tail)


def container_running(api: docker.APIClient, container: str) -> bool:
    try:
        return inspect_container(api, container).running
    except (ContainerError, DockerException, EngineUnavailable):
        return False


# --------------------------------------------------------------------------- cleanup


def _depths(api: docker.APIClient) -> dict[str, int]:
    """How many ancestors each image has: a child is always deeper than its parent."""
    parents = {i["Id"]: i.get("ParentId") or "" for i in api.images(all=True)}
    depths: dict[str, int] = {}

    def depth(image_id: str) -> int:
        chain = []
        cur = image_id
        while cur and cur not in depths and cur not in chain:
            chain.append(cur)
            cur = parents.get(cur, "")
        base = depths.get(cur, -1) if cur else -1
        for i, node in enumerate(reversed(chain), start=1):
            depths[node] = base + i
        return depths.get(image_id, 0)

    for image_id in parents:
        depth(image_id)
    return depths


def _keeps_parents(api: docker.APIClient) -> bool:
    """Remove an image without its untagged parents (they go through the seat's ledger instead)?

    On the containerd image store the engine deletes an image's untagged parents even when another
    image (another seat's build, which took them from the cache) still descends from them, and so
    empties that seat's cache. The classic store keeps parents that have other children itself.
    """
    return image_store(api) == "containerd"


def _remove_managed_image(api: docker.APIClient, image: Mapping) -> int:
    """Remove one listed image without force; return the number of ids deleted.

    Each tag is removed by name (removing by id would need force when an image
    has several tags, and force also strips images from stopped containers).
    """
    deleted = 0
    tags = [t for t in image.get("RepoTags") or () if t != "<none>:<none>"]
    for ref in tags or [image["Id"]]:
        answer = api.remove_image(ref, noprune=_keeps_parents(api))
        deleted += sum(1 for entry in answer or () if entry.get("Deleted"))
    return deleted


def _remove_built_leftovers(api: docker.APIClient, seats: Sequence[str], others: set[str]) -> tuple[int, list[str]]:
    """Remove the untagged images the seats' builds produced (their ledgers) that nothing kept needs.

    Kept: anything tagged, any ancestor of an image that stays, what ``others`` lists (another
    seat's builds produced it: its cache), and images a container uses (the engine refuses those).
    """
    mine = set().union(*(ledger.recorded(seat) for seat in seats)) if seats else set()
    if not mine:
        return 0, []
    listed = api.images(all=True)
    parents = {i["Id"]: i.get("ParentId") or "" for i in listed}
    short = {i["Id"]: i["Id"].split(":", 1)[-1][:12] for i in listed}
    leftovers = {
        i["Id"]
        for i in listed
        if short[i["Id"]] in mine
        and short[i["Id"]] not in others
        and not [t for t in i.get("RepoTags") or () if t != "<none>:<none>"]
    }
    protected: set[str] = set()
    for image_id in parents:
        if image_id in leftovers:
            continue
        cur = parents.get(image_id, "")
        while cur and cur not in protected:
            protected.add(cur)
            cur = parents.get(cur, "")
    doomed = leftovers - protected
    depths = _depths(api) if doomed else {}
    deleted, failures, gone = 0, [], set()
    for image_id in sorted(doomed, key=lambda i: depths.get(i, 0), reverse=True):  # children first
        try:
            answer = api.remove_image(image_id)
            deleted += sum(1 for entry in answer or () if entry.get("Deleted"))
            gone.add(short[image_id])
        except NotFound:
            gone.add(short[image_id])  # pruned with its child
        except APIError as exc:
            if exc.status_code != 409:  # 409: a container still uses it; it stays, and so does its entry
                failures.append(f"image {short[image_id]}: {_api_text(exc)}")
    on_engine = set(short.values())
    for seat in seats:
        ledger.forget(seat, gone | (mine - on_engine))
    return deleted, failures


def _remove_build_containers(api: docker.APIClient, seats: Sequence[str]) -> tuple[int, list[str]]:
    """Remove the stopped step containers the seats' builds ran (their ledgers) and return how many.

    The classic builder removes each step's container when the step ends; only an engine that died
    mid-build leaves one, exited, with the labels of the image it ran. A running one belongs to a
    build still going: it stays, and so does its entry.
    """
    removed, failures = 0, []
    for seat in seats:
        gone = []
        for short in sorted(ledger.recorded_containers(seat)):
            try:
                data = api.inspect_container(short)
            except NotFound:
                gone.append(short)
                continue
            except APIError as exc:
                failures.append(f"build container {short}: {_api_text(exc)}")
                continue
            if not str(data.get("Id", "")).startswith(short):
                gone.append(short)  # the id names some other object now: never touch it
                continue
            if (data.get("State") or {}).get("Running"):
                continue
            try:
                api.remove_container(data["Id"], force=True, v=True)
                removed += 1
                gone.append(short)
            except NotFound:
                gone.append(short)
            except APIError as exc:
                failures.append(f"build container {short}: {_api_text(exc)}")
        if gone:
            ledger.forget_containers(seat, gone)
    return removed, failures


def cleanup_seat(api: docker.APIClient, seat: str | None = None) -> CleanupResult:
    """Remove every container and image labelled ``io.tutor.managed=true`` (of ``seat``).

    What goes: the labelled containers (stopped first, with their anonymous
    volumes), then the labelled images, children before parents.  The engine
    deletes each removed image's untagged parent chain with it (the classic
    builder's intermediate step images), unless another image or a container
    still uses a layer: shared cache stays, and so does an image that another
    image is built on (reported in ``kept``).

    Also the stopped step containers the seat's builds ran (recorded in its ledger): an engine that
    died mid-build leaves them behind carrying only their image's labels.

    Then the untagged images the seat's builds produced (its ledger, tutor.engine.ledger): the
    step images the containerd image store keeps after their final image went, and the last
    image of a multi-stage build's earlier stages, which carries no label.

    What stays: anything else, so base images (the course's and its stand-ins), other people's
    objects, and what another seat's images or cache still use.
    """
    filters = tl.seat_filter(seat)
    removed_c = removed_i = deleted = 0
    kept: list[str] = []
    failures: list[str] = []
    with _engine_errors():
        for c in api.containers(all=True, filters=filters):
            name = (c.get("Names") or [c["Id"][:12]])[0].lstrip("/")
            try:
                api.remove_container(c["Id"], force=True, v=True)
                removed_c += 1
            except NotFound:
                pass  # went away meanwhile
            except APIError as exc:
                failures.append(f"container {name}: {_api_text(exc)}")

        left, left_failures = _remove_build_containers(api, [seat] if seat else ledger.seats())
        removed_c += left
        failures.extend(left_failures)

        images = [i for i in api.images(filters=filters) if not _is_base_image(i.get("RepoTags") or ())]
        depths = _depths(api) if len(images) > 1 else {}
        pending = sorted(images, key=lambda i: depths.get(i["Id"], 0), reverse=True)
        while pending:
            blocked: list[tuple[Mapping, APIError]] = []
            for image in pending:
                try:
                    deleted += _remove_managed_image(api, image)
                    removed_i += 1
                except NotFound:
                    removed_i += 1  # pruned with a child removed just before
                except APIError as exc:
                    blocked.append((image, exc))
            if len(blocked) == len(pending):  # no progress: what is left is in use
                for image, error in blocked:
                    ref = ((image.get("RepoTags") or [None])[0] or image["Id"][7:19])
                    text = _api_text(error)
                    if error.status_code == 409:
                        kept.append(f"{ref}: {text}")
                    else:
                        failures.append(f"image {ref}: {text}")
                break
            pending = [image for image, _ in blocked]

        if seat:
            # A seat with images on the engine keeps its cache; the leftovers of a seat cleaned
            # earlier, kept then only because this seat's images descended from them, may go now.
            active = {(i.get("Labels") or {}).get(tl.SEAT) for i in api.images(filters=tl.seat_filter(None))}
            others = [s for s in ledger.seats() if s != seat]
            still_needed: set[str] = set().union(*(ledger.recorded(s) for s in others if s in active))
            done = [s for s in others if s not in active]
            pruned, ledger_failures = _remove_built_leftovers(api, [seat, *done], still_needed)
        else:  # every seat: what one seat's builds share with another's goes too
            pruned, ledger_failures = _remove_built_leftovers(api, ledger.seats(), set())
        deleted += pruned
        failures.extend(ledger_failures)

    label_args = " ".join(f"--filter label={v}" for v in filters["label"])
    cli = (
        f"docker rm -f $(docker ps -aq {label_args}); "
        f"docker rmi $(docker images -q {label_args})"
    )
    return CleanupResult(removed_c, removed_i, deleted, tuple(kept), tuple(failures), cli)
