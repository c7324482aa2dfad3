"""Builds per engine, in turn: a workshop's engine takes a few builds at once, and the others wait
in line, each told how many builds are ahead of it.

Every seat is a process of its own, so the line is a folder shared by the seats of one engine: a
build waits with a ticket in it (named by when it came, then its process), and may start once
fewer than ``slots`` live tickets came before it. A ticket whose process is gone (killed, its tab
closed) no longer counts, so a crash never blocks the room. Waiting is looking at the folder again
every ``POLL`` seconds: it is the state of other processes, and they say nothing when they end.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path

from tutor.engine.events import BuildQueued

POLL = 0.5  # seconds between two looks at the line
SETTING_SEPARATOR = ":"  # "2:/path/to/line": slots, then the folder (which may hold ':')


@dataclass(frozen=True)
class BuildQueue:
    folder: Path  # shared by every seat that builds on one engine
    slots: int  # builds the engine takes at once

    @classmethod
    def from_setting(cls, text: str) -> BuildQueue | None:
        """``"2:/srv/room/.build-queue/e1"``; None when it is not one (no line: build at once)."""
        slots, _, folder = text.partition(SETTING_SEPARATOR)
        if not slots.strip().isdigit() or int(slots) < 1 or not folder.strip():
            return None
        return cls(Path(folder.strip()), int(slots))

    def setting(self) -> str:
        return f"{self.slots}{SETTING_SEPARATOR}{self.folder}"


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: it exists
    return True


def _pid(ticket: Path) -> int:
    parts = ticket.name.split("-")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def ahead_of(ticket: Path) -> int:
    """How many live tickets came before ``ticket`` (building or waiting)."""
    ahead = 0
    try:
        names = sorted(p.name for p in ticket.parent.iterdir() if p.name.endswith(".ticket"))
    except OSError:
        return 0  # the line is gone: nobody to wait for
    for name in names:
        if name >= ticket.name:
            break
        if _alive(_pid(ticket.parent / name)):
            ahead += 1
    return ahead


def wait_turn(
    queue: BuildQueue,
    cancelled: Callable[[], bool],
    sleep: Callable[[float], None] = time.sleep,
) -> Generator[BuildQueued, None, Path | None]:
    """Take a ticket and wait until fewer than ``slots`` builds are ahead of it; yields a
    :class:`BuildQueued` each time the count changes, and returns the ticket (give it back with
    :func:`leave`), or None when cancelled while waiting (the ticket is then given back)."""
    queue.folder.mkdir(parents=True, exist_ok=True)
    name = f"{time.time_ns():020d}-{os.getpid()}-{threading.get_ident()}-{uuid.uuid4().hex[:8]}.ticket"
    ticket = queue.folder / name
    ticket.touch()
    shown: int | None = None
    try:
        while True:
            if cancelled():
                leave(ticket)
                return None
            ahead = ahead_of(ticket)
            if ahead < queue.slots:
                return ticket
            if ahead != shown:
                shown = ahead
                yield BuildQueued(ahead, queue.slots)
            sleep(POLL)
    except BaseException:
        leave(ticket)
        raise


def leave(ticket: Path | None) -> None:
    """The build ended (or never started): the next one in line may go."""
    if ticket is None:
        return
    try:
        ticket.unlink()
    except OSError:
        pass  # already gone: a seat reset removed the line
