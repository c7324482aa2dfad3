"""The tutor app: owns the course, the progress store and the backend; screens ask it for them."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import ModalScreen, Screen

from tutor import paths
from tutor.course.loader import load_course
from tutor.course.model import Course, Exercise, Lesson
from tutor.course.progress import ProgressStore, lesson_state, resume_point
from tutor.engine.build import AUTO, BUILDKIT, CLASSIC, COURSE_BUILDER
from tutor.seat import Seat
from tutor.ui import quiet_gc
from tutor.ui.backend import Backend, EngineBackend
from tutor.ui.messages import ContinueChosen, EngineStatusChanged, LessonChosen
from tutor.ui.screens.course_map import CourseMapScreen
from tutor.ui.screens.docker_prompt import PromptMemory
from tutor.ui.screens.engine_problem import EngineProblemScreen
from tutor.ui.screens.help import HelpScreen
from tutor.ui.widgets.engine_status import EngineStatus
from tutor.ui.widgets.lesson_text import LessonText

if TYPE_CHECKING:  # loaded when first needed: start-up shows the course map without them
    from tutor.course.runner import ExerciseRun
    from tutor.engine.doctor import DoctorReport
    from tutor.ui.screens.docker_prompt import PromptPlace
    from tutor.workshop.docker_prompt_rules import PromptRules

ENGINE_CHECK_SECONDS = 10.0

# The engine check's thread imports the docker SDK while the UI thread may import the lesson screen,
# which imports it too. Two threads importing one package can find it half made (KeyError:
# 'docker.api', a traceback instead of the lesson), so those two imports take turns.
SDK_IMPORT = threading.Lock()

# Every screen's stylesheet, read with the app's. Textual reads a screen's CSS_PATH when the screen
# is first shown and then restyles every widget of every screen; read up front, the parse is cached
# and opening help or a lesson the first time skips that pass.
SCREEN_CSS = tuple(
    sorted(str(path) for folder in ("screens", "dialogs") for path in (Path(__file__).parent / folder).glob("*.tcss"))
)


class TutorApp(App):
    CSS_PATH = ["app.tcss", *SCREEN_CSS]
    TITLE = "tutor"
    SUB_TITLE = "how Docker images are made"
    BINDINGS = [
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("d", "docker_prompt", "Docker", tooltip="A docker prompt: type docker commands, run on this seat's engine"),
    ]

    def __init__(
        self,
        lessons_dir: Path | None = None,
        backend: Backend | None = None,
        engine_check_seconds: float = ENGINE_CHECK_SECONDS,
        seat: Seat | None = None,
        builder: str = COURSE_BUILDER,
    ) -> None:
        super().__init__()
        self.builder = builder  # auto | buildkit | classic: how the exercises build
        self.lessons_dir = Path(lessons_dir) if lessons_dir else paths.shipped_lessons()
        self.backend: Backend = backend or EngineBackend()
        # The seat this app serves, learnt once here and handed to whatever needs it.
        self.seat: Seat = seat or Seat.from_environment(self.backend.engine)
        self.engine_report: DoctorReport | None = None
        self.engine_check_seconds = engine_check_seconds
        self.course: Course = load_course(self.lessons_dir)
        self.progress_store = ProgressStore(self.seat.progress_file)  # the seat learnt above, not the environment again
        self.progress, notice = self.progress_store.load()
        self._startup_notice = notice
        self.reading_positions: dict[str, float] = {}  # lesson id -> how far its text was scrolled
        self.last_edited: dict[str, str] = {}  # workspace -> the file the editor last had open
        self.docker_prompt_memory = PromptMemory()  # the docker prompt's history and output, kept while it is closed

    # -- start -----------------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.push_screen(CourseMapScreen(self.course, self._states(), self._current_lesson(), self._passed()))
        if self.progress.current is not None:
            # Reopen where the learner left off: the current exercise, or the next one to do.
            lesson_id, exercise_id = resume_point(self.course, self.progress)
            if lesson_id is not None:
                self.open_lesson(lesson_id, exercise_id)
        if self._startup_notice:
            self.notify(self._startup_notice, title="Progress", severity="warning", timeout=12)
        for problem in self.course.problems[:3]:
            self.notify(str(problem), title="Lesson skipped", severity="warning", timeout=10)
        # Soon, not at once: the check loads the docker SDK (a third of a second of CPU), and the
        # course map should answer keys first.
        self.set_timer(0.4, self.check_engine)
        if self.engine_check_seconds > 0:
            self.set_interval(self.engine_check_seconds, self.check_engine)
        self.set_timer(1.0, self.watch_lessons)  # edits to lessons matter later, not in the first second
        # What start-up made (Textual's objects, the course) lives as long as the app: freezing it
        # keeps it out of the collector's full passes, which took 50-170 ms each during big builds.
        # Settling also ends the pause of collections that `tutor` starts with.
        self.call_after_refresh(quiet_gc.settle)

    @property
    def host_port_range(self) -> tuple[int, int] | None:
        """The host ports the learner's containers are offered; None: the container's own port."""
        return None

    def _states(self) -> dict[str, str]:
        return {lesson.id: lesson_state(lesson, self.progress) for lesson in self.course.lessons}

    def _passed(self) -> int:
        return sum(
            1 for lesson in self.course.lessons for e in lesson.exercises if self.progress.exercise(lesson.id, e.id).passed
        )

    def _current_lesson(self) -> str | None:
        return resume_point(self.course, self.progress)[0]

    # -- the engine ------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="engine")
    def check_engine(self) -> None:
        with SDK_IMPORT:
            import docker  # noqa: F401 - whole, before the check uses it (see SDK_IMPORT)
        self.post_message(EngineStatusChanged(self.backend.check_engine()))

    def on_engine_status_changed(self, message: EngineStatusChanged) -> None:
        self.engine_report = message.report
        for screen in self.screen_stack:
            for widget in screen.query(EngineStatus):
                widget.report = message.report

    def use_builder(self, builder: str) -> None:
        """The exercises' next builds use ``builder``; every status line says so."""
        self.builder = builder
        for screen in self.screen_stack:
            for widget in screen.query(EngineStatus):
                widget.builder = builder
        word = "BuildKit" if builder == BUILDKIT else "the classic builder" if builder == CLASSIC else "auto: what `docker build` uses here"
        self.notify(f"The next builds use {word}.", title="Builder", timeout=5)

    def show_engine_problem(self, reason: str, fix: str) -> None:
        self.push_screen(EngineProblemScreen(reason, fix))
        self.check_engine()

    def new_exercise_run(
        self, lesson: Lesson, exercise: Exercise, workspace: Path, prediction: Mapping[int, str] | None = None
    ) -> ExerciseRun:
        from tutor.course.runner import ExerciseRun

        return ExerciseRun(
            exercise,
            workspace,
            lesson.id,
            seat=self.seat.name,
            engine=self.backend.engine,
            build_factory=self.backend.new_build,
            prediction=prediction,
            builder=self.builder,
            queue=self.seat.build_queue,
        )

    # -- course and progress ---------------------------------------------------------------------

    @work(exclusive=True, group="lessons-watch", exit_on_error=False)
    async def watch_lessons(self) -> None:
        """Lessons edited on disk show up without a restart."""
        from watchfiles import awatch

        async for _changes in awatch(self.lessons_dir, debounce=400, recursive=True):
            self.reload_course()

    def reload_course(self) -> None:
        with SDK_IMPORT:
            from tutor.ui.screens.lesson import LessonScreen

        self.course = load_course(self.lessons_dir)
        self._refresh_map()
        for screen in self.screen_stack:
            if isinstance(screen, LessonScreen):
                fresh = self.course.lesson(screen.lesson.id)
                if fresh is not None and fresh.body != screen.lesson.body:
                    screen.session.lesson = fresh
                    screen.query_one(LessonText).update(fresh.body)
        self.notify("The course changed on disk and was reloaded.", title="Lessons", timeout=4)

    def record_attempt(self, lesson: Lesson, exercise: Exercise | None, passed: bool, seconds: float) -> None:
        if exercise is None:
            return
        self.progress_store.record_attempt(lesson.id, exercise.id, passed, seconds)
        self.progress = self.progress_store.load()[0]
        self._refresh_map()

    def set_current(self, lesson_id: str, exercise_id: str | None) -> None:
        self.progress_store.set_current(lesson_id, exercise_id)
        self.progress = self.progress_store.load()[0]
        self._refresh_map()

    def _refresh_map(self) -> None:
        """The course map under the lesson shows the progress as it is now, not as it was at start."""
        for screen in self.screen_stack:
            if isinstance(screen, CourseMapScreen) and screen.is_mounted:
                screen.refresh_course(self.course, self._states(), self._current_lesson(), self._passed())

    # -- navigation ------------------------------------------------------------------------------

    def on_lesson_chosen(self, message: LessonChosen) -> None:
        self.open_lesson(message.lesson_id)

    def on_continue_chosen(self, _message: ContinueChosen) -> None:
        from tutor.course.progress import is_done

        lesson_id, exercise_id = resume_point(self.course, self.progress)
        if lesson_id is None:
            self.notify("This course has no lessons.", title="Continue")
            return
        if is_done((lesson_id, exercise_id), self.progress):
            self.notify("You passed every exercise: the course is done. Pick any lesson to go over it again.", title="Continue")
            return
        self.open_lesson(lesson_id, exercise_id)

    def open_lesson(self, lesson_id: str, exercise_id: str | None = None) -> None:
        lesson = self.course.lesson(lesson_id)
        if lesson is None:
            self.notify(f"No lesson '{lesson_id}' in this course.", severity="error")
            return
        if exercise_id is None:
            point = resume_point(self.course, self.progress)
            if point[0] == lesson_id:
                exercise_id = point[1]
        with SDK_IMPORT:
            from tutor.ui.screens.lesson import LessonScreen

        self.set_current(lesson_id, exercise_id or (lesson.exercises[0].id if lesson.exercises else None))
        while len(self.screen_stack) > 2:
            self.pop_screen()
        if isinstance(self.screen, LessonScreen):
            self.switch_screen(LessonScreen(self.course, lesson, exercise_id))
        else:
            self.push_screen(LessonScreen(self.course, lesson, exercise_id))

    def show_course_map(self) -> None:
        while len(self.screen_stack) > 2:
            self.pop_screen()
        if isinstance(self.screen, CourseMapScreen):
            return
        self.pop_screen()
        self._refresh_map()

    async def action_quit(self) -> None:
        """Quit, but never lose unsaved edits, and leave no build running on the engine."""
        from tutor.ui.screens.editor import EditorScreen, SaveChangesScreen

        editors = [s for s in self.screen_stack if isinstance(s, EditorScreen) and s.modified]
        if editors:
            editor = editors[-1]

            def decided(choice: str | None) -> None:
                if choice == "save" and editor.save():
                    self._quit_cleanly()
                elif choice == "discard":
                    self._quit_cleanly()

            self.push_screen(SaveChangesScreen(editor.modified), decided)
            return
        self._quit_cleanly()

    def _quit_cleanly(self) -> None:
        from tutor.engine.container_actions import keep_containers_setting, stop_started_containers

        for screen in self.screen_stack:
            cancel = getattr(screen, "cancel_running_build", None)
            if cancel is not None:
                cancel()
        # docker rm -f of the containers this process ran (TUTOR_KEEP_CONTAINERS=1 keeps them); never raises.
        report = stop_started_containers(self.backend.engine, self.seat.name, keep=keep_containers_setting())
        self.exit(message=report.summary() or None)

    # -- the docker prompt -----------------------------------------------------------------------

    def action_docker_prompt(self) -> None:
        from tutor.ui.screens.docker_prompt import DockerPromptScreen

        if isinstance(self.screen, (DockerPromptScreen, ModalScreen)):
            return
        self.push_screen(DockerPromptScreen(self.docker_prompt_place(), self.docker_prompt_memory))

    def docker_prompt_place(self) -> PromptPlace:
        """Where the prompt's commands run: the open exercise's folder (so `docker build .` builds
        it), else the seat's workspace; with the seat's rules, engine and environment."""
        from tutor.ui.screens.docker_prompt import PromptPlace

        cwd, lesson = self.seat.workspace, None
        for screen in reversed(self.screen_stack):
            session = getattr(screen, "session", None)  # the lesson screen's ExerciseSession
            workspace = getattr(session, "workspace", None)
            if isinstance(workspace, Path) and workspace.is_dir():
                cwd, lesson = workspace, getattr(getattr(session, "lesson", None), "id", None)
                break
        cwd.mkdir(parents=True, exist_ok=True)
        return PromptPlace(cwd, self.prompt_rules(), self.backend.engine, dict(os.environ), lesson)

    def prompt_rules(self) -> PromptRules:
        """The docker prompt's rules for this app's seat: a workshop seat's when the seat is one."""
        with SDK_IMPORT:  # the rules read the engine's modules, which load the docker SDK
            from tutor.workshop.docker_prompt_rules import PromptRules

        return PromptRules.for_seat(self.seat, self.host_port_range)

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.screen))

    # -- command palette: every action of the current screen ---------------------------------------

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        """Save an SVG of the screen where the toast says, or say why it could not be saved."""
        from tutor.ui.screenshot import save_svg, screenshot_name, screenshots_dir

        if self.is_web:
            self.deliver_screenshot(filename, path)  # a browser seat downloads it
            return
        folder = Path(path).expanduser() if path else screenshots_dir()
        try:
            saved = save_svg(self.export_screenshot(), folder, filename or screenshot_name(self.screen.title or self.title))
        except OSError as exc:
            why = exc.strerror or str(exc)
            where = exc.filename or folder
            self.notify(f"Not saved: {why}: {where}", title="Screenshot", severity="error", timeout=10)
            return
        self.notify(f"Saved {saved}", title="Screenshot", timeout=8, markup=False)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        from tutor.ui.screenshot import screenshots_dir

        for command in super().get_system_commands(screen):
            if command.title == "Screenshot":
                # Textual's saves in a Downloads folder that may not exist and says only "failed".
                command = SystemCommand(
                    "Screenshot",
                    f"Save an SVG picture of this screen in {screenshots_dir()}",
                    lambda: self.set_timer(0.1, self.run_action_screenshot),
                )
            yield command
        for builder, what in ((AUTO, "what your own `docker build` uses"), (BUILDKIT, "BuildKit"), (CLASSIC, "the classic builder")):
            if builder != self.builder:
                yield SystemCommand(
                    f"Builder: {builder}", f"Build the exercises with {what}", partial(self.use_builder, builder)
                )
        seen: set[str] = set()
        for active in screen.active_bindings.values():
            binding = active.binding
            if not binding.description or binding.description in seen or binding.action in ("command_palette",):
                continue
            seen.add(binding.description)
            key = binding.key_display or self.get_key_display(binding)
            yield SystemCommand(
                binding.tooltip or binding.description,
                f"key: {key}",
                partial(self._run_binding, active.node, binding.action),
            )

    def run_action_screenshot(self) -> None:
        # Through the action, so an app that forbids screenshots (a kiosk) still does.
        self.call_later(self.run_action, "screenshot")

    def _run_binding(self, node, action: str) -> None:
        self.call_later(self.run_action, action, node)
