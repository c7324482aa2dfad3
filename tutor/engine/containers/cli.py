"""The ``docker`` command lines that do what each container action does: the learner sees the CLI."""

from __future__ import annotations

import shlex
from collections.abc import Mapping

from tutor.engine import labels as tl
from tutor.engine.containers.model import DEFAULT_BIND


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
