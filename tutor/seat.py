"""The seat a tutor process serves: its name, its folders, and a workshop's rules and ports.

A ``Seat`` is made once where a process starts (the app, a command) and passed down; nothing
below needs to read the environment for it. ``Seat.from_environment()`` is how a process learns
it: ``TUTOR_SEAT`` (default ``local``), and for a workshop seat ``TUTOR_SEAT_RULES=kiosk`` and
``TUTOR_SEAT_PORTS=low-high``, which a kiosk or a browser seat sets for itself and the processes
it starts.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from tutor import paths

ENV_SEAT = "TUTOR_SEAT"
ENV_RULES = "TUTOR_SEAT_RULES"  # "kiosk": the workshop rules
ENV_PORTS = "TUTOR_SEAT_PORTS"  # "18760-18769": the seat's host ports
_WORKSHOP_WORDS = ("kiosk", "browser", "workshop", "1", "true")


@dataclass(frozen=True)
class Seat:
    name: str = "local"  # safe for labels and tags
    workshop: bool = False  # a kiosk or browser seat: builds and containers follow the workshop rules
    port_range: tuple[int, int] | None = None  # the host ports its containers may publish
    engine: str | None = None  # the engine's URL; None: DOCKER_HOST or the active context

    @classmethod
    def from_environment(cls, engine: str | None = None) -> Seat:
        return cls(paths.seat_name(), workshop_rules(), port_range_setting(), engine)

    @property
    def folder(self) -> Path:
        return paths.seat_dir(self.name)

    @property
    def workspace(self) -> Path:
        """Where the learner's copies of exercise files live."""
        return paths.workspace_dir(self.name)

    @property
    def progress_file(self) -> Path:
        return paths.progress_file(self.name)


def workshop_rules() -> bool:
    """True when this process serves a workshop seat (a kiosk or a browser seat)."""
    return os.environ.get(ENV_RULES, "").strip().lower() in _WORKSHOP_WORDS


def port_range_setting() -> tuple[int, int] | None:
    """The seat's host port range, when it has one."""
    m = re.fullmatch(r"\s*(\d{1,5})\s*-\s*(\d{1,5})\s*", os.environ.get(ENV_PORTS, ""))
    if not m:
        return None
    low, high = int(m.group(1)), int(m.group(2))
    return (low, high) if low <= high else (high, low)
