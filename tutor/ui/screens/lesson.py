"""The lesson screen: the text, the Dockerfile, and the live build panes.

A build runs in a thread worker that only iterates the exercise run's
generator and drops each event into a channel; the handlers here, on the UI
thread, fold the events into a BuildRecord and update the widgets.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Header, TabbedContent, TabPane
from textual.worker import Worker, WorkerState

from tutor import fmt, paths
from tutor.course.checks import CheckResult
from tutor.course.model import Course, Exercise, Lesson
from tutor.course.prediction import grade
from tutor.course.runner import (
    BuildStarted,
    CacheExplained,
    CheckStarted,
    ExerciseFinished,
    ExerciseRun,
    WorkspaceEdited,
)
from tutor.course.watch import FileChanged, WatchError, WatchNotice, WatchStarted, watch_exercise
from tutor.course.workspace import WorkspaceError, prepare_workspace
from tutor.engine.dockerfile import plan
from tutor.engine.events import (
    BuildFailed,
    BuildSucceeded,
    ContextProgress,
    ContextSent,
    StepNeverEnds,
    StepOutput,
    StepStarted,
)
from tutor.engine.explain import CacheExplanation
from tutor.engine.record import BuildRecord
from tutor.ui import quiet_gc
from tutor.ui.channel import EventChannel, OutputBatch, merge_output
from tutor.ui.messages import BuildEnded, BuildEventsReady
from tutor.ui.screens.editor import EditorClosed, EditorScreen, failure_location, workspace_files
from tutor.ui.screens.layer_contents import LayerContentsScreen
from tutor.ui.screens.predict import PredictionResultScreen, PredictScreen
from tutor.ui.screens.size_race import SizeRaceScreen
from tutor.ui.screens.solution import SolutionClosed, SolutionScreen
from tutor.ui.widgets.build_log import BuildLog
from tutor.ui.widgets.cache_pane import CachePane
from tutor.ui.widgets.containers_pane import ContainersPane
from tutor.ui.widgets.dockerfile_view import DockerfileView
from tutor.ui.widgets.engine_status import EngineStatus
from tutor.ui.widgets.exercise_panel import ExercisePanel, exercise_text
from tutor.ui.widgets.footer import KeysFooter
from tutor.ui.widgets.layer_pane import LayerPane
from tutor.ui.widgets.lesson_text import LessonText
from tutor.workshop.safety import UnsafeContext, check_build_context

if TYPE_CHECKING:
    from tutor.ui.app import TutorApp

NARROW_WIDTH = 110  # below this, one column: the learner switches views with `v`


class LessonScreen(Screen):
    CSS_PATH = "lesson.tcss"
    AUTO_FOCUS = "#lesson-scroll"  # the text answers the arrow and page keys from the start
    BINDINGS = [
        Binding("b", "build", "Build", tooltip="Build the exercise's Dockerfile on the engine, then run its checks"),
        Binding("c", "cancel_build", "Cancel", tooltip="Cancel the running build"),
        Binding("h", "hint", "Hint", tooltip="Show the next hint of the exercise"),
        Binding("o", "edit", "Edit", tooltip="Edit the exercise's files"),
        Binding(
            "t",
            "predict_build",
            "Predict",
            show=False,
            tooltip="Predict which steps come from the cache, then build and compare",
        ),
        Binding("S,shift+s", "solution", "Solution", key_display="S", show=False, tooltip="Show the hints so far and, once earned, the solution"),
        Binding("w", "toggle_watch", "Watch", tooltip="Watch mode: rebuild and check every time you save a file of the exercise in your own editor"),
        Binding("v", "toggle_view", "View", tooltip="Switch between the lesson and the build panes (narrow terminals)"),
        Binding("right_square_bracket", "next_lesson", "Next", key_display="]", tooltip="Next lesson"),
        Binding("left_square_bracket", "previous_lesson", "Previous", key_display="[", show=False, tooltip="Previous lesson"),
        Binding("greater_than_sign", "next_exercise", "Next exercise", key_display=">", show=False),
        Binding("less_than_sign", "previous_exercise", "Previous exercise", key_display="<", show=False),
        Binding(
            "r",
            "run_container",
            "Run",
            tooltip="Run the last built image as a container: docker run -d -p HOST:CONTAINER IMAGE (asks for the port mapping)",
        ),
        Binding("p", "probe", "Probe", show=False, tooltip="Ask the container's server for a page, as curl http://localhost:PORT/ would"),
        Binding("s", "stop_container", "Stop", show=False, tooltip="Stop the selected container (docker stop)"),
        Binding(
            "x",
            "remove_container",
            "Remove container",
            show=False,
            tooltip="Remove the selected container (docker rm; a running one only after asking, with -f)",
        ),
        Binding("i", "remove_image", "Remove image", show=False, tooltip="Remove the last built image (docker rmi), after asking"),
        Binding("e", "exec_in_container", "Exec", show=False, tooltip="Run one command inside the selected container (docker exec)"),
        Binding(
            "l",
            "layer_contents",
            "Layer contents",
            show=False,
            tooltip="Show the files the highlighted step's layer added, changed and removed, and the space it wastes",
        ),
        Binding(
            "z", "size_race", "Size race", show=False, tooltip="Compare the images you built in the course with the Go binary alone"
        ),
        Binding("escape,m", "back", "Map", tooltip="Back to the course map"),
        Binding("1", "show_tab('lesson-text')", "Lesson text", show=False),
        Binding("2", "show_tab('dockerfile')", "Dockerfile", show=False),
        Binding("3", "show_tab('exercise')", "Exercise and checks", show=False),
        Binding("4", "show_tab('containers')", "Containers", show=False, tooltip="Show the Containers tab"),
    ]

    if TYPE_CHECKING:
        app: TutorApp  # this screen only ever runs in the tutor's app

    def __init__(self, course: Course, lesson: Lesson, exercise_id: str | None = None) -> None:
        super().__init__()
        self.course = course
        self.lesson = lesson
        self.exercise: Exercise | None = (lesson.exercise(exercise_id) if exercise_id else None) or (
            lesson.exercises[0] if lesson.exercises else None
        )
        self.channel: EventChannel[tuple[int, object]] = EventChannel()
        self.record = BuildRecord()
        self.results: list[CheckResult] = []
        self.hints_shown = 0
        self._run: ExerciseRun | None = None
        self._build_id = 0
        self._gc_held = False  # this screen holds off full garbage collections while it builds
        self._build_started = 0.0
        self._workspace: Path | None = None
        self._steps_lines: dict[int, set[int]] = {}
        self._status_note: str | None = None
        self._show_build_view = False
        self._explanation: CacheExplanation | None = None
        self._watch_stop: threading.Event | None = None  # set: watch mode ends
        self._next_prediction: dict[int, str] | None = None  # made with t, used by the next build
        self._build_prediction: dict[int, str] | None = None  # the prediction of the current/last build

    # -- layout ----------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="lesson-body"):
            with TabbedContent(id="left", initial="lesson-text"):
                with TabPane("Lesson", id="lesson-text"):
                    yield LessonText(
                        self.lesson.body, self.app.reading_positions, self.lesson.id, id="lesson-scroll"
                    )
                with TabPane("Dockerfile", id="dockerfile"):
                    yield DockerfileView(id="dockerfile-view")
                with TabPane("Exercise", id="exercise"):
                    yield ExercisePanel(id="exercise-panel")
                with TabPane("Containers", id="containers"):
                    yield ContainersPane(
                        engine=self.app.backend.engine,
                        lesson=self.lesson.id,
                        port_range=self.app.host_port_range,
                        id="containers-pane",
                    )
            with Vertical(id="build-panes"):
                yield LayerPane(id="layers")
                yield CachePane(id="cache")
                yield BuildLog(id="log")
        yield EngineStatus(id="engine-status")
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        self.title = f"{self.lesson.order}. {self.lesson.title}"
        self.sub_title = self.exercise.title if self.exercise else ""
        self.hints_shown = self._saved_hints()
        self._load_workspace()
        self._refresh_exercise()
        self._apply_width(self.app.size.width)
        # Once drawn, the screen's widgets live as long as it does: keep them out of full passes.
        self.set_timer(0.5, quiet_gc.settle)

    def on_resize(self, event) -> None:
        self._apply_width(event.size.width)

    def _apply_width(self, width: int) -> None:
        narrow = width < NARROW_WIDTH
        if narrow != self.has_class("narrow"):
            self.refresh_bindings()  # v matters in one column only: the footer shows it there
        self.set_class(narrow, "narrow")
        self.set_class(narrow and self._show_build_view, "build-view")

    def footer_hides(self, action: str) -> bool:
        """Keys that work but do nothing useful now, left out of the footer to make room."""
        if action == "cancel_build":
            return not self.building
        if action == "toggle_view":
            return not self.has_class("narrow")
        return False

    # -- the exercise's files ----------------------------------------------------------------------

    def _load_workspace(self) -> None:
        view = self.query_one(DockerfileView)
        if self.exercise is None:
            view.show("", "No exercise in this lesson")
            self.query_one(LayerPane).show_plan([])
            return
        try:
            self._workspace = prepare_workspace(self.lesson, self.exercise)
        except WorkspaceError as exc:
            self._workspace = None
            self.notify(str(exc), title="Exercise files", severity="error", timeout=10)
            view.show("", "Dockerfile unavailable")
            return
        text = self._dockerfile_text()
        view.show(text, f"{self.exercise.dockerfile}  ({self._workspace})")
        planned = plan(text)
        self._steps_lines = {p.step: set(range(p.line, p.end_line + 1)) for p in planned}
        if not self.record.steps:
            self.query_one(LayerPane).show_plan(planned)

    def _dockerfile_text(self) -> str:
        if self._workspace is None or self.exercise is None:
            return ""
        try:
            return (self._workspace / self.exercise.dockerfile).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def _refresh_exercise(self) -> None:
        hints = list(self.exercise.hints[: self.hints_shown]) if self.exercise else []
        self.query_one(ExercisePanel).show(
            exercise_text(
                self.lesson,
                self.exercise,
                self.results,
                hints,
                running=self._status_note,
                workspace=str(self._workspace) if self._workspace else None,
            )
        )

    # -- building ----------------------------------------------------------------------------------

    @property
    def building(self) -> bool:
        return self._run is not None

    @property
    def watching(self) -> bool:
        return self._watch_stop is not None

    @property
    def builds_started(self) -> int:
        return self._build_id

    def action_build(self) -> None:
        if (
            self.exercise is not None
            and self.exercise.predict
            and self._next_prediction is None
            and not self.building
        ):
            self.action_predict_build()  # this exercise is graded on the learner's prediction
            return
        self._start_build()

    def _workspace_to_build(self, title: str, verb: str) -> Path | None:
        """The exercise's workspace when a build (or watch) may start now; else None, said why."""
        if self.building:
            self.notify("A build is already running: wait for it, or press c to cancel it.", title=title, severity="warning")
            return None
        if self.exercise is None:
            self.notify(f"This lesson has no exercise to {verb}.", title=title)
            return None
        self._load_workspace()
        if self._workspace is None:
            return None
        try:
            # A symlink out of the workspace would send files the learner should not ship (or see).
            check_build_context(self._workspace, paths.workspace_dir(), self.exercise.dockerfile)
        except UnsafeContext as exc:
            self.notify(f"{exc.message}. {exc.fix}", title="Build refused", severity="error", timeout=12)
            return None
        return self._workspace

    def _start_build(self) -> None:
        if self.watching:
            self.notify("Watch mode is on: save a file to rebuild, or press w to stop watching.", title="Build")
            return
        workspace = self._workspace_to_build("Build", "build")
        if workspace is None or self.exercise is None:  # (the second half only narrows the type)
            return
        self._build_id += 1
        self.record = BuildRecord()
        self.results = []
        self._status_note = "building…"
        self._build_started = time.monotonic()
        self.query_one(LayerPane).show_plan(plan(self._dockerfile_text()))
        self.query_one(BuildLog).clear()
        self.query_one(CachePane).show(self.record)
        self._refresh_exercise()
        self._show_build_view = True
        self._apply_width(self.app.size.width)
        self._build_prediction, self._next_prediction = self._next_prediction, None
        self._run = self.app.new_exercise_run(self.lesson, self.exercise, workspace, prediction=self._build_prediction)
        self.refresh_bindings()  # the footer shows Cancel while the build runs
        self._hold_gc()
        self._run_worker(self._run, self._build_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="build")
    def _run_worker(self, run: ExerciseRun, build_id: int) -> None:
        """Only iterates the generator: every event goes to the channel, the UI thread does the rest."""
        try:
            for event in run.events():
                self._send(build_id, event)
        finally:
            self.post_message(BuildEnded(build_id))

    def _send(self, build_id: int, event: object) -> None:
        """From a worker thread: queue the event (output lines in batches), wake the UI if needed."""
        if isinstance(event, StepOutput):
            wake = self.channel.put((build_id, OutputBatch(event.step, [event.text], [event.plain])), merge_output)
        else:
            wake = self.channel.put((build_id, event))
        if wake:
            self.post_message(BuildEventsReady(build_id))

    def cancel_running_build(self) -> None:
        """Stop the engine's work for this screen (the app is quitting)."""
        if self._watch_stop is not None:
            self._watch_stop.set()
        if self._run is not None:
            self._run.cancel()

    def on_unmount(self) -> None:
        self._release_gc()  # a screen closed mid-build never sees its BuildEnded
        quiet_gc.unsettle()  # its widgets are garbage now: let the collector have them

    def action_cancel_build(self) -> None:
        if self._run is None:
            self.notify("No build is running.", title="Cancel")
            return
        self._run.cancel()
        self.notify("Cancelling the build…", title="Cancel")

    @on(BuildEventsReady)
    def _drain(self, message: BuildEventsReady | None = None) -> None:
        lines: list[str] = []
        layers = self.query_one(LayerPane)
        log = self.query_one(BuildLog)
        touched = False
        for build_id, event in self.channel.drain():
            if build_id != self._build_id:
                continue  # a cancelled build's stragglers
            if isinstance(event, OutputBatch):
                lines.extend(event.texts)
                self.record.apply_output(event.step, event.plains)
                continue
            if lines:
                log.write_lines(lines)
                lines = []
            self._handle(event, layers, log)
            touched = True
        if lines:
            log.write_lines(lines)
        if touched and self._explanation is None:
            self.query_one(CachePane).show(self.record)

    def _handle(self, event: object, layers: LayerPane, log: BuildLog) -> None:
        if isinstance(event, WatchStarted):
            log.write_line(f"── watching {self._workspace}: save a file of the exercise to rebuild (w stops)")
            return
        if isinstance(event, FileChanged):
            self.record, self.results, self._explanation = BuildRecord(), [], None
            self._status_note = "building…"
            log.clear()
            log.write_line(f"── saved {', '.join(event.paths)}: rebuilding")
            self._load_workspace()  # the saved Dockerfile, and its steps as the plan
            self._refresh_exercise()
            return
        if isinstance(event, WatchNotice):
            log.write_line(f"── {event.message}")
            return
        if isinstance(event, BuildStarted):
            self.record = BuildRecord()
            self._explanation = None
            self._status_note = f"{event.label} ({event.index}/{event.total})…"
            layers.show_plan(plan(self._dockerfile_text()))
            log.write_line(f"── {event.label} ({event.index}/{event.total}) → {event.tag}")
            self._refresh_exercise()
            return
        if isinstance(event, WorkspaceEdited):
            log.write_line(f"── scenario: {event.description}")
            return
        if isinstance(event, CacheExplained):
            self._explanation = event.explanation
            text = event.explanation.summary
            if event.explanation.details:
                text += "\n" + "\n".join(event.explanation.details[:3])
            self.query_one(CachePane).show(self.record, text)
            return
        if isinstance(event, CheckStarted):
            self._status_note = f"checking: {event.title or event.name}…"
            self._refresh_exercise()
            return
        if isinstance(event, CheckResult):
            self.results.append(event)
            self._refresh_exercise()
            return
        if isinstance(event, ExerciseFinished):
            self._finished(event)
            return
        if isinstance(event, ContextProgress):
            log.border_subtitle = fmt.context_progress(event.phase, event.files, event.bytes, event.total_bytes)
            return
        if isinstance(event, StepNeverEnds):
            log.write_wrapped(event.reason, prefix="── this build will not end: ", style="\x1b[33;1m")
            self.notify(
                f"{event.reason[0].upper()}{event.reason[1:]}. {event.advice}",
                title="RUN or CMD?",
                severity="warning",
                timeout=30,
            )
            return
        state = self.record.apply(event)  # type: ignore[arg-type]
        if isinstance(event, ContextSent):
            log.write_line(f"context: {event.files} files, {fmt.size(event.bytes)}")
        elif isinstance(event, StepStarted) and state is not None:
            log.border_subtitle = ""
            self.query_one(DockerfileView).mark(self._steps_lines.get(event.step, set()))
        if state is not None:
            layers.show_step(state)
        if isinstance(event, BuildFailed):
            layers.point_at(event.step)
            self._failed(event, log)
        elif isinstance(event, BuildSucceeded):
            layers.mark_final_stage(self.record.final_stage)
            first = self.record.first_miss
            layers.point_at(first.step if first else None)
            self.query_one(DockerfileView).mark(set())
            tags = ", ".join(event.tags) or event.image_id
            log.write_line(
                f"── built {tags}: {fmt.size(event.image_size)}, {self.record.cache_hits}/{self.record.total} "
                f"steps from cache, {fmt.seconds(event.seconds)}"
            )
            if event.store_sizes is not None:  # the containerd image store: docker images says otherwise
                log.write_line(f"   {fmt.store_figures(event.store_sizes.disk, event.store_sizes.content)}")

    def _failed(self, event: BuildFailed, log: BuildLog) -> None:
        self.query_one(DockerfileView).mark(self._steps_lines.get(event.step or 0, set()))
        if event.cancelled:
            log.write_line("── build cancelled")
            return
        where = f"step {event.step}: " if event.step else (f"line {event.line}: " if event.line else "")
        log.write_wrapped(event.message, prefix=f"── build failed: {where}", style="\x1b[31;1m")
        if event.fix:
            log.write_wrapped(event.fix, prefix="── fix: ")
        if event.engine_lost and not self.record.steps:
            self.app.show_engine_problem(event.message, event.fix or "")
            return
        self.notify(f"{where}{event.message}", title="Build failed", severity="error", timeout=8)

    def _finished(self, event: ExerciseFinished) -> None:
        self._status_note = None
        self.results = list(event.results)
        self._refresh_exercise()
        if self._build_prediction and event.record is not None and not event.cancelled:
            self.app.push_screen(PredictionResultScreen(grade(self._build_prediction, event.record)))
        if event.cancelled or not event.results:
            return
        failure = event.record.failure if event.record is not None else None
        if failure is not None and failure.engine_lost:
            return  # the engine was missing, not the learner's Dockerfile: no attempt, no "not yet"
        self.app.record_attempt(self.lesson, self.exercise, event.passed, event.seconds)
        if event.passed:
            nxt = self._next_exercise_title()
            self.notify(f"All {len(event.results)} checks pass. {nxt}", title="Exercise passed ✓", timeout=8)
        else:
            failed = [r for r in event.results if not r.passed]
            more = f" ({len(failed) - 1} more failed.)" if len(failed) > 1 else ""
            self.notify(
                f"{failed[0].sentence}.{more} The Exercise tab (3) has the details.",
                title=f"Not yet: {len(failed)} of {len(event.results)} checks failed",
                severity="warning",
                timeout=8,
            )
            if failed[0].line:
                self.query_one(DockerfileView).mark({failed[0].line})

    def _next_exercise_title(self) -> str:
        if self.exercise is None:
            return ""
        index = self.lesson.exercises.index(self.exercise)
        if index + 1 < len(self.lesson.exercises):
            return f"Next: {self.lesson.exercises[index + 1].title} (press >)."
        nxt = self.course.next_lesson(self.lesson.id)
        return f"Next lesson: {nxt.title} (press ])." if nxt else "That was the last exercise of the course!"

    @on(BuildEnded)
    def _ended(self, message: BuildEnded) -> None:
        self._drain()
        if message.build_id == self._build_id:
            self._watch_stop = None
            self._run = None
            self.refresh_bindings()
            self._status_note = None
            self._release_gc()
            self._refresh_exercise()

    def _hold_gc(self) -> None:
        """No full garbage collection (a pause of every thread) while this build streams."""
        if not self._gc_held:
            self._gc_held = True
            quiet_gc.hold()

    def _release_gc(self) -> None:
        if self._gc_held:
            self._gc_held = False
            quiet_gc.release()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "build" and event.state == WorkerState.ERROR:
            self._run = None
            self._release_gc()
            self._status_note = None
            error = event.worker.error
            self.query_one(BuildLog).write_line(f"── the build stopped on an unexpected error: {error}")
            self.notify(f"The build stopped on an unexpected error: {error}", title="Build", severity="error")
            self._refresh_exercise()

    # -- other actions --------------------------------------------------------------------------------

    def _saved_hints(self) -> int:
        if self.exercise is None:
            return 0
        return self.app.progress_store.load()[0].exercise(self.lesson.id, self.exercise.id).hints_revealed

    # -- watch mode: the learner edits in their own editor ------------------------------------------------

    def action_toggle_watch(self) -> None:
        if self._watch_stop is not None:
            self._watch_stop.set()
            self.notify("Watch mode off.", title="Watch", timeout=3)
            return
        workspace = self._workspace_to_build("Watch", "watch")
        if workspace is None or self.exercise is None:  # (the second half only narrows the type)
            return
        self._build_id += 1
        self._watch_stop = threading.Event()
        self._show_build_view = True
        self._apply_width(self.app.size.width)
        self.query_one(BuildLog).clear()
        self.notify(f"Watching {workspace}: save a file there and the tutor rebuilds.", title="Watch", timeout=6)
        self._watch_worker(self._build_id, self._watch_stop, self.exercise, workspace)

    @work(thread=True, exclusive=False, exit_on_error=False, group="watch")
    def _watch_worker(self, watch_id: int, stop: threading.Event, exercise: Exercise, workspace: Path) -> None:
        """Only iterates the watch generator; the UI thread handles every event as for a build."""
        lesson = self.lesson

        def new_run(folder: Path):
            return self.app.new_exercise_run(lesson, exercise, folder)

        try:
            for event in watch_exercise(lesson, exercise, stop, workspace=workspace, run_factory=new_run):
                self._send(watch_id, event)
        except WatchError as exc:
            self._send(watch_id, WatchNotice(f"cannot watch: {exc}"))
        finally:
            self.post_message(BuildEnded(watch_id))

    def action_hint(self) -> None:
        if self.exercise is None or not self.exercise.hints:
            self.notify("No hints for this exercise.", title="Hint")
            return
        if self.hints_shown >= len(self.exercise.hints):
            self.notify("That was the last hint.", title="Hint")
        else:
            # Saved, so a restart shows the same hints.
            self.hints_shown = self.app.progress_store.reveal_hint(
                self.lesson.id, self.exercise.id, available=len(self.exercise.hints)
            )
            if self.hints_shown:
                total = len(self.exercise.hints)
                hint = self.exercise.hints[self.hints_shown - 1]
                self.notify(hint, title=f"Hint {self.hints_shown} of {total}", timeout=10)
        self.query_one(TabbedContent).active = "exercise"
        self._refresh_exercise()
        panel = self.query_one(ExercisePanel)
        self.call_after_refresh(panel.scroll_end, animate=False)  # the newest hint is at the bottom

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        if tab == "lesson-text":
            self.query_one(LessonText).focus()
        if self.has_class("narrow"):
            self._show_build_view = False
            self._apply_width(self.app.size.width)

    def action_toggle_view(self) -> None:
        self._show_build_view = not self._show_build_view
        self._apply_width(self.app.size.width)

    def action_back(self) -> None:
        self.app.show_course_map()

    def action_next_lesson(self) -> None:
        self._go_lesson(+1)

    def action_previous_lesson(self) -> None:
        self._go_lesson(-1)

    def _go_lesson(self, delta: int) -> None:
        ids = [lesson.id for lesson in self.course.lessons]
        if self.lesson.id not in ids:
            return
        index = ids.index(self.lesson.id) + delta
        if not 0 <= index < len(ids):
            self.notify("This is the " + ("last" if delta > 0 else "first") + " lesson.", title="Lessons")
            return
        if self.building:
            self.notify("A build is running: cancel it (c) or wait before leaving the lesson.", severity="warning")
            return
        self.app.open_lesson(ids[index])

    def action_next_exercise(self) -> None:
        self._go_exercise(+1)

    def action_previous_exercise(self) -> None:
        self._go_exercise(-1)

    def _go_exercise(self, delta: int) -> None:
        if self.exercise is None or self.building:
            return
        index = self.lesson.exercises.index(self.exercise) + delta
        if 0 <= index < len(self.lesson.exercises):
            self.exercise = self.lesson.exercises[index]
            self.sub_title = self.exercise.title
            self.results, self.record = [], BuildRecord()
            self.hints_shown = self._saved_hints()
            self._load_workspace()
            self.query_one(LayerPane).show_plan(plan(self._dockerfile_text()))
            self.query_one(CachePane).show(self.record)
            self._refresh_exercise()
            self.app.set_current(self.lesson.id, self.exercise.id)
        elif delta > 0:
            self.action_next_lesson()

    # -- edit, predict, solution ------------------------------------------------------------------------

    def action_edit(self) -> None:
        if self.exercise is None or self._workspace is None:
            self.notify("This lesson has no exercise files to edit.", title="Edit")
            return
        goto = failure_location(self.exercise.dockerfile, self._dockerfile_text(), self.record, self.results)
        files = workspace_files(self._workspace, self.exercise.dockerfile)
        last = self.app.last_edited.get(str(self._workspace))
        self.app.push_screen(
            EditorScreen(self._workspace, files, goto, dockerfile=self.exercise.dockerfile, open_file=last),
            self._editor_closed,
        )

    def _editor_closed(self, result: EditorClosed | None) -> None:
        if result is not None and result.current and self._workspace is not None:
            self.app.last_edited[str(self._workspace)] = result.current
        self._load_workspace()  # the Dockerfile tab and the planned steps show the saved files
        if result is not None and result.build:
            self.action_build()

    def action_predict_build(self) -> None:
        if self.building:
            self.notify("A build is already running: wait for it, or press c to cancel it.", title="Build", severity="warning")
            return
        if self.exercise is None or self._workspace is None:
            self.notify("This lesson has no exercise to build.", title="Build")
            return
        self._load_workspace()
        self.app.push_screen(PredictScreen(self._dockerfile_text(), previous=self._build_prediction), self._predicted)

    def _predicted(self, prediction: dict[int, str] | None) -> None:
        if prediction is None:
            self.notify("No prediction made, so nothing was built.", title="Predict", timeout=3)
            return
        self._next_prediction = prediction
        self._start_build()

    def action_solution(self) -> None:
        if self.exercise is None or self._workspace is None:
            self.notify("This lesson has no exercise.", title="Solution")
            return
        self.app.push_screen(
            SolutionScreen(self.lesson.id, self.exercise, self._workspace, self.app.progress_store, self.hints_shown),
            self._solution_closed,
        )

    def _solution_closed(self, result: SolutionClosed | None) -> None:
        self.app.progress = self.app.progress_store.load()[0]
        if result is not None and result.copied:
            self._load_workspace()

    # -- containers: run what was built ------------------------------------------------------------------

    def _containers(self) -> ContainersPane:
        self.action_show_tab("containers")
        pane = self.query_one(ContainersPane)
        pane.focus_table()
        return pane

    def _last_image(self) -> str | None:
        result = self.record.result
        return None if result is None else (result.tags[0] if result.tags else result.image_id)

    def action_run_container(self) -> None:
        if self.building:
            self.notify("A build is running: wait for it (or press c), then press r.", title="Run", severity="warning")
            return
        self._containers().run_image(self._last_image())

    def action_probe(self) -> None:
        self._containers().probe()

    def action_stop_container(self) -> None:
        self._containers().stop()

    def action_remove_container(self) -> None:
        self._containers().remove_container()

    def action_remove_image(self) -> None:
        self._containers().remove_image(self._last_image())

    def action_exec_in_container(self) -> None:
        self._containers().exec_command()

    # -- layers and sizes ---------------------------------------------------------------------------------

    def action_layer_contents(self, step: int | None = None) -> None:
        pane = self.query_one(LayerPane)
        if step is None:
            if not pane.row_count:
                return
            key = pane.ordered_rows[pane.cursor_row].key.value
            if not key or not key.isdigit():  # a stage header row
                self.notify("Pick a step row (not a stage header).", title="Layer contents")
                return
            step = int(key)
        if step not in self.record.steps:
            self.notify("Build first (b): the layers come from the image the build makes.", title="Layer contents")
            return
        image = self.record.result.image_id if self.record.result else ""
        self.app.push_screen(LayerContentsScreen(image, self.record, step, self.app.backend.engine))

    def action_size_race(self) -> None:
        self.app.push_screen(SizeRaceScreen(paths.seat_name(), self.app.backend.engine))

    @on(DataTable.RowSelected, "#layers")
    def _layer_row_selected(self, event: DataTable.RowSelected) -> None:
        key = event.row_key.value
        if key and key.isdigit():
            self.action_layer_contents(int(key))
