"""Run a real build on the engine and stream typed events as it happens.

``Build(request)`` is the one door: it picks a backend (``tutor.engine.builders``) and every
backend yields the same events (``tutor.engine.events``): the classic builder
(``tutor.engine.classic``), BuildKit through buildx (``tutor.engine.buildkit.buildx``) or through
the engine's own build API (``tutor.engine.buildkit.api``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tutor.engine.build_queue import BuildQueue
from tutor.engine.events import BuildEvent, BuildFailed

CLASSIC, BUILDKIT, AUTO = "classic", "buildkit", "auto"
BUILDERS = (AUTO, BUILDKIT, CLASSIC)


@dataclass(frozen=True)
class BuildRequest:
    context: Path
    dockerfile: str | Path | None = None  # relative to the context, or absolute
    tag: str | None = None
    nocache: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)
    engine: str | None = None  # engine URL; None: DOCKER_HOST or the active context
    builder: str = CLASSIC  # auto | buildkit | classic: what the caller was told to use
    target: str | None = None  # the stage to build (`docker build --target`); None: the last one
    queue: BuildQueue | None = None  # a workshop engine's line of builds; None: build at once


COURSE_BUILDER = AUTO  # what the app and the exercises build with when nobody chose: what `docker build` uses


def default_builder(fallback: str = COURSE_BUILDER) -> str:
    """For a process's entry point: ``TUTOR_BUILDER`` (auto, buildkit, classic), else ``fallback``.

    Read once where a command or the app starts, and passed down from there."""
    chosen = os.environ.get("TUTOR_BUILDER", "").strip().lower()
    return chosen if chosen in BUILDERS else fallback


PROGRESS_EVERY = 0.1  # seconds between two context progress events
TICK = 1.0  # seconds: how often a silent build is looked at


class BuildCancelled(Exception):
    pass


class Build:
    """One build.  Iterate ``events()`` in a worker; ``cancel()`` from any thread.

    ``builder`` says which builder ran it ("classic" or "buildkit"), ``via`` through what
    ("classic", "buildx" or "api"); both are known once ``events()`` has started.
    """

    def __init__(
        self,
        request: BuildRequest,
        clock: Callable[[], float] = time.monotonic,
        on_chunk: Callable[[float, object], None] | None = None,
    ) -> None:
        self.request = request
        self._clock = clock
        self._on_chunk = on_chunk
        self._backend = None
        self._cancelled = False
        self.builder = CLASSIC if request.builder == CLASSIC else None
        self.via: str | None = None
        self.note: str | None = None  # why auto fell back to the classic builder

    @property
    def cancelled(self) -> bool:
        backend = self._backend
        return self._cancelled or (backend is not None and backend.cancelled)

    def cancel(self) -> None:
        self._cancelled = True
        backend = self._backend
        if backend is not None:
            backend.cancel()

    def events(self) -> Iterator[BuildEvent]:
        queue = self.request.queue
        if queue is None:
            yield from self._events()
            return
        from tutor.engine.build_queue import leave, wait_turn

        ticket = yield from wait_turn(queue, lambda: self.cancelled)
        if ticket is None:
            yield BuildFailed("Build cancelled while it waited for its turn.", cancelled=True)
            return
        try:
            yield from self._events()
        finally:
            leave(ticket)

    def _events(self) -> Iterator[BuildEvent]:
        from tutor.engine.builders import choose

        choice = choose(self.request.builder, self.request.engine)
        if choice.refusal is not None:
            yield choice.refusal
            return
        self.builder, self.via, self.note = choice.builder, choice.via, choice.note
        self._backend = choice.backend(self.request, clock=self._clock, on_chunk=self._on_chunk)
        if self._cancelled:
            yield BuildFailed("Build cancelled.", cancelled=True)
            return
        assert self._backend is not None
        yield from self._backend.events()


def build(request: BuildRequest) -> Iterator[BuildEvent]:
    """Convenience: the events of a new build of ``request``."""
    return Build(request).events()
