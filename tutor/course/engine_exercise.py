"""Exercises the learner does with the docker CLI: the tutor watches the engine and judges it.

``judge(exercise, snapshot, dockerfile)`` is pure: the exercise's checks over one snapshot of the
engine. ``watch_engine_exercise`` reads a snapshot at the start and after each change the
engine's events announce (``engine.engine_events``), and yields ``EngineLooked`` whenever what
the checks say changed. ``exercise_objects`` names what on the engine is the exercise's (the tags
and container names its checks ask for): the learner's own commands label nothing, so these
names are how they are found, listed, and removed on request (``remove_exercise_objects``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from tutor.course.checks import CheckResult, Evidence, engine_asks, evaluate
from tutor.course.checks.engine import ContainerSpec
from tutor.course.model import Exercise, Lesson
from tutor.engine.engine_state import EngineAsks, EngineSnapshot, normal_tag
from tutor.engine.record import BuildRecord


@dataclass(frozen=True)
class EngineLooked:
    """What the checks found on the engine, each time it changed."""

    type: ClassVar[str] = "engine_looked"
    results: tuple[CheckResult, ...]
    objects: tuple[str, ...]  # the exercise's images and containers, one line each
    reason: str = ""  # what woke the watcher: "start", "container start hello"
    snapshot: EngineSnapshot | None = field(default=None, compare=False, repr=False)

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(r.passed for r in self.results)


@dataclass(frozen=True)
class EngineWatchFailed:
    type: ClassVar[str] = "engine_watch_failed"
    message: str


def dockerfile_of(exercise: Exercise, workspace: Path | None) -> str:
    """The Dockerfile the learner builds with `docker build .`: the workspace's, else the shipped one."""
    folders = [workspace] if workspace is not None else []
    folders += [d for d in (exercise.solution_dir, exercise.base_dir) if d is not None]
    for folder in folders:
        try:
            return (folder / exercise.dockerfile).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
    return ""


def judge(exercise: Exercise, snapshot: EngineSnapshot | None, dockerfile: str, context: Path | None = None) -> list[CheckResult]:
    evidence = Evidence(
        record=BuildRecord(),
        dockerfile=dockerfile,
        context=context or Path("."),
        dockerfile_name=exercise.dockerfile,
        engine=snapshot,
    )
    return [evaluate(check, evidence) for check in exercise.checks]


def asks_of(exercises: Iterable[Exercise]) -> EngineAsks:
    merged = EngineAsks()
    for exercise in exercises:
        merged = merged | engine_asks(exercise.checks)
    return merged


@dataclass(frozen=True)
class ExerciseNames:
    """The tags and container names a lesson's engine exercises ask the learner to make."""

    tags: tuple[str, ...] = ()
    names: tuple[str, ...] = ()


def exercise_names(exercises: Iterable[Exercise]) -> ExerciseNames:
    tags: dict[str, None] = {}
    names: dict[str, None] = {}
    for exercise in exercises:
        if not exercise.watches_engine:
            continue
        for check in exercise.checks:
            argument = check.argument
            if isinstance(argument, ContainerSpec):
                if argument.image:
                    tags[normal_tag(argument.image)] = None
                if argument.name:
                    names[argument.name] = None
            elif isinstance(argument, str):
                tags[normal_tag(argument)] = None
    return ExerciseNames(tuple(tags), tuple(names))


def exercise_objects(snapshot: EngineSnapshot, names: ExerciseNames) -> tuple[str, ...]:
    """One line per image and container of the exercise on the engine, as `docker images` and
    `docker ps -a` would name them."""
    lines: list[str] = []
    for image in snapshot.images:
        shown = [t for t in image.tags if t in names.tags]
        if shown:
            lines.append(f"image {', '.join(shown)} ({image.short_id})")
    seen: set[str] = set()
    for container in snapshot.containers:
        if container.name in names.names or any(container in snapshot.containers_of(t) for t in names.tags):
            if container.id in seen:
                continue
            seen.add(container.id)
            ports = ", ".join(f"{host}->{inner}" for inner, host in container.ports)
            state = container.state + (f" ({container.exit_code})" if container.exit_code is not None else "")
            lines.append(f"container {container.name} of {container.image}: {state}" + (f", {ports}" if ports else ""))
    return tuple(lines)


def watch_engine_exercise(
    lesson: Lesson,
    exercise: Exercise,
    workspace: Path | None,
    stop: threading.Event,
    engine: str | None = None,
    poll: float = 4.0,
    seat: str | None = None,
) -> Iterator[EngineLooked | EngineWatchFailed]:
    """Judge the exercise now, then each time the engine changes, until ``stop`` is set. Yields
    only when something the learner sees changed (a check's verdict, the objects listed)."""
    from tutor.engine.client import EngineUnavailable, thread_client
    from tutor.engine.engine_events import EngineChanges
    from tutor.engine.engine_probe import engine_side
    from tutor.engine.engine_state import read_snapshot

    names = exercise_names(lesson.exercises)
    asks = engine_asks(exercise.checks) | EngineAsks(tags=frozenset(names.tags), names=frozenset(names.names))
    last: tuple[tuple[str, bool, str], ...] | None = None
    last_objects: tuple[str, ...] | None = None
    try:
        for tick in EngineChanges(engine, poll=poll).ticks(stop):
            if stop.is_set():
                return
            api = thread_client(engine)
            snapshot = read_snapshot(api, asks, local=not engine_side(engine), seat=seat)
            results = judge(exercise, snapshot, dockerfile_of(exercise, workspace), workspace)
            seen = tuple((r.name, r.passed, r.sentence) for r in results)
            objects = exercise_objects(snapshot, names)
            if seen != last or objects != last_objects:
                last, last_objects = seen, objects
                yield EngineLooked(tuple(results), objects, tick.reason, snapshot)
    except EngineUnavailable as exc:
        yield EngineWatchFailed(f"{exc.problem.reason} {exc.problem.fix}")
    except Exception as exc:  # noqa: BLE001 - the watch ends with the reason; the app goes on
        from tutor.engine.client import forget_thread_client

        forget_thread_client(engine)
        yield EngineWatchFailed(f"the engine could not be watched: {exc}")


@dataclass(frozen=True)
class Removed:
    removed: tuple[str, ...]
    failed: tuple[str, ...]


def remove_exercise_objects(api, names: ExerciseNames, seat: str | None = None) -> Removed:
    """Remove the containers named by the lesson's exercises (or of its tags), then those tags:
    what the learner was asked to make, and nothing else on the engine (with ``seat``, nothing
    another seat's label claims)."""
    from docker.errors import APIError, NotFound

    from tutor.engine.engine_state import read_snapshot

    snapshot = read_snapshot(api, EngineAsks(tags=frozenset(names.tags), names=frozenset(names.names)), seat=seat)
    removed: list[str] = []
    failed: list[str] = []
    for container in snapshot.containers:
        try:
            api.remove_container(container.id, force=True)
            removed.append(f"container {container.name}")
        except NotFound:
            continue
        except APIError as exc:
            failed.append(f"container {container.name}: {exc.explanation or exc}")
    for image in snapshot.images:
        for tag in image.tags:
            if tag not in names.tags:
                continue
            try:
                api.remove_image(tag)
                removed.append(f"image {tag}")
            except NotFound:
                continue
            except APIError as exc:
                failed.append(f"image {tag}: {exc.explanation or exc}")
    return Removed(tuple(removed), tuple(failed))


# -- doing an exercise with the docker CLI (`tutor lessons check --run`, tests, recordings) ------


@dataclass(frozen=True)
class CommandRan:
    command: str
    exit_code: int
    output: tuple[str, ...]


@dataclass(frozen=True)
class DrivenExercise:
    """An engine exercise checked before its commands (the starter: what the exercises before it
    left) and after them (its solution)."""

    exercise: Exercise
    before: tuple[CheckResult, ...]
    after: tuple[CheckResult, ...]
    commands: tuple[CommandRan, ...]
    seconds: float
    snapshot_before: EngineSnapshot | None = field(default=None, compare=False, repr=False)
    snapshot_after: EngineSnapshot | None = field(default=None, compare=False, repr=False)


def run_command(line: str, cwd: Path, engine: str | None, environ: dict[str, str], timeout: float = 900) -> CommandRan:
    """One solution command, by the docker CLI, against ``engine``; never through a shell."""
    import shlex

    from tutor.engine.docker_cli import CommandEnded, CommandNotStarted, DockerCommand, OutputLine, command_env

    output: list[str] = []
    code = -1
    for event in DockerCommand(shlex.split(line), env=command_env(environ, engine), cwd=cwd, timeout=timeout).events():
        if isinstance(event, OutputLine):
            output.append(event.text)
        elif isinstance(event, CommandEnded):
            code = event.exit_code
        elif isinstance(event, CommandNotStarted):
            output.append(f"{event.reason}: {event.fix}")
    return CommandRan(line, code, tuple(output))


def drive_lesson(
    lesson: Lesson,
    workspace: Path,
    engine: str | None,
    environ: dict[str, str],
    settle: float = 20.0,
    only: Iterable[Exercise] | None = None,
) -> Iterator[DrivenExercise]:
    """Each engine exercise of the lesson in order: judged, its solution commands typed, judged
    again once the engine shows the result (or ``settle`` seconds have passed: a server that
    starts answering, a container that stops)."""
    import time

    from tutor.engine.client import thread_client
    from tutor.engine.engine_probe import engine_side
    from tutor.engine.engine_state import read_snapshot

    exercises = [e for e in (only or lesson.exercises) if e.watches_engine]
    names = exercise_names(lesson.exercises)
    asks = asks_of(exercises) | EngineAsks(tags=frozenset(names.tags), names=frozenset(names.names))
    local = not engine_side(engine)
    for exercise in exercises:
        started = time.monotonic()
        dockerfile = dockerfile_of(exercise, workspace)
        snap_before = read_snapshot(thread_client(engine), asks, local=local)
        before = judge(exercise, snap_before, dockerfile, workspace)
        ran = tuple(run_command(line, workspace, engine, environ) for line in exercise.solution_commands)
        deadline = time.monotonic() + settle
        while True:
            snap_after = read_snapshot(thread_client(engine), asks, local=local)
            after = judge(exercise, snap_after, dockerfile, workspace)
            if all(r.passed for r in after) or time.monotonic() > deadline:
                break
            time.sleep(0.3)  # the engine's state, asked again until it holds or the deadline passes
        yield DrivenExercise(exercise, tuple(before), tuple(after), ran, time.monotonic() - started, snap_before, snap_after)
