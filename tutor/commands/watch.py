"""`tutor watch [LESSON] [--exercise ID]`: edit in your own editor; every save rebuilds and checks."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import TextIO

from tutor import fmt
from tutor.commands.engine_access import connect_or_explain
from tutor.commands.exit_codes import EXIT_FAILED, EXIT_NO_ENGINE, EXIT_OK
from tutor.engine.build import BUILDERS


def add_parser(sub) -> None:
    p = sub.add_parser("watch", help="rebuild and check an exercise every time you save one of its files")
    p.add_argument("lesson", nargs="?", metavar="LESSON", help="lesson id (default: where you left off)")
    p.add_argument("--exercise", metavar="ID", help="exercise id (default: the lesson's first one not passed)")
    p.add_argument("--wait", action="store_true", help="do not build until the first save")
    p.add_argument(
        "--builder",
        choices=BUILDERS,
        default=None,
        help="auto: what your own `docker build` uses; buildkit; classic (default: TUTOR_BUILDER, else the app's)",
    )


def run(args, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    stop = threading.Event()
    try:
        return watch_command(args, stop, out)
    except KeyboardInterrupt:
        stop.set()
        print("\nstopped watching", file=out, flush=True)
        return EXIT_OK


def _marks(out: TextIO) -> tuple[str, str]:
    try:
        "✓✗".encode(getattr(out, "encoding", None) or "ascii")
        return "✓", "✗"
    except (UnicodeEncodeError, LookupError):
        return "ok", "FAIL"


def choose(course, progress, lesson_id: str | None, exercise_id: str | None):
    """(lesson, exercise) to watch, or (None, message) when the choice names nothing to watch."""
    from tutor.course.progress import resume_point

    pairs = [(lesson, exercise) for lesson in course.lessons for exercise in lesson.exercises]
    if not pairs:
        return None, "the course has no exercises"
    if lesson_id is None and exercise_id is not None:
        holders = [lesson for lesson in course.lessons if lesson.exercise(exercise_id) is not None]
        if len(holders) != 1:
            where = f"is in lessons {', '.join(lesson.id for lesson in holders)}" if holders else "is in no lesson"
            return None, f"exercise {exercise_id!r} {where}: name the lesson, e.g. `tutor watch LESSON --exercise {exercise_id}`"
        lesson_id = holders[0].id
    if lesson_id is None:
        resume_lesson, resume_exercise = resume_point(course, progress)
        if resume_exercise is not None:
            lesson = course.lesson(resume_lesson)
            return lesson, lesson.exercise(resume_exercise)
        # Resuming at a reading-only lesson: its next lesson with something to do.
        ids = [lesson.id for lesson in course.lessons]
        start = ids.index(resume_lesson) if resume_lesson in ids else 0
        later = [p for p in pairs if ids.index(p[0].id) >= start] + pairs
        return next((p for p in later if not progress.exercise(p[0].id, p[1].id).passed), later[0])
    lesson = course.lesson(lesson_id)
    if lesson is None:
        known = ", ".join(lesson.id for lesson in course.lessons)
        return None, f"no lesson {lesson_id!r} in the course (lessons: {known})"
    if not lesson.exercises:
        return None, f"lesson {lesson_id} has no exercises to watch: it is for reading"
    if exercise_id is None:
        unpassed = [e for e in lesson.exercises if not progress.exercise(lesson.id, e.id).passed]
        return lesson, (unpassed or list(lesson.exercises))[0]
    exercise = lesson.exercise(exercise_id)
    if exercise is None:
        known = ", ".join(e.id for e in lesson.exercises)
        return None, f"no exercise {exercise_id!r} in lesson {lesson_id} (exercises: {known})"
    return lesson, exercise


def watch_command(args, stop: threading.Event, out: TextIO = sys.stdout) -> int:
    from tutor import paths
    from tutor.course.loader import load_course
    from tutor.course.progress import ProgressError, ProgressStore
    from tutor.course.watch import WatchError, watch_exercise
    from tutor.course.workspace import WorkspaceError, prepare_workspace
    from tutor.seat import Seat

    engine = getattr(args, "engine", None)
    seat = Seat.from_environment(engine)
    root = Path(args.lessons).expanduser() if getattr(args, "lessons", None) else paths.shipped_lessons()
    course = load_course(root)
    store = ProgressStore(seat.progress_file)
    progress, notice = store.load()
    if notice:
        print(f"note: {notice}", file=out)
    lesson, exercise = choose(course, progress, args.lesson, args.exercise)
    if lesson is None:
        if course.problems and not course.lessons:
            print(f"error: {course.problems[0]}", file=out)
        else:
            print(f"error: {exercise}", file=out)
        return EXIT_FAILED
    api = connect_or_explain(engine, out)
    if api is None:
        return EXIT_NO_ENGINE
    api.close()
    try:
        workspace = prepare_workspace(lesson, exercise, seat=seat.name)
    except (WorkspaceError, OSError) as exc:
        print(f"error: {exc}", file=out)
        return EXIT_FAILED
    try:
        store.set_current(lesson.id, exercise.id)
    except ProgressError as exc:
        print(f"note: {exc}", file=out)
    if exercise.watches_engine:
        return _watch_engine(lesson, exercise, workspace, engine, seat.name, store, stop, out)
    printer = _Printer(out, course, store, lesson, exercise)
    from tutor.engine.build import default_builder

    events = watch_exercise(
        lesson,
        exercise,
        stop,
        workspace=workspace,
        engine=engine,
        builder=getattr(args, "builder", None) or default_builder(),
        store=store,
        initial_run=not args.wait,
        seat=seat.name,
    )
    try:
        for event in events:
            printer.show(event)
    except WatchError as exc:
        print(f"error: {exc}", file=out)
        return EXIT_FAILED
    finally:
        stop.set()
        events.close()
    return EXIT_OK


def _watch_engine(
    lesson, exercise, workspace: Path, engine: str | None, seat: str, store, stop: threading.Event, out: TextIO
) -> int:
    """An exercise done with the docker CLI: nothing to build; each change of the engine is judged."""
    from tutor.course.engine_exercise import EngineLooked, watch_engine_exercise
    from tutor.course.progress import ProgressError

    good, bad = _marks(out)
    print(f"watching the engine for {lesson.id} / {exercise.id}: {exercise.title}", file=out)
    print(f"  goal: {fmt.ellipsize(' '.join(exercise.goal.split()), 200)}", file=out)
    print(f"  type the commands in another terminal, in {workspace}; Ctrl-C stops watching", file=out, flush=True)
    recorded = False
    for event in watch_engine_exercise(lesson, exercise, workspace, stop, engine=engine, seat=seat):
        if not isinstance(event, EngineLooked):
            print(f"error: {event.message}", file=out)
            return EXIT_NO_ENGINE
        print(f"\nengine: {event.reason}", file=out)
        for result in event.results:
            print(f"  {good if result.passed else bad} {result.title}: {result.sentence}", file=out)
        for line in event.objects:
            print(f"  on the engine: {line}", file=out)
        out.flush()
        if event.passed and not recorded:
            recorded = True
            try:
                store.record_attempt(lesson.id, exercise.id, True, 0.0)
            except ProgressError as exc:
                print(f"note: {exc}", file=out)
            print(f"  every check passes{': that was the last exercise' if exercise is lesson.exercises[-1] else ''}", file=out, flush=True)
    return EXIT_OK


class _Printer:
    """Turns watch events into lines: step rows as in `tutor build`, then one line per check."""

    def __init__(self, out: TextIO, course, store, lesson, exercise) -> None:
        from tutor.course.session import ExerciseSession

        self.out = out
        self.course = course
        self.store = store
        self.lesson = lesson
        self.exercise = exercise
        self.colour = out.isatty()
        self.good, self.bad = _marks(out)
        # The same state as the app's lesson screen, folded from the same events.
        self.session = ExerciseSession.open(course, lesson, exercise.id)

    def line(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def show(self, event) -> None:
        from tutor.commands.build import step_line
        from tutor.course.checks import CheckResult
        from tutor.course.runner import BuildStarted, ExerciseFinished, WorkspaceEdited
        from tutor.course.watch import FileChanged, WatchNotice, WatchStarted
        from tutor.engine.events import BuildFailed, BuildSucceeded, StepFinished

        state = self.session.apply(event)
        if isinstance(event, WatchStarted):
            self.line(f"watching {self.lesson.id} / {self.exercise.id}: {self.exercise.title}")
            self.line(f"  goal: {fmt.ellipsize(self.exercise.goal, 200)}")
            self.line(f"  edit the files in {event.workspace}")
            self.line("  every save rebuilds and checks; Ctrl-C stops watching")
            if any(check.kind == "prediction" for check in self.exercise.checks):
                self.line("  note: this exercise grades a prediction made before the build; make it in the app (`tutor`),")
                self.line("        here its prediction check cannot pass")
        elif isinstance(event, FileChanged):
            shown = ", ".join(event.paths[:5]) + (f" and {len(event.paths) - 5} more" if len(event.paths) > 5 else "")
            self.line(f"\nsaved: {shown}")
        elif isinstance(event, WatchNotice):
            self.line(f"note: {event.message}")
        elif isinstance(event, BuildStarted):
            self.line(f"{event.label} ({event.index}/{event.total}) of {event.tag}" if event.total > 1 else f"build {event.tag}")
        elif isinstance(event, WorkspaceEdited):
            self.line(f"  then {event.description} (in a scratch copy: your files are untouched)")
        elif isinstance(event, StepFinished) and state is not None:
            self.line(step_line(state, self.colour))
        elif isinstance(event, BuildFailed):
            self._failure(event, state, step_line)
        elif isinstance(event, BuildSucceeded):
            record = self.session.record
            total = record.counted_steps
            self.line(f"{record.cache_hits}/{total} steps from cache · {fmt.seconds(event.seconds)} · image {fmt.size(event.image_size)}")
        elif isinstance(event, CheckResult):
            where = f" (Dockerfile line {event.line})" if event.line and not event.passed else ""
            # The sentences the app shows, so the learner reads the same words in both.
            self.line(f"{self.good if event.passed else self.bad} {event.sentence}{where}")
        elif isinstance(event, ExerciseFinished):
            self._finished(event)

    def _failure(self, event, state, step_line) -> None:
        if event.cancelled:
            self.line("build cancelled")
            return
        if state is not None:
            self.line(step_line(state, self.colour))
            for text in state.tail:
                self.line(f"        | {text}")
        where = f"step {state.step}/{state.total} failed: " if state is not None else ""
        self.line(f"error: {where}{event.message}")
        if event.fix:
            self.line(f"fix: {event.fix}")

    def _finished(self, event) -> None:
        from tutor.course.progress import next_unpassed

        if event.cancelled:
            return
        total = len(event.results)
        if event.passed:
            self.line(f"{self.good} passed: {self.exercise.title} ({total}/{total} checks, {fmt.seconds(event.seconds)})")
            progress, _ = self.store.load()
            following = next_unpassed(self.course, progress, self.lesson.id, self.exercise.id)
            if following is None:
                self.line("that was the last exercise you had left: the course is done")
            else:
                lesson, exercise = following
                self.line(f"next: {lesson.id} / {exercise.id}: {exercise.title}  (tutor watch {lesson.id} --exercise {exercise.id})")
            self.line("still watching: save again to re-check, Ctrl-C to stop")
            return
        failed = len(event.failed_checks)
        if total:
            self.line(f"{self.bad} {failed} of {total} checks failed: edit and save to try again")
        else:
            self.line(f"{self.bad} no checks ran: edit and save to try again")
