"""Load a course folder: every ``<lesson>/lesson.md``, in ``order``.

Never raises for a bad lesson: it is left out of the course and its problems are
kept in ``Course.problems`` (file and line), for the UI and ``tutor lessons check``.
"""

from __future__ import annotations

from pathlib import Path

from tutor.course.model import Course, Lesson, LessonProblem
from tutor.course.schema import build_lesson
from tutor.course.source import read_lesson

LESSON_FILE = "lesson.md"


def lesson_files(root: Path) -> list[Path]:
    """Every lesson.md one folder below ``root``, by folder name."""
    return sorted(path for path in root.glob(f"*/{LESSON_FILE}") if path.is_symlink() or path.is_file())


def load_lesson(path: Path) -> tuple[Lesson | None, list[LessonProblem]]:
    """One lesson, or None and what is wrong with it."""
    try:
        source, problems = read_lesson(path)
        if source is None:
            return None, problems
        lesson, more = build_lesson(source)
    except (RecursionError, MemoryError, OSError, ValueError) as exc:
        # Whatever the file holds, one lesson never stops the course from loading.
        return None, [LessonProblem(path, 1, f"the lesson could not be read: {type(exc).__name__}: {exc}")]
    problems = problems + more
    return (lesson if not problems else None), problems


def outside_link(path: Path, root: Path) -> str | None:
    """Why ``path`` (a lesson.md or its folder) is refused: a symbolic link, or a place outside ``root``."""
    for candidate in (path.parent, path):
        if candidate.is_symlink():
            return f"{candidate.name} is a symbolic link: a course holds its own files"
    try:
        inside = path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):  # a link loop
        inside = False
    return None if inside else "it lies outside the course folder"


def load_course(root: Path | str) -> Course:
    root = Path(root).expanduser()
    if not root.is_dir():
        what = "is not a folder" if root.exists() else "does not exist"
        return Course(root, (), (LessonProblem(root, 0, f"the course folder {what}"),))
    problems: list[LessonProblem] = []
    files = lesson_files(root)
    if not files:
        problems.append(LessonProblem(root, 0, f"no lessons: expected <folder>/{LESSON_FILE} files in it"))
    by_id: dict[str, Lesson] = {}
    by_order: dict[int, Lesson] = {}
    loaded: list[Lesson] = []
    for path in files:
        why = outside_link(path, root)
        if why is not None:
            problems.append(LessonProblem(path, 0, f"not read: {why}"))
            continue
        lesson, found = load_lesson(path)
        problems.extend(found)
        if lesson is None:
            continue
        if lesson.id in by_id:
            other = by_id[lesson.id]
            problems.append(
                LessonProblem(
                    path, _line(lesson, "id"), f"lesson id {lesson.id!r} is also used by {_where(other, root, 'id')}"
                )
            )
            continue
        if lesson.order in by_order:
            other = by_order[lesson.order]
            problems.append(
                LessonProblem(
                    path,
                    _line(lesson, "order"),
                    f"order {lesson.order} is also used by {_where(other, root, 'order')}: every lesson needs its own",
                )
            )
        by_id[lesson.id] = lesson
        by_order.setdefault(lesson.order, lesson)
        loaded.append(lesson)
    loaded.sort(key=lambda lesson: (lesson.order, lesson.path.parent.name))
    return Course(root, tuple(loaded), tuple(problems))


def _line(lesson: Lesson, key: str) -> int:
    """Line of a top-level key in a lesson that loaded (re-read: the model keeps no YAML)."""
    source, _ = read_lesson(lesson.path)
    return source.key_line(key) if source is not None else 1


def _where(lesson: Lesson, root: Path, key: str) -> str:
    try:
        shown = lesson.path.relative_to(root)
    except ValueError:
        shown = lesson.path
    return f"{shown}:{_line(lesson, key)}"
