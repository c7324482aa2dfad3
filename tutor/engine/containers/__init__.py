"""Running what was built: run, list, exec, logs, stop, remove, and cleaning a seat up.

One package, one module per job: ``model`` (errors, results, containers as the engine describes
them), ``cli`` (the ``docker`` line behind each action), ``actions`` (run, list, inspect, stop,
remove, exec, over ``docker.APIClient``, and the safety rules), ``logs`` (a container's output as
lines) and ``cleanup`` (a seat's containers and images, and what its builds left). Callers use the
names below, as ``tutor.engine.containers.NAME``.
"""

from tutor.engine.containers.actions import (
    check_ports_free,
    container_name,
    container_running,
    exec_in,
    exposed_ports,
    image_config,
    inspect_container,
    list_containers,
    remove_container,
    remove_image,
    run_container,
    stop_container,
)
from tutor.engine.containers.cleanup import cleanup_seat
from tutor.engine.containers.cli import cli_line, ps_cli, publish_flag, run_cli
from tutor.engine.containers.logs import LogStream, logs
from tutor.engine.containers.model import (
    DEFAULT_BIND,
    STOP_TIMEOUT,
    ActionResult,
    CleanupResult,
    ContainerError,
    ContainerInfo,
    ContainerMissing,
    ExecResult,
    ImageMissing,
    NotManaged,
    PortBinding,
    PortInUse,
    info_from_inspect,
    info_from_summary,
)

__all__ = [
    "DEFAULT_BIND",
    "STOP_TIMEOUT",
    "ActionResult",
    "CleanupResult",
    "ContainerError",
    "ContainerInfo",
    "ContainerMissing",
    "ExecResult",
    "ImageMissing",
    "LogStream",
    "NotManaged",
    "PortBinding",
    "PortInUse",
    "check_ports_free",
    "cleanup_seat",
    "cli_line",
    "container_name",
    "container_running",
    "exec_in",
    "exposed_ports",
    "image_config",
    "info_from_inspect",
    "info_from_summary",
    "inspect_container",
    "list_containers",
    "logs",
    "ps_cli",
    "publish_flag",
    "remove_container",
    "remove_image",
    "run_cli",
    "run_container",
    "stop_container",
]
