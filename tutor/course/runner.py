"""Run an exercise end to end, headless: its scenario's builds, then its checks.

``ExerciseRun(...).events()`` is a generator of progress events: the markers
below, every build event of the real builds (``tutor.engine.events``) and a
``CheckResult`` per check, ending with ``ExerciseFinished``.  The TUI and
``tutor watch`` consume it from a worker thread; ``cancel()`` may come from any
thread.  The containers the ``http`` check starts are removed before it ends;
the image stays (it is the learner's), under a seat-scoped tag.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Protocol, Union

from tutor import paths
from tutor.course.checks import CheckResult, Evidence, HttpAnswer, evaluate, needs_http
from tutor.course.model import Exercise
from tutor.course.scenarios import SCENARIOS
from tutor.engine import labels
from tutor.engine.build import COURSE_BUILDER, Build, BuildRequest
from tutor.engine.build_queue import BuildQueue
from tutor.engine.events import BuildEvent, BuildFailed
from tutor.engine.explain import CacheExplanation, explain_build, snapshot_before
from tutor.engine.record import BuildRecord

READY_TIMEOUT = 15.0  # seconds for a container's server to answer its first request
PROBE_TIMEOUT = 3.0

class BuildHandle(Protocol):
    """What a run needs of a build: the real engine's ``Build`` or a replay of a recorded stream."""

    def events(self) -> Iterator[BuildEvent]: ...

    def cancel(self) -> None: ...


Prediction = Union[Mapping[int, str], Callable[[BuildRecord], Mapping[int, str]], None]


@dataclass(frozen=True)
class BuildStarted:
    type: ClassVar[str] = "exercise_build"
    index: int  # 1-based
    total: int  # builds in this run: 1, or 2 with a scenario
    label: str  # "first build", "build after editing main.go", "build --target local"
    tag: str
    target: str | None = None  # the stage this build makes its image from (`--target`)


@dataclass(frozen=True)
class WorkspaceEdited:
    """The scenario changed a file between the two builds (in a scratch copy)."""

    type: ClassVar[str] = "exercise_edit"
    file: str
    description: str


@dataclass(frozen=True)
class CacheExplained:
    """Why the build just finished missed the cache where it did (compared with the previous one)."""

    type: ClassVar[str] = "cache_explained"
    explanation: CacheExplanation


@dataclass(frozen=True)
class CheckStarted:
    type: ClassVar[str] = "check_started"
    kind: str
    name: str
    title: str = ""  # what the check asks for, in the learner's words


@dataclass(frozen=True)
class ExerciseFinished:
    type: ClassVar[str] = "exercise_finished"
    passed: bool
    results: tuple[CheckResult, ...]
    seconds: float
    build_seconds: tuple[float, ...]  # wall time of each build
    tag: str
    image_id: str | None = None
    cancelled: bool = False
    record: BuildRecord | None = field(default=None, compare=False, repr=False)  # of the last build

    @property
    def failed_checks(self) -> tuple[CheckResult, ...]:
        return tuple(r for r in self.results if not r.passed)


RunEvent = Union[BuildEvent, BuildStarted, WorkspaceEdited, CacheExplained, CheckStarted, CheckResult, ExerciseFinished]


def exercise_tag(seat: str, lesson_id: str, exercise_id: str, variant: str | None = None) -> str:
    name = f"{lesson_id}-{exercise_id}" + (f"-{variant}" if variant else "")
    return labels.seat_tag(seat, name)


def target_tag(tag: str, target: str) -> str:
    """The image of one target of an exercise: the exercise's name, the target as the tag
    (``tutor/local/buildkit-one-file:production``)."""
    slash = tag.rfind("/")
    colon = tag.rfind(":")
    repository = tag[:colon] if colon > slash else tag
    return f"{repository}:{target}"


class ExerciseRun:
    def __init__(
        self,
        exercise: Exercise,
        workspace: Path,
        lesson_id: str,
        *,
        seat: str | None = None,
        engine: str | None = None,
        prediction: Prediction = None,
        tag: str | None = None,
        build_factory: Callable[[BuildRequest], BuildHandle] | None = None,
        builder: str | None = None,  # auto | buildkit | classic; None: the course's default
        queue: BuildQueue | None = None,  # a pool engine's line of builds: each build waits its turn
    ) -> None:
        self.exercise = exercise
        self.queue = queue
        # An exercise that needs one builder (a cache mount, a heredoc: BuildKit) has it whatever was chosen.
        self.builder = exercise.builder or builder or COURSE_BUILDER
        # Where builds come from: the real engine, or (UI tests) a replay of recorded real streams.
        self._new_build: Callable[[BuildRequest], BuildHandle] = build_factory or Build
        self.workspace = Path(workspace)
        self.lesson_id = lesson_id
        self.seat = seat or paths.seat_name()
        self.engine = engine
        self.prediction = prediction
        self.tag = tag or exercise_tag(self.seat, lesson_id, exercise.id)
        self._cancelled = threading.Event()
        self._build: BuildHandle | None = None
        self._lock = threading.Lock()
        self._containers: list[str] = []

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def cancel(self) -> None:
        self._cancelled.set()
        with self._lock:
            build = self._build
        if build is not None:
            build.cancel()

    # -- the run ---------------------------------------------------------------------------------

    def _labels(self) -> dict[str, str]:
        return labels.managed_labels(self.seat, self.lesson_id, kind="exercise")

    @property
    def final_tag(self) -> str:
        """The tag of the image the checks look at: the last target's, or the exercise's."""
        targets = self.exercise.targets
        return target_tag(self.tag, targets[-1]) if targets else self.tag

    def _build_once(
        self, context: Path, record: BuildRecord, tag: str, target: str | None = None
    ) -> Iterator[BuildEvent | CacheExplained]:
        request = BuildRequest(
            context=context,
            dockerfile=self.exercise.dockerfile,
            tag=tag,
            labels=self._labels(),
            engine=self.engine,
            builder=self.builder,
            target=target,
            queue=self.queue,
        )
        before = snapshot_before(request)  # the inputs, to explain the cache misses afterwards
        build = self._new_build(request)
        with self._lock:
            self._build = build
        if self.cancelled:
            build.cancel()
        try:
            for event in build.events():
                record.apply(event)
                yield event
        finally:
            with self._lock:
                self._build = None
        failure = record.failure
        if record.steps and not self.cancelled and not (failure is not None and failure.cancelled):
            explanation = explain_build(request, record, before=before, seat=self.seat)
            if explanation is not None:
                yield CacheExplained(explanation)

    def events(self) -> Iterator[RunEvent]:
        started = time.monotonic()
        build_seconds: list[float] = []
        with contextlib.ExitStack() as stack:
            stack.callback(self._remove_containers)
            try:
                context = self._build_context(stack)
            except OSError as exc:
                context = self.workspace
                record = BuildRecord()
                failed = BuildFailed(f"Cannot copy the workspace {self.workspace}: {exc.strerror or exc}")
                record.apply(failed)
                yield failed
            else:
                record = yield from self._builds(context, build_seconds)

            def finished(results: list[CheckResult], cancelled: bool = False) -> ExerciseFinished:
                passed = not cancelled and bool(results) and all(r.passed for r in results)
                image_id = record.result.image_id if record.result and not cancelled else None
                seconds = round(time.monotonic() - started, 3)
                return ExerciseFinished(
                    passed, tuple(results), seconds, tuple(build_seconds), self.final_tag, image_id, cancelled, record
                )

            if self.cancelled or (record.failure is not None and record.failure.cancelled):
                yield finished([], cancelled=True)
                return
            evidence = self._evidence(record, context)
            results: list[CheckResult] = []
            for check in self.exercise.checks:
                if self.cancelled:
                    yield finished(results, cancelled=True)
                    return
                yield CheckStarted(check.kind, check.name, check.title)
                result = evaluate(check, evidence)
                results.append(result)
                yield result
            yield finished(results)

    def _build_context(self, stack: contextlib.ExitStack) -> Path:
        """The folder to build: the workspace, or a scratch copy of it when a scenario edits files."""
        if self.exercise.scenario is None:
            return self.workspace
        scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="tutor-scenario-"))
        context = Path(scratch) / self.workspace.name
        shutil.copytree(self.workspace, context)
        return context

    def _builds(self, context: Path, seconds: list[float]) -> Generator[RunEvent, None, BuildRecord]:
        """The scenario's builds (one, or two with the edit between), or one build per target;
        returns the last one's record."""
        scenario = SCENARIOS.get(self.exercise.scenario or "")
        targets: tuple[str | None, ...] = self.exercise.targets
        if targets:
            labels_ = [f"build --target {t}" for t in self.exercise.targets]
        elif self.exercise.scenario is None:
            labels_, targets = ["build"], (None,)
        else:
            edit = scenario.edit_label if scenario else ""
            labels_, targets = ["first build", f"build after {edit}" if edit else "second build"], (None, None)
        total = len(targets)
        record = BuildRecord()
        for index, target in enumerate(targets, start=1):
            if index == 2 and scenario is not None and scenario.edits is not None:
                yield WorkspaceEdited(scenario.edits, scenario.apply(context))
            record = BuildRecord()
            tag = target_tag(self.tag, target) if target else self.tag
            yield BuildStarted(index, total, labels_[index - 1], tag, target)
            build_started = time.monotonic()
            yield from self._build_once(context, record, tag, target)
            seconds.append(round(time.monotonic() - build_started, 3))
            if record.failure is not None:
                break  # a failed build: the checks look at it
        return record

    def _evidence(self, record: BuildRecord, context: Path) -> Evidence:
        dockerfile_path = context / self.exercise.dockerfile
        try:
            text = dockerfile_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        prediction = self.prediction(record) if callable(self.prediction) else self.prediction
        image = record.result.image_id if record.result else None
        return Evidence(
            record=record,
            dockerfile=text,
            context=context,
            dockerfile_name=self.exercise.dockerfile,
            prediction=prediction,
            http=self._http_probe(image) if image and needs_http(self.exercise.checks) else None,
        )

    # -- the http check --------------------------------------------------------------------------

    def _http_probe(self, image: str) -> Callable[[int, str], HttpAnswer]:
        running: dict[int, tuple[str, int | None]] = {}  # container port -> (container id, host port or None)

        def ask(container_port: int, path: str) -> HttpAnswer:
            from tutor.engine.client import EngineUnavailable

            try:
                if container_port not in running:
                    running[container_port] = self._start_container(image, container_port)
                container_id, host_port = running[container_port]
                return self._ask(container_id, host_port, path, container_port)
            except EngineUnavailable as exc:
                return HttpAnswer(None, error=exc.problem.reason)
            except Exception as exc:  # noqa: BLE001 - ContainerError and friends carry a message for the learner
                message = getattr(exc, "message", None) or str(exc)
                fix = getattr(exc, "fix", "")
                return HttpAnswer(None, error=f"the container could not run: {message}" + (f". {fix}" if fix else ""))

        return ask

    def _start_container(self, image: str, container_port: int) -> tuple[str, int | None]:
        """The container the check asks, and its host port (None: asked from the engine's side)."""
        from tutor.engine import containers, engine_probe, ports
        from tutor.engine.client import thread_client

        api = thread_client(self.engine)
        if engine_probe.engine_side(self.engine):
            # Published ports open on the engine's host, out of this machine's reach: publish none.
            info = containers.run_container(
                api,
                image,
                labels=labels.managed_labels(self.seat, self.lesson_id, kind="container"),
                seat=self.seat,
                lesson=self.lesson_id,
            )
            with self._lock:
                self._containers.append(info.id)
            return info.id, None
        for attempt in range(3):
            host_port = ports.find_free_port(18080 + attempt * 37)
            try:
                info = containers.run_container(
                    api,
                    image,
                    ports={host_port: container_port},
                    labels=labels.managed_labels(self.seat, self.lesson_id, kind="container"),
                    seat=self.seat,
                    lesson=self.lesson_id,
                )
            except containers.PortInUse:
                continue  # another seat took it between the check and the start
            with self._lock:
                self._containers.append(info.id)
            return info.id, host_port
        raise RuntimeError("no free host port to publish the container on")

    def _ask(self, container_id: str, host_port: int | None, path: str, container_port: int = 0) -> HttpAnswer:
        from tutor.engine import engine_probe, probe
        from tutor.engine.client import thread_client

        api = thread_client(self.engine)

        def still_running() -> bool:
            try:
                return bool(api.inspect_container(container_id)["State"]["Running"])
            except Exception:  # noqa: BLE001 - gone: not running
                return False

        if host_port is None:  # from a helper container beside it, on the engine
            answer = engine_probe.probe_from_engine(
                api, container_id, container_port, path, seat=self.seat, lesson=self.lesson_id,
                timeout=READY_TIMEOUT, still_running=still_running,
            )  # fmt: skip
            if answer.status is not None:
                return HttpAnswer(answer.status, answer.body)
            return HttpAnswer(None, error=self._why_silent(api, container_id, container_port))
        if probe.wait_ready(host_port, timeout=READY_TIMEOUT, path=path, still_running=still_running):
            answer = probe.probe(host_port, path, timeout=PROBE_TIMEOUT)
            if answer.status is not None:
                return HttpAnswer(answer.status, answer.body)
        return HttpAnswer(None, error=self._why_silent(api, container_id, host_port))

    def _why_silent(self, api, container_id: str, host_port: int) -> str:
        try:
            state = api.inspect_container(container_id)["State"]
            tail = api.logs(container_id, tail=4).decode("utf-8", "replace").strip()
        except Exception:  # noqa: BLE001
            return f"nothing answered on port {host_port}"
        said = f"; its last output: {' | '.join(tail.splitlines())}" if tail else "; it printed nothing"
        if not state.get("Running"):
            return f"the container exited with code {state.get('ExitCode')} before answering{said}"
        return (
            f"the container runs but nothing answered within {READY_TIMEOUT:.0f}s "
            f"(does the server listen on 0.0.0.0 and that port?){said}"
        )

    def _remove_containers(self) -> None:
        with self._lock:
            ids, self._containers = self._containers, []
        if not ids:
            return
        from tutor.engine import containers
        from tutor.engine.client import thread_client

        try:
            api = thread_client(self.engine)
        except Exception:  # noqa: BLE001 - the engine is gone, and its containers with it
            return
        for container_id in ids:
            try:
                containers.remove_container(api, container_id, force=True)
            except Exception:  # noqa: BLE001 - already gone
                pass


def run_exercise(exercise: Exercise, workspace: Path, lesson_id: str, **kwargs) -> Iterator[RunEvent]:
    """Convenience: the events of a new run."""
    return ExerciseRun(exercise, workspace, lesson_id, **kwargs).events()
