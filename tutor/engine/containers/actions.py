"""Run, list, inspect, stop, remove and exec: the container actions, over ``docker.APIClient``.

Every container started carries the tutor's labels, and every result carries the ``docker``
command line that does the same thing.

Safety rules kept here rather than in callers:
- containers run unprivileged, with no host mounts, published on 127.0.0.1 by
  default (``bind_host="0.0.0.0"`` opens them to the network on purpose);
- only objects labelled ``io.tutor.managed=true`` are stopped or removed;
  the course's base images are never removed, whatever their labels.
"""

from __future__ import annotations

import dataclasses
import secrets
import shlex
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager

import docker
from docker.errors import APIError, DockerException, NotFound
from requests.exceptions import RequestException

from tutor.engine import labels as tl
from tutor.engine import ports as port_tools
from tutor.engine import seat_rules
from tutor.engine.baseimages import COURSE_BASE_IMAGES
from tutor.engine.client import EngineUnavailable, diagnose, engine_url
from tutor.engine.containers.cli import cli_line, ps_cli, run_cli
from tutor.engine.containers.model import (
    DEFAULT_BIND,
    STOP_TIMEOUT,
    ActionResult,
    ContainerError,
    ContainerInfo,
    ContainerMissing,
    ExecResult,
    ImageMissing,
    NotManaged,
    PortInUse,
    _exposed,
    info_from_inspect,
    info_from_summary,
)
from tutor.engine.failures import advise_start
from tutor.engine.image_size import image_store

_SHELL_CHARS = set("|&;<>()$`\\\"'*?[]{}~#\n")
_LOCAL_ENGINES = ("http+docker://localhost", "http+docker://localnpipe")


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
    seat = seat or (labels or {}).get(tl.SEAT)
    if not seat:  # the caller knows its seat: a guess could label the container as another's
        raise ContainerError("no seat given for the container: pass seat= (or its io.tutor.seat label)")
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


def container_running(api: docker.APIClient, container: str) -> bool:
    try:
        return inspect_container(api, container).running
    except (ContainerError, DockerException, EngineUnavailable):
        return False


def _keeps_parents(api: docker.APIClient) -> bool:
    """Remove an image without its untagged parents (they go through the seat's ledger instead)?

    On the containerd image store the engine deletes an image's untagged parents even when another
    image (another seat's build, which took them from the cache) still descends from them, and so
    empties that seat's cache. The classic store keeps parents that have other children itself.
    """
    return image_store(api) == "containerd"
