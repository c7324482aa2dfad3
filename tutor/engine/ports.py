"""Host ports: is one free, which free one to offer instead, and reading `-p` mappings.

A busy host port is found here, before a container is created, so the learner
gets "8080 is in use, try 8081" instead of the engine's "port is already
allocated" after the fact.
"""

from __future__ import annotations

import errno
import re
import socket
from collections.abc import Collection, Iterable

MIN_PORT, MAX_PORT = 1, 65535
# How far past the preferred port to look before asking the OS for any free one.
SEARCH_SPAN = 200

_MAPPING_RE = re.compile(r"^(?:(?P<host>[^:]*):)?(?P<container>[^:/]*)(?:/(?P<proto>[a-z]+))?$")
_EXAMPLE = "use HOST:CONTAINER, e.g. -p 8080:8080"


def is_port_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when a TCP listener could bind ``host:port`` right now.

    Binding (rather than connecting) also catches a port that something holds
    without answering, and a listener on 0.0.0.0 blocks 127.0.0.1 as well.
    SO_REUSEADDR ignores sockets that are merely closing (TIME_WAIT), as the
    engine itself does.
    """
    if not MIN_PORT <= port <= MAX_PORT:
        return False
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def any_free_port(host: str = "127.0.0.1") -> int:
    """A port the OS says is free now (from its ephemeral range)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def find_free_port(
    preferred: int,
    candidates: Iterable[int] | None = None,
    host: str = "127.0.0.1",
    taken: Collection[int] = (),
) -> int:
    """``preferred`` when it is free, else the first free one of ``candidates``.

    ``candidates`` defaults to the ports just above ``preferred`` (8081, 8082 ...
    are easier to remember than a random one); ``taken`` are ports known busy
    by other means (ports the engine publishes without a listening proxy).
    When none is free, any free port the OS offers.
    """
    if candidates is None:
        candidates = range(preferred + 1, min(preferred + SEARCH_SPAN, MAX_PORT) + 1)
    for port in (preferred, *candidates):
        if port not in taken and is_port_free(port, host):
            return port
    while True:  # the OS's choice can still clash with `taken`: ask again
        port = any_free_port(host)
        if port not in taken:
            return port


def _port_number(text: str, side: str, spec: str) -> int:
    if not text:
        raise ValueError(f"{spec!r}: the {side} port is missing; {_EXAMPLE}")
    if not text.isdigit():
        raise ValueError(f"{spec!r}: the {side} port {text!r} is not a number; {_EXAMPLE}")
    port = int(text)
    if not MIN_PORT <= port <= MAX_PORT:
        raise ValueError(f"{spec!r}: the {side} port {port} is out of range ({MIN_PORT}-{MAX_PORT})")
    return port


def parse_mapping(spec: str) -> tuple[int, int]:
    """``"8080:8080"`` -> (host 8080, container 8080).

    One number alone is refused with what Docker makes of it: ``docker run -p 8080`` publishes
    container port 8080 on a random host port, so a shorthand meaning "the same number on both
    sides" would teach the wrong thing. ``/tcp`` may follow; other protocols and host addresses
    (``127.0.0.1:8080:8080``) are refused with a message.
    """
    text = str(spec).strip()
    match = _MAPPING_RE.match(text)
    if not text or match is None:
        if text.count(":") >= 2:
            raise ValueError(
                f"{spec!r}: give only HOST:CONTAINER ports here; the address the port is published on "
                "is chosen separately (127.0.0.1 by default)"
            )
        raise ValueError(f"{spec!r} is not a port mapping; {_EXAMPLE}")
    proto = match.group("proto")
    if proto is not None and proto != "tcp":
        raise ValueError(f"{spec!r}: only TCP ports can be published here, not {proto}")
    container = _port_number(match.group("container"), "container", text)
    host_text = match.group("host")
    if host_text is None:
        raise ValueError(
            f"{spec!r}: `docker run -p {container}` publishes container port {container} on a random host "
            f"port; give both sides, e.g. {container}:{container}"
        )
    return _port_number(host_text, "host", text), container


def engine_published_ports(api) -> set[int]:
    """Host ports that the engine's running containers publish (anyone's, read-only)."""
    taken: set[int] = set()
    try:
        summaries = api.containers()
    except Exception:  # noqa: BLE001 - the listing only sharpens the free-port check; its failure must not stop a run
        return taken
    for summary in summaries:
        for port in summary.get("Ports") or ():
            if port.get("PublicPort"):
                taken.add(int(port["PublicPort"]))
    return taken
