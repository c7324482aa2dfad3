"""One attempt at an exercise, as the learner sees it: the state the lesson screen renders and
`tutor watch` prints, changed by one function per event.

No Textual here: the screen keeps only what it draws, and this is tested without it. A build (or
a watch) is numbered; events of an older number are stragglers of a cancelled build.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tutor.course.checks import CheckResult
from tutor.course.engine_exercise import EngineLooked, EngineWatchFailed
from tutor.course.model import Course, Exercise, Lesson
from tutor.course.prediction import PredictionGrade, grade
from tutor.course.progress import ProgressStore
from tutor.course.runner import BuildStarted, CacheExplained, CheckStarted, ExerciseFinished, WorkspaceEdited
from tutor.course.watch import FileChanged, is_attempt
from tutor.engine.dockerfile import PlannedStep, plan
from tutor.engine.events import BuildQueued
from tutor.engine.explain import CacheExplanation
from tutor.engine.record import BuildRecord, StepState

BUILDING = "building…"


@dataclass
class ExerciseSession:
    """The exercise open in a lesson, its files, and its latest build, checks, hints and prediction."""

    course: Course
    lesson: Lesson
    exercise: Exercise | None
    workspace: Path | None = None
    record: BuildRecord = field(default_factory=BuildRecord)
    results: list[CheckResult] = field(default_factory=list)
    hints_shown: int = 0
    status_note: str | None = None  # what runs now ("building…", "checking: …"), None when idle
    explanation: CacheExplanation | None = None  # why the last build missed the cache
    build_id: int = 0  # the number of the current build or watch
    next_prediction: dict[int, str] | None = None  # made with t, used by the next build
    build_prediction: dict[int, str] | None = None  # the prediction of the current/last build
    steps_lines: dict[int, set[int]] = field(default_factory=dict)  # step -> its Dockerfile lines
    # An exercise done with the docker CLI: what the engine holds of it, and whether it passed yet.
    engine_objects: tuple[str, ...] = ()
    engine_note: str | None = None  # "watching the engine…", or why it cannot be watched
    engine_passed: bool = False

    @classmethod
    def open(cls, course: Course, lesson: Lesson, exercise_id: str | None = None) -> ExerciseSession:
        """The lesson's named exercise, else its first (None for a reading-only lesson)."""
        exercise = (lesson.exercise(exercise_id) if exercise_id else None) or (
            lesson.exercises[0] if lesson.exercises else None
        )
        return cls(course, lesson, exercise)

    # -- the exercise's files ------------------------------------------------------------------

    def dockerfile_text(self) -> str:
        if self.workspace is None or self.exercise is None:
            return ""
        try:
            return (self.workspace / self.exercise.dockerfile).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def planned_steps(self) -> list[PlannedStep]:
        """The Dockerfile's steps as written now; remembers which lines each step spans."""
        planned = plan(self.dockerfile_text())
        self.steps_lines = {p.step: set(range(p.line, p.end_line + 1)) for p in planned}
        return planned

    def lines_of(self, step: int | None) -> set[int]:
        return self.steps_lines.get(step or 0, set())

    # -- builds --------------------------------------------------------------------------------

    def start(self, *, build: bool = True) -> int:
        """A new build (or watch) begins: a fresh record, no results; returns its number."""
        self.build_id += 1
        if build:
            self.reset(BUILDING)
            self.build_prediction, self.next_prediction = self.next_prediction, None
        return self.build_id

    def reset(self, status_note: str | None = None) -> None:
        """Forget the last build: its record, its checks' results and why it missed the cache."""
        self.record, self.results, self.explanation = BuildRecord(), [], None
        self.status_note = status_note

    def is_current(self, build_id: int) -> bool:
        return build_id == self.build_id

    def apply(self, event: object) -> StepState | None:
        """Fold one event of the run into the session; the step it changed, if it changed one."""
        match event:
            case FileChanged():
                self.reset(BUILDING)
            case BuildStarted(label=label, index=index, total=total):
                self.record, self.explanation = BuildRecord(), None
                self.status_note = f"{label} ({index}/{total})…"
            case CacheExplained(explanation=explanation):
                self.explanation = explanation
            case CheckStarted(title=title, name=name):
                self.status_note = f"checking: {title or name}…"
            case CheckResult():
                self.results.append(event)
            case ExerciseFinished(results=results):
                self.status_note = None
                self.results = list(results)
            case WorkspaceEdited():
                pass
            case BuildQueued(ahead=ahead):
                self.status_note = f"waiting for the engine: {waiting_words(ahead)}…"
            case EngineLooked(results=results, objects=objects):
                self.results = list(results)
                self.engine_objects = objects
                self.engine_note = None
            case EngineWatchFailed(message=message):
                self.engine_note = message
            case _:
                return self.record.apply(event)  # type: ignore[arg-type]  # build events; others are ignored by the record
        return None

    def apply_output(self, step: int | None, plains: list[str]) -> None:
        self.record.apply_output(step, plains)

    def ended(self) -> None:
        self.status_note = None

    def prediction_grade(self, finished: ExerciseFinished) -> PredictionGrade | None:
        """How the prediction this build was made with fared, when there was one."""
        if not self.build_prediction or finished.record is None or finished.cancelled:
            return None
        return grade(self.build_prediction, finished.record)

    @staticmethod
    def counts_as_attempt(finished: ExerciseFinished) -> bool:
        """A run to record in the progress: its checks ran on what the learner's files decided."""
        return bool(finished.results) and is_attempt(finished)

    def last_image(self) -> str | None:
        result = self.record.result
        return None if result is None else (result.tags[0] if result.tags else result.image_id)

    def engine_newly_passed(self, event: EngineLooked) -> bool:
        """The learner's commands made every check pass, for the first time since the exercise opened."""
        if event.passed and not self.engine_passed:
            self.engine_passed = True
            return True
        return False

    # -- moving between exercises ----------------------------------------------------------------

    def select(self, delta: int) -> Exercise | None:
        """The exercise ``delta`` away in this lesson, made current with a fresh state; None past the ends."""
        if self.exercise is None:
            return None
        index = self.lesson.exercises.index(self.exercise) + delta
        if not 0 <= index < len(self.lesson.exercises):
            return None
        self.exercise = self.lesson.exercises[index]
        self.results, self.record = [], BuildRecord()
        self.engine_objects, self.engine_note, self.engine_passed = (), None, False
        return self.exercise

    def next_exercise_title(self) -> str:
        if self.exercise is None:
            return ""
        index = self.lesson.exercises.index(self.exercise)
        if index + 1 < len(self.lesson.exercises):
            return f"Next: {self.lesson.exercises[index + 1].title} (press >)."
        nxt = self.course.next_lesson(self.lesson.id)
        return f"Next lesson: {nxt.title} (press ])." if nxt else "That was the last exercise of the course!"

    # -- hints -----------------------------------------------------------------------------------

    def load_hints(self, store: ProgressStore) -> None:
        """The hints shown before, so a restart shows the same."""
        if self.exercise is None:
            self.hints_shown = 0
            return
        self.hints_shown = store.load()[0].exercise(self.lesson.id, self.exercise.id).hints_revealed

    def reveal_hint(self, store: ProgressStore) -> str | None:
        """The next hint (saved as shown), or None when there is no hint left."""
        if self.exercise is None or self.hints_shown >= len(self.exercise.hints):
            return None
        self.hints_shown = store.reveal_hint(self.lesson.id, self.exercise.id, available=len(self.exercise.hints))
        return self.exercise.hints[self.hints_shown - 1] if self.hints_shown else None

    def hints(self) -> list[str]:
        return list(self.exercise.hints[: self.hints_shown]) if self.exercise else []


def waiting_words(ahead: int) -> str:
    """A build waiting its turn on a busy workshop engine, in the learner's words."""
    return f"{ahead} build{'s' if ahead != 1 else ''} ahead of yours"
