"""The course as data: frozen dataclasses built by the loader, read by the UI and the runner."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

GO_APP = "go_app"  # the `base` value naming the shipped sample app


def base_path(lesson_dir: Path, base: str) -> Path:
    """The folder a workspace starts from: the shipped sample app, or one beside the lesson."""
    if base == GO_APP:
        from tutor import paths

        return paths.shipped_go_app()
    return lesson_dir / base


@dataclass(frozen=True)
class LessonProblem:
    """Something wrong in a course file, at a line an author can jump to."""

    file: Path
    line: int
    message: str

    def __str__(self) -> str:
        # line 0: the problem is about a whole file or folder
        return f"{self.file}:{self.line}: {self.message}" if self.line > 0 else f"{self.file}: {self.message}"


@dataclass(frozen=True)
class HttpSpec:
    """Argument of the ``http`` check."""

    path: str = "/"
    port: int = 8080
    contains: str | None = None
    status: int = 200


@dataclass(frozen=True)
class HadolintSpec:
    """Argument of the ``hadolint`` check: findings at ``max_level`` or more severe fail it."""

    max_level: str = "warning"
    ignore: tuple[str, ...] = ()


@dataclass(frozen=True)
class Check:
    """One check of an exercise, as ``checks.new_check`` makes it from what the lesson wrote."""

    kind: str
    argument: Any  # already parsed by the kind (a text, a number, a tuple, a spec)
    line: int = 0  # line of the check in lesson.md
    name: str = ""  # a short label, e.g. ``cached RUN go mod download`` or ``http /``
    title: str = ""  # what the check asks for, in the learner's words: ``the Dockerfile contains EXPOSE 8080``


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    goal: str
    lesson_dir: Path
    base: str = GO_APP  # `go_app` or a folder relative to the lesson folder
    starter: str | None = None
    solution: str | None = None
    dockerfile: str = "Dockerfile"
    scenario: str | None = None
    hints: tuple[str, ...] = ()
    reveal_solution_after: int = 3
    predict: bool = False
    builder: str | None = None  # "buildkit" or "classic" when the exercise needs that one; None: the app's
    targets: tuple[str, ...] = ()  # stages built one after another (`--target`); the checks look at the last
    targets_line: int = 0  # where `targets` is written in lesson.md
    checks: tuple[Check, ...] = ()
    line: int = 0  # where the exercise starts in lesson.md
    # The learner types docker commands and the tutor watches the engine: no build of its own.
    watches_engine: bool = False
    solution_commands: tuple[str, ...] = ()  # docker commands that do it (`tutor lessons check --run`)

    @property
    def base_dir(self) -> Path:
        return base_path(self.lesson_dir, self.base)

    @property
    def starter_dir(self) -> Path | None:
        return self.lesson_dir / self.starter if self.starter else None

    @property
    def solution_dir(self) -> Path | None:
        return self.lesson_dir / self.solution if self.solution else None


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    order: int
    path: Path  # the lesson.md
    summary: str = ""
    body: str = ""  # the markdown after the front matter, as written
    exercises: tuple[Exercise, ...] = ()

    @property
    def dir(self) -> Path:
        return self.path.parent

    def exercise(self, exercise_id: str) -> Exercise | None:
        return next((e for e in self.exercises if e.id == exercise_id), None)


@dataclass(frozen=True)
class Course:
    """The lessons that loaded, in order, and the problems of those that did not."""

    root: Path
    lessons: tuple[Lesson, ...] = ()
    problems: tuple[LessonProblem, ...] = field(default=())

    def lesson(self, lesson_id: str) -> Lesson | None:
        return next((lesson for lesson in self.lessons if lesson.id == lesson_id), None)

    def next_lesson(self, lesson_id: str) -> Lesson | None:
        ids = [lesson.id for lesson in self.lessons]
        if lesson_id not in ids:
            return None
        index = ids.index(lesson_id) + 1
        return self.lessons[index] if index < len(self.lessons) else None
