"""What the container actions answer: their errors and results, and containers as the engine describes them.

``info_from_inspect`` and ``info_from_summary`` read the engine's answers (an inspect, a listing
entry) into a ``ContainerInfo``. No engine calls here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

DEFAULT_BIND = "127.0.0.1"
STOP_TIMEOUT = 10  # seconds, as `docker stop`


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
