"""How a screen runs an exercise off the UI thread: builds and watch mode in thread workers.

A worker only iterates the run's (or the watch's) generator and drops each event into the
screen's channel; the screen drains it on the UI thread when woken by ``BuildEventsReady``.
Python's full garbage collections are held off while a build streams (``quiet_gc``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from textual import work
from textual.screen import Screen

from tutor.course.model import Exercise, Lesson
from tutor.course.runner import ExerciseRun
from tutor.course.watch import WatchError, WatchNotice, watch_exercise
from tutor.engine.events import StepOutput
from tutor.ui import quiet_gc
from tutor.ui.channel import EventChannel, OutputBatch, merge_output
from tutor.ui.messages import BuildEnded, BuildEventsReady


class BuildWorkers(Screen):
    """A screen that runs builds and watches; at most one of each at a time."""

    def __init__(self) -> None:
        super().__init__()
        self.channel: EventChannel[tuple[int, object]] = EventChannel()
        self._run: ExerciseRun | None = None
        self._watch_stop: threading.Event | None = None  # set: watch mode ends
        self._gc_held = False  # this screen holds off full garbage collections while it builds
        self._engine_stop: threading.Event | None = None  # set: the engine watch of the exercise ends

    @property
    def building(self) -> bool:
        return self._run is not None

    @property
    def watching(self) -> bool:
        return self._watch_stop is not None

    def run_build(self, run: ExerciseRun, build_id: int) -> None:
        self._run = run
        self.refresh_bindings()  # the footer shows Cancel while the build runs
        self._hold_gc()
        self._run_worker(run, build_id)

    def run_watch(
        self, watch_id: int, lesson: Lesson, exercise: Exercise, workspace: Path, new_run: Callable[[Path], ExerciseRun]
    ) -> None:
        self._watch_stop = threading.Event()
        self._watch_worker(watch_id, self._watch_stop, lesson, exercise, workspace, new_run)

    def watch_engine(self, watch_id: int, watch: Callable[[threading.Event], Iterator[object]]) -> None:
        """Judge an exercise done with the docker CLI each time the engine changes, until stopped:
        ``watch(stop)`` yields what the checks found (the backend's ``watch_exercise``)."""
        self.stop_engine_watch()
        self._engine_stop = threading.Event()
        self._engine_worker(watch_id, self._engine_stop, watch)

    def stop_engine_watch(self) -> None:
        if self._engine_stop is not None:
            self._engine_stop.set()
            self._engine_stop = None

    @property
    def watching_engine(self) -> bool:
        return self._engine_stop is not None

    def stop_watching(self) -> None:
        if self._watch_stop is not None:
            self._watch_stop.set()

    def build_stopped(self) -> None:
        """The build or watch is over (ended, or stopped on an error)."""
        self._watch_stop = None
        self._run = None
        self._release_gc()

    def cancel_running_build(self) -> None:
        """Stop the engine's work for this screen (the app is quitting)."""
        self.stop_watching()
        self.stop_engine_watch()
        if self._run is not None:
            self._run.cancel()

    @work(thread=True, exclusive=True, exit_on_error=False, group="build")
    def _run_worker(self, run: ExerciseRun, build_id: int) -> None:
        """Only iterates the generator: every event goes to the channel, the UI thread does the rest."""
        try:
            for event in run.events():
                self._send(build_id, event)
        finally:
            self.post_message(BuildEnded(build_id))

    @work(thread=True, exclusive=False, exit_on_error=False, group="watch")
    def _watch_worker(
        self,
        watch_id: int,
        stop: threading.Event,
        lesson: Lesson,
        exercise: Exercise,
        workspace: Path,
        new_run: Callable[[Path], ExerciseRun],
    ) -> None:
        """Only iterates the watch generator; the UI thread handles every event as for a build."""
        try:
            for event in watch_exercise(lesson, exercise, stop, workspace=workspace, run_factory=new_run):
                self._send(watch_id, event)
        except WatchError as exc:
            self._send(watch_id, WatchNotice(f"cannot watch: {exc}"))
        finally:
            self.post_message(BuildEnded(watch_id))

    @work(thread=True, exclusive=False, exit_on_error=False, group="engine")
    def _engine_worker(self, watch_id: int, stop: threading.Event, watch: Callable[[threading.Event], Iterator[object]]) -> None:
        """Only iterates the engine watch; what the checks found goes to the channel."""
        for event in watch(stop):
            if stop.is_set():
                break
            self._send(watch_id, event)

    def _send(self, build_id: int, event: object) -> None:
        """From a worker thread: queue the event (output lines in batches), wake the UI if needed."""
        if isinstance(event, StepOutput):
            wake = self.channel.put((build_id, OutputBatch(event.step, [event.text], [event.plain])), merge_output)
        else:
            wake = self.channel.put((build_id, event))
        if wake:
            self.post_message(BuildEventsReady(build_id))

    def _hold_gc(self) -> None:
        """No full garbage collection (a pause of every thread) while this build streams."""
        if not self._gc_held:
            self._gc_held = True
            quiet_gc.hold()

    def _release_gc(self) -> None:
        if self._gc_held:
            self._gc_held = False
            quiet_gc.release()

    def on_unmount(self) -> None:
        self.stop_engine_watch()
        self._release_gc()  # a screen closed mid-build never sees its BuildEnded
        quiet_gc.unsettle()  # its widgets are garbage now: let the collector have them
