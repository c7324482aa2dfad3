"""Where builds come from: the real engine, or a replay of recorded real streams.

The UI only needs ``new_build(request)`` returning an object with
``events()`` and ``cancel()``, and ``check_engine()``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # the docker SDK loads when the first build or check runs, not at start-up
    from tutor.course.runner import BuildHandle
    from tutor.engine.build import Build, BuildRequest
    from tutor.engine.doctor import DoctorReport


class Backend(Protocol):
    engine: str | None

    def new_build(self, request: BuildRequest) -> BuildHandle: ...

    def check_engine(self) -> DoctorReport: ...


class EngineBackend:
    """Real builds on a real engine (DOCKER_HOST, the active context, or ``engine``)."""

    def __init__(self, engine: str | None = None) -> None:
        self.engine = engine

    def new_build(self, request: BuildRequest) -> Build:
        from tutor.engine.build import Build

        if request.engine is None and self.engine is not None:
            from dataclasses import replace

            request = replace(request, engine=self.engine)
        return Build(request)

    def check_engine(self) -> DoctorReport:
        from tutor.engine.doctor import check

        return check(self.engine)


class ReplayBackend:
    """Replays recordings of real builds, in order, one per build (the last one repeats)."""

    def __init__(self, recordings: list[Path], report: DoctorReport, speed: float = 0.0) -> None:
        self.engine = None
        self.recordings = list(recordings)
        self.report = report
        self.speed = speed
        self.requests: list[BuildRequest] = []

    def new_build(self, request: BuildRequest):
        from tutor.engine.replay import ReplayBuild

        self.requests.append(request)
        index = min(len(self.requests) - 1, len(self.recordings) - 1)
        return ReplayBuild(self.recordings[index], speed=self.speed)

    def check_engine(self) -> DoctorReport:
        return self.report


__all__ = ["Backend", "EngineBackend", "ReplayBackend"]
