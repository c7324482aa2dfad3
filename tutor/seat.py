"""The seat a tutor process serves: its name, its folders, and a workshop's rules and ports.

A ``Seat`` is made once where a process starts (the app, a command) and passed down; nothing
below needs to read the environment for it. ``Seat.from_environment()`` is how a process learns
it: ``TUTOR_SEAT`` (default ``local``), ``TUTOR_HOME`` (its folders), and for a workshop seat
``TUTOR_SEAT_RULES=kiosk`` and ``TUTOR_SEAT_PORTS=low-high``. A process never changes its own
seat: a kiosk or a browser seat starts the process that serves a seat with ``env=`` set by
``Seat.environment()``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tutor import paths

if TYPE_CHECKING:
    from tutor.engine.build_queue import BuildQueue

ENV_SEAT = "TUTOR_SEAT"
ENV_RULES = "TUTOR_SEAT_RULES"  # "kiosk": the workshop rules
ENV_PORTS = "TUTOR_SEAT_PORTS"  # "18760-18769": the seat's host ports
ENV_HOME = paths.ENV_HOME
ENV_QUEUE = "TUTOR_BUILD_QUEUE"  # "2:/srv/room/.build-queue/e1": its engine's line of builds
_WORKSHOP_WORDS = ("kiosk", "browser", "workshop", "1", "true")


@dataclass(frozen=True)
class Seat:
    name: str = "local"  # safe for labels and tags
    workshop: bool = False  # a kiosk or browser seat: builds and containers follow the workshop rules
    port_range: tuple[int, int] | None = None  # the host ports its containers may publish
    engine: str | None = None  # the engine's URL; None: DOCKER_HOST or the active context
    home: Path | None = None  # every user folder under it (TUTOR_HOME); None: the platform's folders
    build_queue: BuildQueue | None = None  # a pool engine's line of builds; None: build at once

    @classmethod
    def from_environment(cls, engine: str | None = None, environ: Mapping[str, str] | None = None) -> Seat:
        from tutor.engine.build_queue import BuildQueue

        env = os.environ if environ is None else environ
        home = env.get(ENV_HOME)
        return cls(
            paths.clean_seat_name(env.get(ENV_SEAT, "local")),
            workshop_rules(env),
            port_range_setting(env),
            engine,
            Path(home).expanduser() if home else None,
            BuildQueue.from_setting(env.get(ENV_QUEUE, "")),
        )

    def environment(self, base: Mapping[str, str]) -> dict[str, str]:
        """``base`` with this seat's settings in place of any it had: the ``env=`` of a process
        that is to serve this seat (``from_environment`` there gives this seat back)."""
        env = {k: v for k, v in base.items() if k not in (ENV_SEAT, ENV_RULES, ENV_PORTS, ENV_HOME, ENV_QUEUE)}
        env[ENV_SEAT] = self.name
        if self.build_queue is not None:
            env[ENV_QUEUE] = self.build_queue.setting()
        if self.workshop:
            env[ENV_RULES] = "kiosk"
        if self.port_range is not None:
            low, high = self.port_range
            env[ENV_PORTS] = f"{int(low)}-{int(high)}"
        if self.home is not None:
            env[ENV_HOME] = str(self.home)
        return env

    @property
    def folder(self) -> Path:
        return paths.seat_dir(self.name, home=self.home)

    @property
    def workspace(self) -> Path:
        """Where the learner's copies of exercise files live."""
        return paths.workspace_dir(self.name, home=self.home)

    @property
    def progress_file(self) -> Path:
        return paths.progress_file(self.name, home=self.home)


def workshop_rules(environ: Mapping[str, str] | None = None) -> bool:
    """True when the environment describes a workshop seat (a kiosk or a browser seat)."""
    env = os.environ if environ is None else environ
    return env.get(ENV_RULES, "").strip().lower() in _WORKSHOP_WORDS


def port_range_setting(environ: Mapping[str, str] | None = None) -> tuple[int, int] | None:
    """The seat's host port range, when the environment gives one."""
    env = os.environ if environ is None else environ
    m = re.fullmatch(r"\s*(\d{1,5})\s*-\s*(\d{1,5})\s*", env.get(ENV_PORTS, ""))
    if not m:
        return None
    low, high = int(m.group(1)), int(m.group(2))
    return (low, high) if low <= high else (high, low)
