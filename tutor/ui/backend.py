"""Where builds come from: the real engine, or a replay of recorded real streams.

The UI only needs ``new_build(request)`` returning an object with
``events()`` and ``cancel()``, and ``check_engine()``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # the docker SDK loads when the first build or check runs, not at start-up
    from tutor.course.engine_exercise import EngineLooked, EngineWatchFailed
    from tutor.course.model import Exercise, Lesson
    from tutor.course.runner import BuildHandle
    from tutor.engine.build import Build, BuildRequest
    from tutor.engine.doctor import DoctorReport
    from tutor.engine.engine_state import EngineSnapshot


class Backend(Protocol):
    engine: str | None

    def new_build(self, request: BuildRequest) -> BuildHandle: ...

    def check_engine(self) -> DoctorReport: ...

    def watch_exercise(
        self, lesson: Lesson, exercise: Exercise, workspace: Path | None, stop: threading.Event, seat: str | None = None
    ) -> Iterator[EngineLooked | EngineWatchFailed]: ...


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

    def watch_exercise(
        self, lesson: Lesson, exercise: Exercise, workspace: Path | None, stop: threading.Event, seat: str | None = None
    ) -> Iterator[EngineLooked | EngineWatchFailed]:
        """The checks of an exercise done with the docker CLI, each time the engine changes."""
        from tutor.course.engine_exercise import watch_engine_exercise

        return watch_engine_exercise(lesson, exercise, workspace, stop, engine=self.engine, seat=seat)


class ReplayBackend:
    """Replays recordings of real builds, in order, one per build (the last one repeats)."""

    def __init__(
        self,
        recordings: list[Path],
        report: DoctorReport,
        speed: float = 0.0,
        snapshots: list[EngineSnapshot] | None = None,
    ) -> None:
        self.engine = None
        self.recordings = list(recordings)
        self.report = report
        self.speed = speed
        self.requests: list[BuildRequest] = []
        # Snapshots recorded from a real engine, handed one at a time by ``engine_changed()``.
        self.snapshots = list(snapshots or [])
        self._changed = threading.Semaphore(0)

    def new_build(self, request: BuildRequest):
        from tutor.engine.replay import ReplayBuild

        self.requests.append(request)
        index = min(len(self.requests) - 1, len(self.recordings) - 1)
        return ReplayBuild(self.recordings[index], speed=self.speed)

    def check_engine(self) -> DoctorReport:
        return self.report

    def engine_changed(self) -> None:
        """The next recorded snapshot is what the engine holds now."""
        self._changed.release()

    def watch_exercise(
        self, lesson: Lesson, exercise: Exercise, workspace: Path | None, stop: threading.Event, seat: str | None = None
    ) -> Iterator[EngineLooked | EngineWatchFailed]:
        from tutor.course.engine_exercise import EngineLooked, dockerfile_of, exercise_names, exercise_objects, judge

        names = exercise_names(lesson.exercises)
        index = 0
        while index < len(self.snapshots) and not stop.is_set():
            snapshot = self.snapshots[index]
            results = judge(exercise, snapshot, dockerfile_of(exercise, workspace), workspace)
            yield EngineLooked(tuple(results), exercise_objects(snapshot, names), "replay", snapshot)
            while not stop.is_set() and not self._changed.acquire(timeout=0.05):
                pass
            index += 1


__all__ = ["Backend", "EngineBackend", "ReplayBackend"]
