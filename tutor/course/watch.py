"""Watch mode: the learner edits in their own editor; every save rebuilds and re-checks.

``watch_exercise(...)`` is a generator for a worker thread (the TUI) or the
headless ``tutor watch``: ``WatchStarted`` once the file watcher is live, then
per save a ``FileChanged`` followed by every event of an exercise run (build
events, check results, ``ExerciseFinished``).  A save during a run cancels it
and starts over with the new files.  Setting ``stop_event`` (or closing the
generator) ends it: the running build is cancelled and the watcher thread joins.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Protocol, Union

from watchfiles import DefaultFilter, watch

from tutor.course.model import Exercise, Lesson
from tutor.course.progress import ProgressError, ProgressStore
from tutor.course.runner import ExerciseFinished, ExerciseRun, RunEvent

DEBOUNCE_MS = 1600  # longest a burst of writes is gathered into one change
STEP_MS = 100  # quiet time that ends a burst: a save is seen ~0.1 s after it
POLL_MS = 200  # the watcher wakes this often to notice a stop
READY_TIMEOUT = 10.0  # seconds to wait for the file watcher to start
IDLE_CAP = 600.0  # longer gaps between attempts count as this much time spent (the learner left)


class WatchError(Exception):
    """The workspace cannot be watched; the message says why."""


@dataclass(frozen=True)
class WatchStarted:
    type: ClassVar[str] = "watch_started"
    lesson_id: str
    exercise_id: str
    workspace: Path


@dataclass(frozen=True)
class FileChanged:
    type: ClassVar[str] = "file_changed"
    paths: tuple[str, ...]  # relative to the workspace, with "/" separators
    at: float  # time.monotonic() when the watcher saw the change


@dataclass(frozen=True)
class WatchNotice:
    """Something the learner should know that does not stop the watch."""

    type: ClassVar[str] = "watch_notice"
    message: str


WatchEvent = Union[WatchStarted, FileChanged, WatchNotice, RunEvent]


class Run(Protocol):
    """What a run needs to offer: ``ExerciseRun`` does, a test double or another checker may."""

    def events(self) -> Iterator[RunEvent]: ...

    def cancel(self) -> None: ...


class EditorFilter(DefaultFilter):
    """watchfiles' default filter (``*.swp``, ``*~``, ``.#*``, ``.git`` ...) plus more editor litter."""

    ignore_entity_patterns = tuple(DefaultFilter.ignore_entity_patterns) + (
        r"^4913$",  # vim checks it may write in the folder with this file
        r"^#.*#$",  # emacs auto-save
        r"\.swpx$",
        r"\.kate-swp$",
        r"^\.goutputstream-",  # gedit
    )


class _AnyEvent:
    """Set when any of the events is set: what watchfiles polls to stop."""

    def __init__(self, *events: threading.Event) -> None:
        self._events = events

    def is_set(self) -> bool:
        return any(e.is_set() for e in self._events)


class _Watcher(threading.Thread):
    """Feeds batches of changed paths into a queue; calls ``on_change`` / ``on_stop`` from its own thread."""

    def __init__(
        self,
        root: Path,
        stop: _AnyEvent,
        on_change: Callable[[], None],
        on_stop: Callable[[], None],
        debounce_ms: int,
        step_ms: int,
    ) -> None:
        super().__init__(name=f"watch-{root.name}", daemon=True)
        self.root = root
        self.stop = stop
        self.on_change = on_change
        self.on_stop = on_stop
        self.debounce_ms = debounce_ms
        self.step_ms = step_ms
        self.changes: queue.Queue[tuple[tuple[str, ...], float] | None] = queue.Queue()
        self.ready = threading.Event()
        self.error: BaseException | None = None

    def _relative(self, raw: str) -> str:
        path = Path(raw)
        for base in (self.root, self.root.resolve()):
            try:
                return path.relative_to(base).as_posix()
            except ValueError:
                continue
        return path.as_posix()

    def run(self) -> None:
        try:
            for batch in watch(
                self.root,
                watch_filter=EditorFilter(),
                debounce=self.debounce_ms,
                step=self.step_ms,
                stop_event=self.stop,
                rust_timeout=POLL_MS,
                yield_on_timeout=True,  # the first (empty) batch proves the watch is live
                raise_interrupt=False,
            ):
                self.ready.set()
                if not batch:
                    continue
                changed = tuple(sorted({self._relative(p) for _, p in batch}))
                self.changes.put((changed, time.monotonic()))
                self.on_change()
        except BaseException as exc:  # noqa: BLE001 - handed to the generator, which says what went wrong
            self.error = exc
        finally:
            self.ready.set()
            self.changes.put(None)  # the watcher has ended
            if self.stop.is_set():
                self.on_stop()  # a build may block the generator: cancel it from here


def watch_exercise(
    lesson: Lesson,
    exercise: Exercise,
    stop_event: threading.Event,
    *,
    workspace: Path | None = None,
    seat: str | None = None,
    engine: str | None = None,
    builder: str | None = None,
    store: ProgressStore | None = None,
    prediction: Mapping[int, str] | Callable | None = None,
    initial_run: bool = False,
    run_factory: Callable[[Path], Run] | None = None,
    debounce_ms: int = DEBOUNCE_MS,
    step_ms: int = STEP_MS,
) -> Generator[WatchEvent, None, None]:
    """Rebuild and re-check ``exercise`` on every save in its workspace, until ``stop_event`` is set.

    ``workspace`` defaults to the learner's (made on first use).  With ``store``,
    every finished run is recorded as an attempt.  ``run_factory(workspace)`` makes
    the run for each save (default: an ``ExerciseRun`` on the real engine).
    """
    if workspace is None:
        from tutor.course.workspace import WorkspaceError, prepare_workspace

        try:
            workspace = prepare_workspace(lesson, exercise, seat=seat)
        except (WorkspaceError, OSError) as exc:
            raise WatchError(str(exc)) from exc
    workspace = Path(workspace)
    if not workspace.is_dir():
        raise WatchError(f"the workspace {workspace} does not exist")
    make_run = run_factory or (
        lambda folder: ExerciseRun(
            exercise, folder, lesson.id, seat=seat, engine=engine, prediction=prediction, builder=builder
        )
    )

    ending = threading.Event()  # the generator is closing
    lock = threading.Lock()
    running: list[Run] = []  # the run in progress, if any

    def cancel_running() -> None:
        with lock:
            current = running[0] if running else None
        if current is not None:
            current.cancel()

    stop = _AnyEvent(stop_event, ending)
    # A save during a run makes its result stale, and a stop must not wait for a long build: cancel it.
    watcher = _Watcher(workspace, stop, cancel_running, cancel_running, debounce_ms, step_ms)
    watcher.start()
    last_mark = time.monotonic()
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while not watcher.ready.wait(0.05):
            if stop.is_set():
                return
            if time.monotonic() > deadline:
                raise WatchError(f"could not start watching {workspace}")
        if watcher.error is not None:
            raise WatchError(f"cannot watch {workspace}: {watcher.error}") from watcher.error
        yield WatchStarted(lesson.id, exercise.id, workspace)
        pending: list[tuple[tuple[str, ...], float]] = []
        start_now = initial_run
        while not stop.is_set():
            if not start_now:
                try:
                    item = watcher.changes.get(timeout=0.1)
                except queue.Empty:
                    continue
                if item is None:
                    if watcher.error is not None and not stop.is_set():
                        raise WatchError(f"stopped watching {workspace}: {watcher.error}") from watcher.error
                    return
                pending.append(item)
                while True:  # gather what else is already queued into one rebuild
                    try:
                        more = watcher.changes.get_nowait()
                    except queue.Empty:
                        break
                    if more is None:
                        watcher.changes.put(None)
                        break
                    pending.append(more)
                changed = tuple(sorted({p for paths, _ in pending for p in paths}))
                yield FileChanged(changed, min(at for _, at in pending))
                pending.clear()
            start_now = False
            if stop.is_set():
                return
            run = make_run(workspace)
            with lock:
                running[:] = [run]
            events = run.events()
            try:
                for event in events:
                    if isinstance(event, ExerciseFinished) and store is not None and is_attempt(event):
                        # Saved before it is announced: whoever reacts to it reads the new progress.
                        now = time.monotonic()
                        try:
                            store.record_attempt(lesson.id, exercise.id, event.passed, min(now - last_mark, IDLE_CAP))
                        except ProgressError as exc:
                            yield WatchNotice(f"this attempt was not saved: {exc}")
                        last_mark = now
                    yield event
            finally:
                with lock:
                    running.clear()
                close = getattr(events, "close", None)
                if close is not None:
                    close()  # a generator left mid-build stops it and cleans up now, not at garbage collection
    finally:
        ending.set()
        cancel_running()
        watcher.join(timeout=5)


def is_attempt(finished: ExerciseFinished) -> bool:
    """A run the learner's files decided: not cancelled, and not cut short by a lost engine."""
    if finished.cancelled:
        return False
    failure = finished.record.failure if finished.record is not None else None
    return not (failure is not None and failure.engine_lost)
