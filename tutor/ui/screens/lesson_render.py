"""How the lesson screen draws its exercise session: the panes and the layout.

``LessonPanes`` is the part of the lesson screen that shows an ``ExerciseSession`` (its
``session``) on the panes: the Dockerfile view, the layer pane, the cache pane, the build log and
the exercise panel. It drains the build channel, folds each event into the session and draws what
changed, says the build's end, lays the panes out in one or two columns, and says why a build may
not start (one is running, no exercise, an unsafe build context). The screen itself
(``screens/lesson.py``) composes the panes and answers keys.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import on
from textual.worker import Worker, WorkerState

from tutor import fmt
from tutor.course.checks import CheckResult
from tutor.course.engine_exercise import EngineLooked, EngineWatchFailed
from tutor.course.runner import BuildStarted, CacheExplained, CheckStarted, ExerciseFinished, WorkspaceEdited
from tutor.course.session import ExerciseSession, waiting_words
from tutor.course.watch import FileChanged, WatchNotice, WatchStarted
from tutor.course.workspace import WorkspaceError, prepare_workspace
from tutor.engine.buildkit.plan import plan_names
from tutor.engine.dockerfile import plan
from tutor.engine.events import (
    BuildFailed,
    BuildQueued,
    BuildSucceeded,
    ContextProgress,
    ContextSent,
    StepNeverEnds,
    StepStarted,
)
from tutor.ui.build_workers import BuildWorkers
from tutor.ui.channel import OutputBatch
from tutor.ui.messages import BuildEnded, BuildEventsReady
from tutor.ui.screens.predict import PredictionResultScreen
from tutor.ui.widgets.build_log import BuildLog
from tutor.ui.widgets.cache_pane import CachePane
from tutor.ui.widgets.dockerfile_view import DockerfileView
from tutor.ui.widgets.exercise_panel import EngineView, ExercisePanel, exercise_text
from tutor.ui.widgets.layer_pane import LayerPane
from tutor.workshop.safety import UnsafeContext, check_build_context

if TYPE_CHECKING:
    from tutor.ui.app import TutorApp

NO_BUILD = "No build here: the steps above are what your own docker build runs."
NARROW_WIDTH = 110  # below this, one column: the learner switches views with `v`


class LessonPanes(BuildWorkers):
    """The lesson screen's drawing: its session on the panes, and the panes' layout."""

    session: ExerciseSession

    if TYPE_CHECKING:
        app: TutorApp  # this screen only ever runs in the tutor's app

    def __init__(self) -> None:
        super().__init__()
        self._show_build_view = False

    # -- layout ----------------------------------------------------------------------------------

    def on_resize(self, event) -> None:
        self._apply_width(event.size.width)

    def _apply_width(self, width: int) -> None:
        narrow = width < NARROW_WIDTH
        if narrow != self.has_class("narrow"):
            self.refresh_bindings()  # v matters in one column only: the footer shows it there
        self.set_class(narrow, "narrow")
        self.set_class(narrow and self._show_build_view, "build-view")

    def _show_build_panes(self) -> None:
        self._show_build_view = True
        self._apply_width(self.app.size.width)

    def footer_hides(self, action: str) -> bool:
        """Keys that work but do nothing useful now, left out of the footer to make room."""
        if action == "cancel_build":
            return not self.building
        if action == "toggle_view":
            return not self.has_class("narrow")
        return False

    # -- drawing the session ---------------------------------------------------------------------

    def _load_workspace(self) -> None:
        session, view = self.session, self.query_one(DockerfileView)
        if session.exercise is None:
            view.show("", "No exercise in this lesson")
            self.query_one(LayerPane).show_plan([])
            return
        try:
            session.workspace = prepare_workspace(session.lesson, session.exercise, seat=self.app.seat.name)
        except WorkspaceError as exc:
            session.workspace = None
            self.notify(str(exc), title="Exercise files", severity="error", timeout=10)
            view.show("", "Dockerfile unavailable")
            return
        view.show(session.dockerfile_text(), f"{session.exercise.dockerfile}  ({session.workspace})")
        planned = session.planned_steps()
        if not session.record.steps:
            targets = session.exercise.targets  # the first build builds the first target
            self.query_one(LayerPane).show_plan(planned, self._plan_names(targets[0] if targets else None))

    def _plan_names(self, target: str | None = None) -> dict[int, str] | None:
        """How the builder this exercise builds with will name its steps: BuildKit's names, or
        None for the classic builder's numbers."""
        exercise = self.session.exercise
        chosen = (exercise.builder if exercise is not None else None) or self.app.builder
        report = self.app.engine_report
        if chosen == "classic" or (report is not None and not report.engine.buildkit):
            return None
        text = self.session.dockerfile_text()
        # A target the file lacks yet (the build will say so): the whole file, as BuildKit names it
        return plan_names(text, target) or plan_names(text)

    def _refresh_exercise(self) -> None:
        s = self.session
        workspace = str(s.workspace) if s.workspace else None
        engine = None
        if s.exercise is not None and s.exercise.watches_engine:
            engine = EngineView(s.engine_objects, s.engine_note, watching=self.watching_engine)
        text = exercise_text(
            s.lesson, s.exercise, s.results, s.hints(), running=s.status_note, workspace=workspace, engine=engine
        )
        self.query_one(ExercisePanel).show(text)

    def _engine_exercise(self) -> bool:
        return self.session.exercise is not None and self.session.exercise.watches_engine

    def _watch_engine_if_asked(self) -> None:
        """An exercise done with the docker CLI: watch the engine while it is open; else stop."""
        s = self.session
        if s.exercise is None or not s.exercise.watches_engine:
            self.stop_engine_watch()
            return
        self.query_one(CachePane).show(s.record, NO_BUILD)
        lesson, exercise, workspace, backend, seat = s.lesson, s.exercise, s.workspace, self.app.backend, self.app.seat.name
        self.watch_engine(s.start(build=False), lambda stop: backend.watch_exercise(lesson, exercise, workspace, stop, seat))

    def _engine_looked(self, event: EngineLooked) -> None:
        session = self.session
        self._refresh_exercise()
        if not session.engine_newly_passed(event):
            return
        self.app.record_attempt(session.lesson, session.exercise, True, 0.0)
        self.notify(
            f"{'All ' + str(len(event.results)) + ' checks pass' if len(event.results) > 1 else 'The check passes'} "
            f"on the engine. {session.next_exercise_title()}",
            title="Exercise passed ✓",
            timeout=8,
        )

    def _show_fresh_build(self) -> None:
        targets = self.session.exercise.targets if self.session.exercise is not None else ()
        names = self._plan_names(targets[0] if targets else None)
        self.query_one(LayerPane).show_plan(plan(self.session.dockerfile_text()), names)
        exercise = self.session.exercise
        self.query_one(CachePane).show(self.session.record, NO_BUILD if exercise and exercise.watches_engine else None)

    @on(BuildEventsReady)
    def _drain(self, message: BuildEventsReady | None = None) -> None:
        lines: list[str] = []
        log = self.query_one(BuildLog)
        touched = False
        for build_id, event in self.channel.drain():
            if not self.session.is_current(build_id):
                continue  # a cancelled build's stragglers
            if isinstance(event, OutputBatch):
                lines.extend(event.texts)
                self.session.apply_output(event.step, event.plains)
                continue
            if lines:
                log.write_lines(lines)
                lines = []
            self._show(event, self.query_one(LayerPane), log)
            touched = True
        if lines:
            log.write_lines(lines)
        if touched and self.session.explanation is None and not self._engine_exercise():
            self.query_one(CachePane).show(self.session.record)

    def _show(self, event: object, layers: LayerPane, log: BuildLog) -> None:
        """Fold one event into the session, then show it."""
        session = self.session
        state = session.apply(event)
        match event:
            case WatchStarted():
                log.write_line(f"── watching {session.workspace}: save a file of the exercise to rebuild (w stops)")
            case FileChanged(paths=changed):
                log.clear()
                log.write_line(f"── saved {', '.join(changed)}: rebuilding")
                self._load_workspace()  # the saved Dockerfile, and its steps as the plan
                self._refresh_exercise()
            case WatchNotice(message=message):
                log.write_line(f"── {message}")
            case BuildStarted(label=label, index=index, total=total, tag=tag, target=target):
                layers.show_plan(plan(session.dockerfile_text()), self._plan_names(target))
                log.write_line(f"── {label} ({index}/{total}) → {tag}")
                self._refresh_exercise()
            case WorkspaceEdited(description=description):
                log.write_line(f"── scenario: {description}")
            case CacheExplained(explanation=explanation):
                text = explanation.summary
                if explanation.details:
                    text += "\n" + "\n".join(explanation.details[:3])
                self.query_one(CachePane).show(session.record, text)
            case CheckStarted() | CheckResult():
                self._refresh_exercise()
            case ExerciseFinished():
                self._finished(event)
            case EngineLooked():
                self._engine_looked(event)
            case EngineWatchFailed():
                self._refresh_exercise()
            case BuildQueued(ahead=ahead, slots=slots):
                log.write_line(
                    f"── waiting for the engine: {waiting_words(ahead)} (it takes {slots} at a time in this workshop)"
                )
                self._refresh_exercise()
            case ContextProgress(phase=phase, files=files, bytes=size, total_bytes=total_bytes):
                log.border_subtitle = fmt.context_progress(phase, files, size, total_bytes)
            case StepNeverEnds(reason=reason, advice=advice):
                log.write_wrapped(reason, prefix="── this build will not end: ", style="\x1b[33;1m")
                self.notify(f"{reason[0].upper()}{reason[1:]}. {advice}", title="RUN or CMD?", severity="warning", timeout=30)
            case _:
                self._show_build_event(event, state, layers, log)

    def _show_build_event(self, event: object, state, layers: LayerPane, log: BuildLog) -> None:
        record = self.session.record
        if isinstance(event, ContextSent):
            log.write_line(f"context: {event.files} files, {fmt.size(event.bytes)}")
        elif isinstance(event, StepStarted) and state is not None:
            log.border_subtitle = ""
            self.query_one(DockerfileView).mark(self.session.lines_of(event.step))
        if state is not None:
            layers.show_step(state)
        if isinstance(event, BuildFailed):
            layers.point_at(event.step)
            self._failed(event, log)
        elif isinstance(event, BuildSucceeded):
            layers.mark_final_stage(record.final_stage)
            first = record.first_miss
            layers.point_at(first.step if first else None)
            self.query_one(DockerfileView).mark(set())
            tags = ", ".join(event.tags) or event.image_id
            log.write_line(
                f"── built {tags}: {fmt.size(event.image_size)}, {record.cache_hits}/{record.counted_steps} "
                f"steps from cache, {fmt.seconds(event.seconds)}"
            )
            if event.store_sizes is not None:  # the containerd image store: docker images says otherwise
                log.write_line(f"   {fmt.store_figures(event.store_sizes.disk, event.store_sizes.content)}")

    def _failed(self, event: BuildFailed, log: BuildLog) -> None:
        self.query_one(DockerfileView).mark(self.session.lines_of(event.step))
        if event.cancelled:
            log.write_line("── build cancelled")
            return
        where = f"step {event.step}: " if event.step else (f"line {event.line}: " if event.line else "")
        log.write_wrapped(event.message, prefix=f"── build failed: {where}", style="\x1b[31;1m")
        if event.fix:
            log.write_wrapped(event.fix, prefix="── fix: ")
        if event.engine_lost and not self.session.record.steps:
            self.app.show_engine_problem(event.message, event.fix or "")
            return
        self.notify(f"{where}{event.message}", title="Build failed", severity="error", timeout=8)

    def _finished(self, event: ExerciseFinished) -> None:
        session = self.session
        self._refresh_exercise()
        graded = session.prediction_grade(event)
        if graded is not None:
            self.app.push_screen(PredictionResultScreen(graded))
        if not session.counts_as_attempt(event):
            return  # cancelled, or the engine was missing: not the learner's Dockerfile, no "not yet"
        self.app.record_attempt(session.lesson, session.exercise, event.passed, event.seconds)
        if event.passed:
            nxt = session.next_exercise_title()
            self.notify(f"All {len(event.results)} checks pass. {nxt}", title="Exercise passed ✓", timeout=8)
            return
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

    @on(BuildEnded)
    def _ended(self, message: BuildEnded) -> None:
        self._drain()
        if self.session.is_current(message.build_id):
            self.build_stopped()
            self.refresh_bindings()
            self.session.ended()
            self._refresh_exercise()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "build" and event.state == WorkerState.ERROR:
            self._run = None
            self._release_gc()
            self.session.ended()
            error = event.worker.error
            self.query_one(BuildLog).write_line(f"── the build stopped on an unexpected error: {error}")
            self.notify(f"The build stopped on an unexpected error: {error}", title="Build", severity="error")
            self._refresh_exercise()

    # -- before a build --------------------------------------------------------------------------

    def _workspace_to_build(self, title: str, verb: str) -> Path | None:
        """The exercise's workspace when a build (or watch) may start now; else None, said why."""
        if self.building:
            self.notify("A build is already running: wait for it, or press c to cancel it.", title=title, severity="warning")
            return None
        if self.session.exercise is None:
            self.notify(f"This lesson has no exercise to {verb}.", title=title)
            return None
        self._load_workspace()
        workspace = self.session.workspace
        if workspace is None:
            return None
        try:
            # A symlink out of the workspace would send files the learner should not ship (or see).
            check_build_context(workspace, self.app.seat.workspace, self.session.exercise.dockerfile)
        except UnsafeContext as exc:
            self.notify(f"{exc.message}. {exc.fix}", title="Build refused", severity="error", timeout=12)
            return None
        return workspace
