"""What a workshop seat may build and run.

- A build context must lie inside the seat's workspace, and no symlink in it may
  point outside: the scenario runs copy the workspace (following links), and the
  engine receives what the context holds, so a link to ``/etc`` or another seat's
  files would leak them into an image.
- Containers run unprivileged, with no host mounts, published on 127.0.0.1 only,
  on host ports from the seat's configured range (``tutor.engine.containers``
  already refuses privileged containers and has no bind mounts; the range is
  enforced here).
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from pathlib import Path

from tutor.course.runner import ExerciseFinished, ExerciseRun, RunEvent
from tutor.engine import labels
from tutor.engine.events import BuildFailed

LOOPBACK = "127.0.0.1"


class UnsafeContext(Exception):
    """The build context reaches outside the seat's workspace; ``fix`` says what to do."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix


def is_within(path: Path | str, root: Path | str) -> bool:
    """True when ``path`` (resolved, links followed) is ``root`` or lies below it."""
    real, base = os.path.realpath(path), os.path.realpath(root)
    return real == base or real.startswith(base.rstrip(os.sep) + os.sep)


def check_build_context(context: Path, workspace_root: Path, dockerfile: str | Path | None = None) -> None:
    """Raise UnsafeContext unless ``context`` (and every link in it) stays inside ``workspace_root``."""
    context, root = Path(context), Path(workspace_root)
    fix = "remove the link (or copy the file into the exercise folder instead of linking to it), then build again"
    if not is_within(context, root):
        raise UnsafeContext(
            f"the build context {context} lies outside this seat's workspace {root}: builds are refused",
            "build the exercise from its folder in the workspace (reopen the lesson to make it again)",
        )
    if dockerfile is not None:
        df = Path(dockerfile)
        df = df if df.is_absolute() else context / df
        if (df.is_symlink() or df.exists()) and not is_within(df, root):
            raise UnsafeContext(f"the Dockerfile {df} points outside this seat's workspace {root}", fix)
    for dirpath, dirnames, filenames in os.walk(context):  # never follows links: each is checked instead
        for name in dirnames + filenames:
            entry = Path(dirpath, name)
            if entry.is_symlink() and not is_within(entry, root):
                shown = entry.relative_to(context)
                target = os.readlink(entry)
                raise UnsafeContext(
                    f"{shown} is a symbolic link to {target}, outside this seat's workspace: the build is refused",
                    fix,
                )


def port_candidates(port_range: tuple[int, int], rng: random.Random | None = None) -> list[int]:
    """Every port of the range, starting at a random one: seats sharing a range rarely collide."""
    low, high = port_range
    ports = list(range(low, high + 1))
    start = (rng or random).randrange(len(ports))
    return ports[start:] + ports[:start]


class SeatExerciseRun(ExerciseRun):
    """An exercise run with the seat's rules: context inside the workspace, ports from the range."""

    def __init__(self, *args, workspace_root: Path, port_range: tuple[int, int], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.workspace_root = Path(workspace_root)
        self.port_range = port_range

    def events(self) -> Iterator[RunEvent]:
        try:
            check_build_context(self.workspace, self.workspace_root, self.exercise.dockerfile)
        except UnsafeContext as exc:
            yield BuildFailed(exc.message, fix=exc.fix)
            yield ExerciseFinished(False, (), 0.0, (), self.tag)
            return
        yield from super().events()

    def _start_container(self, image: str, container_port: int) -> tuple[str, int | None]:
        # Same as ExerciseRun's, with host ports taken from the seat's range only.
        from tutor.engine import containers, engine_probe, ports
        from tutor.engine.client import thread_client

        if engine_probe.engine_side(self.engine):
            return super()._start_container(image, container_port)  # nothing published: no port to take
        api = thread_client(self.engine)
        taken = ports.engine_published_ports(api)
        for host_port in port_candidates(self.port_range):
            if host_port in taken or not ports.is_port_free(host_port, LOOPBACK):
                continue
            try:
                info = containers.run_container(
                    api,
                    image,
                    ports={host_port: container_port},
                    labels=labels.managed_labels(self.seat, self.lesson_id, kind="container"),
                    seat=self.seat,
                    lesson=self.lesson_id,
                    bind_host=LOOPBACK,
                )
            except containers.PortInUse:
                continue  # another seat took it between the check and the start
            with self._lock:
                self._containers.append(info.id)
            return info.id, host_port
        low, high = self.port_range
        raise RuntimeError(f"every host port of this seat's range {low}-{high} is in use: ask the instructor")
