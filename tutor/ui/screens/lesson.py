"""The lesson screen: the text, the Dockerfile, and the live build panes.

What the exercise attempt is (its build record, check results, hints, prediction) is an
``ExerciseSession``; this screen composes the panes and answers keys. The builds run in thread
workers (``BuildWorkers``) that drop each event into a channel; how the UI thread drains it, folds
each event into the session and draws it on the panes is ``LessonPanes`` (``lesson_render.py``).
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import DataTable, Header, TabbedContent, TabPane

from tutor.course.model import Course, Lesson
from tutor.course.session import ExerciseSession
from tutor.ui import quiet_gc
from tutor.ui.screens.editor import EditorClosed, EditorScreen, failure_location, workspace_files
from tutor.ui.screens.layer_contents import LayerContentsScreen
from tutor.ui.screens.lesson_keys import LESSON_KEYS
from tutor.ui.screens.lesson_render import LessonPanes
from tutor.ui.screens.predict import PredictScreen
from tutor.ui.screens.size_race import SizeRaceScreen
from tutor.ui.screens.solution import SolutionClosed, SolutionScreen
from tutor.ui.widgets.build_log import BuildLog
from tutor.ui.widgets.cache_pane import CachePane
from tutor.ui.widgets.containers_pane import AskLearner, ContainersPane
from tutor.ui.widgets.dockerfile_view import DockerfileView
from tutor.ui.widgets.engine_status import EngineStatus
from tutor.ui.widgets.exercise_panel import ExercisePanel
from tutor.ui.widgets.footer import KeysFooter
from tutor.ui.widgets.layer_pane import LayerPane
from tutor.ui.widgets.lesson_text import LessonText


class LessonScreen(LessonPanes):
    CSS_PATH = "lesson.tcss"
    AUTO_FOCUS = "#lesson-scroll"  # the text answers the arrow and page keys from the start
    BINDINGS = LESSON_KEYS

    def __init__(self, course: Course, lesson: Lesson, exercise_id: str | None = None) -> None:
        super().__init__()
        self.course = course
        self.session = ExerciseSession.open(course, lesson, exercise_id)

    # Read-only views of the session, for the app and the tests.
    lesson = property(lambda self: self.session.lesson)
    exercise = property(lambda self: self.session.exercise)
    record = property(lambda self: self.session.record)
    results = property(lambda self: self.session.results)
    hints_shown = property(lambda self: self.session.hints_shown)
    _workspace = property(lambda self: self.session.workspace)
    _status_note = property(lambda self: self.session.status_note)
    builds_started = property(lambda self: self.session.build_id)

    # -- layout ----------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="lesson-body"):
            with TabbedContent(id="left", initial="lesson-text"):
                with TabPane("Lesson", id="lesson-text"):
                    yield LessonText(self.lesson.body, self.app.reading_positions, self.lesson.id, id="lesson-scroll")
                with TabPane("Dockerfile", id="dockerfile"):
                    yield DockerfileView(id="dockerfile-view")
                with TabPane("Exercise", id="exercise"):
                    yield ExercisePanel(id="exercise-panel")
                with TabPane("Containers", id="containers"):
                    yield ContainersPane(
                        engine=self.app.backend.engine,
                        lesson=self.lesson.id,
                        seat=self.app.seat.name,
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
        self.sub_title = self.session.exercise.title if self.session.exercise else ""
        self.session.load_hints(self.app.progress_store)
        self._load_workspace()
        self._watch_engine_if_asked()
        self._refresh_exercise()
        self._apply_width(self.app.size.width)
        # Once drawn, the screen's widgets live as long as it does: keep them out of full passes.
        self.set_timer(0.5, quiet_gc.settle)


    # -- building --------------------------------------------------------------------------------

    def _done_on_the_engine(self, title: str) -> bool:
        """An exercise done with the docker CLI has nothing to build: say what to type instead."""
        exercise, workspace = self.session.exercise, self.session.workspace
        if exercise is None or not exercise.watches_engine:
            return False
        where = f" in {workspace}" if workspace else ""
        self.notify(
            f"The tutor builds nothing here: type the exercise's command in a terminal{where}, or press d "
            "for the docker prompt. The checks tick as the engine changes.",
            title=title,
            timeout=10,
        )
        return True

    def action_build(self) -> None:
        if self._done_on_the_engine("Build"):
            return
        exercise = self.session.exercise
        if exercise is not None and exercise.predict and self.session.next_prediction is None and not self.building:
            self.action_predict_build()  # this exercise is graded on the learner's prediction
            return
        self._start_build()

    def _start_build(self) -> None:
        if self.watching:
            self.notify("Watch mode is on: save a file to rebuild, or press w to stop watching.", title="Build")
            return
        workspace = self._workspace_to_build("Build", "build")
        session = self.session
        if workspace is None or session.exercise is None:  # (the second half only narrows the type)
            return
        build_id = session.start()
        self._show_fresh_build()
        self.query_one(BuildLog).clear()
        self._refresh_exercise()
        self._show_build_panes()
        run = self.app.new_exercise_run(self.lesson, session.exercise, workspace, prediction=session.build_prediction)
        self.run_build(run, build_id)

    def action_cancel_build(self) -> None:
        if self._run is None:
            self.notify("No build is running.", title="Cancel")
            return
        self._run.cancel()
        self.notify("Cancelling the build…", title="Cancel")

    def action_toggle_watch(self) -> None:
        if not self.watching and self._done_on_the_engine("Watch"):
            return
        if self.watching:
            self.stop_watching()
            self.notify("Watch mode off.", title="Watch", timeout=3)
            return
        workspace = self._workspace_to_build("Watch", "watch")
        exercise = self.session.exercise
        if workspace is None or exercise is None:  # (the second half only narrows the type)
            return
        watch_id = self.session.start(build=False)
        self._show_build_panes()
        self.query_one(BuildLog).clear()
        self.notify(f"Watching {workspace}: save a file there and the tutor rebuilds.", title="Watch", timeout=6)
        lesson, new_run = self.lesson, self.app.new_exercise_run
        self.run_watch(watch_id, lesson, exercise, workspace, lambda folder: new_run(lesson, exercise, folder))

    # -- hints, views and moving around -----------------------------------------------------------

    def action_hint(self) -> None:
        session = self.session
        if session.exercise is None or not session.exercise.hints:
            self.notify("No hints for this exercise.", title="Hint")
            return
        total = len(session.exercise.hints)
        if session.hints_shown >= total:
            self.notify("That was the last hint.", title="Hint")
        elif (hint := session.reveal_hint(self.app.progress_store)) is not None:  # saved: a restart shows it too
            self.notify(hint, title=f"Hint {session.hints_shown} of {total}", timeout=10)
        self.query_one(TabbedContent).active = "exercise"
        self._refresh_exercise()
        panel = self.query_one(ExercisePanel)
        self.call_after_refresh(panel.scroll_end, animate=False)  # the newest hint is at the bottom

    def action_show_tab(self, tab: str) -> None:
        # The new tab's widget takes the focus at once, in one change: a widget hidden while it
        # still has the focus hands it on to a neighbour in its own tab, and TabbedContent then
        # shows that tab again (from the containers table, 3 bounced back), and each focus change
        # costs a restyle and a new footer. The tab already shown keeps its focus: a key held
        # down must not keep the UI thread busy.
        tabs = self.query_one(TabbedContent)
        shown: dict[str, type[Widget]] = {"lesson-text": LessonText, "dockerfile": DockerfileView, "exercise": ExercisePanel}
        target = self.query_one(shown[tab]) if tab in shown else None
        if tabs.active != tab:
            # The containers pane picks its own widget to focus, later: nothing may keep it till then.
            self.set_focus(target)
            tabs.active = tab
        elif target is not None and self.focused is not target:
            self.set_focus(target)  # the tab shown, the focus elsewhere (the layer table): back to the tab
        if tab == "containers":
            self.query_one(ContainersPane).focus_table()
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
        if self.session.exercise is None or self.building:
            return
        exercise = self.session.select(delta)
        if exercise is None:
            if delta > 0 and self.lesson.exercises.index(self.session.exercise) + delta >= len(self.lesson.exercises):
                self.action_next_lesson()
            return
        self.sub_title = exercise.title
        self.session.load_hints(self.app.progress_store)
        self._load_workspace()
        self._watch_engine_if_asked()
        self._show_fresh_build()
        self._refresh_exercise()
        self.app.set_current(self.lesson.id, exercise.id)

    # -- edit, predict, solution -------------------------------------------------------------------

    def action_edit(self) -> None:
        session = self.session
        if session.exercise is None or session.workspace is None:
            self.notify("This lesson has no exercise files to edit.", title="Edit")
            return
        goto = failure_location(session.exercise.dockerfile, session.dockerfile_text(), session.record, session.results)
        files = workspace_files(session.workspace, session.exercise.dockerfile)
        last = self.app.last_edited.get(str(session.workspace))
        editor = EditorScreen(session.workspace, files, goto, dockerfile=session.exercise.dockerfile, open_file=last)
        self.app.push_screen(editor, self._editor_closed)

    def _editor_closed(self, result: EditorClosed | None) -> None:
        if result is not None and result.current and self.session.workspace is not None:
            self.app.last_edited[str(self.session.workspace)] = result.current
        self._load_workspace()  # the Dockerfile tab and the planned steps show the saved files
        if result is not None and result.build:
            self.action_build()

    def action_predict_build(self) -> None:
        if self.building:
            self.notify("A build is already running: wait for it, or press c to cancel it.", title="Build", severity="warning")
            return
        if self.session.exercise is None or self.session.workspace is None:
            self.notify("This lesson has no exercise to build.", title="Build")
            return
        self._load_workspace()
        screen = PredictScreen(self.session.dockerfile_text(), previous=self.session.build_prediction)
        self.app.push_screen(screen, self._predicted)

    def _predicted(self, prediction: dict[int, str] | None) -> None:
        if prediction is None:
            self.notify("No prediction made, so nothing was built.", title="Predict", timeout=3)
            return
        self.session.next_prediction = prediction
        self._start_build()

    def action_solution(self) -> None:
        s = self.session
        if s.exercise is None or s.workspace is None:
            self.notify("This lesson has no exercise.", title="Solution")
            return
        if s.exercise.watches_engine:
            commands = "\n".join(f"$ {line}" for line in s.exercise.solution_commands)
            self.notify(commands, title="The commands that do it", timeout=15)
            return
        screen = SolutionScreen(self.lesson.id, s.exercise, s.workspace, self.app.progress_store, s.hints_shown)
        self.app.push_screen(screen, self._solution_closed)

    def _solution_closed(self, result: SolutionClosed | None) -> None:
        self.app.progress = self.app.progress_store.load()[0]
        if result is not None and result.copied:
            self._load_workspace()

    # -- containers, layers and sizes --------------------------------------------------------------

    def action_remove_lesson_objects(self) -> None:
        """Remove what this lesson's exercises asked the learner to make (by its names), after asking."""
        from tutor.course.engine_exercise import exercise_names
        from tutor.ui.dialogs.run_dialog import ConfirmDialog

        names = exercise_names(self.lesson.exercises)
        if not names.tags and not names.names:
            self.notify("This lesson asks you to make nothing on the engine.", title="Remove")
            return
        containers = " ".join(names.names)
        tags = " ".join(names.tags)
        cli = " && ".join(part for part in (f"docker rm -f {containers}" if containers else "", f"docker rmi {tags}" if tags else "") if part)
        detail = "Only these names, and none another seat made; nothing else on the engine is touched."
        what = ", ".join((*names.names, *names.tags))
        dialog = ConfirmDialog(f"Remove this lesson's containers and images ({what})?", detail, cli)

        def answered(yes: bool | None) -> None:
            if yes:
                self._remove_lesson_objects(names, self.app.seat.name)

        self.app.push_screen(dialog, answered)

    @work(thread=True, exclusive=True, exit_on_error=False, group="remove")
    def _remove_lesson_objects(self, names, seat: str) -> None:
        from tutor.course.engine_exercise import remove_exercise_objects
        from tutor.engine.client import EngineUnavailable, thread_client

        try:
            done = remove_exercise_objects(thread_client(self.app.backend.engine), names, seat)
        except EngineUnavailable as exc:
            self.app.call_from_thread(self.notify, exc.problem.reason, title="Remove", severity="error")
            return
        said = ", ".join(done.removed) or "nothing: none of them was on the engine"
        if done.failed:
            said += ". Not removed: " + "; ".join(done.failed)
        self.app.call_from_thread(self.notify, f"Removed {said}.", title="Remove", timeout=8)

    def _containers(self) -> ContainersPane:
        self.action_show_tab("containers")
        pane = self.query_one(ContainersPane)
        pane.focus_table()
        return pane

    @on(AskLearner)
    def _ask_learner(self, message: AskLearner) -> None:
        self.app.push_screen(message.dialog, message.answered)

    def action_run_container(self) -> None:
        if self.building:
            self.notify("A build is running: wait for it (or press c), then press r.", title="Run", severity="warning")
            return
        self._containers().run_image(self.session.last_image())

    def action_probe(self) -> None:
        self._containers().probe()

    def action_stop_container(self) -> None:
        self._containers().stop()

    def action_remove_container(self) -> None:
        self._containers().remove_container()

    def action_remove_image(self) -> None:
        self._containers().remove_image(self.session.last_image())

    def action_exec_in_container(self) -> None:
        self._containers().exec_command()

    def action_layer_contents(self, step: int | None = None) -> None:
        pane, record = self.query_one(LayerPane), self.session.record
        if step is None:
            if not pane.row_count:
                return
            key = pane.ordered_rows[pane.cursor_row].key.value
            if not key or not key.isdigit():  # a stage header row
                self.notify("Pick a step row (not a stage header).", title="Layer contents")
                return
            step = int(key)
        if step not in record.steps:
            self.notify("Build first (b): the layers come from the image the build makes.", title="Layer contents")
            return
        image = record.result.image_id if record.result else ""
        self.app.push_screen(LayerContentsScreen(image, record, step, self.app.backend.engine))

    def action_size_race(self) -> None:
        self.app.push_screen(SizeRaceScreen(self.app.seat.name, self.app.backend.engine))

    @on(DataTable.RowSelected, "#layers")
    def _layer_row_selected(self, event: DataTable.RowSelected) -> None:
        key = event.row_key.value
        if key and key.isdigit():
            self.action_layer_contents(int(key))
