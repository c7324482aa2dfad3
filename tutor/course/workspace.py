"""The learner's copy of an exercise's files: the base, with the starter laid over it.

Shipped course files are only ever read: every workspace is a copy, made
writable, under ``paths.workspace_dir()/<lesson-id>/<exercise-id>/``.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from tutor import paths
from tutor.course.model import Exercise, Lesson

Variant = Literal["starter", "solution"]


class WorkspaceError(Exception):
    """The workspace could not be made; the message says why."""


def workspace_path(lesson: Lesson | str, exercise: Exercise | str, seat: str | None = None) -> Path:
    lesson_id = lesson if isinstance(lesson, str) else lesson.id
    exercise_id = exercise if isinstance(exercise, str) else exercise.id
    return paths.workspace_dir(seat) / lesson_id / exercise_id


def layers(exercise: Exercise, variant: Variant = "starter") -> list[Path]:
    """The folders a workspace is made of, bottom first: the base, then the overlay."""
    overlay = exercise.starter_dir if variant == "starter" else exercise.solution_dir
    return [exercise.base_dir] + ([overlay] if overlay is not None else [])


def materialize(exercise: Exercise, dest: Path, variant: Variant = "starter") -> Path:
    """Copy base + overlay into ``dest`` (which must not exist yet); returns ``dest``."""
    folders = layers(exercise, variant)
    for folder in folders:
        if not folder.is_dir():
            raise WorkspaceError(f"the exercise folder {folder} is missing")
    dest = Path(dest)
    try:
        for folder in folders:
            # Content only: shipped files may be read-only (an installed wheel), the copy must not be.
            shutil.copytree(folder, dest, dirs_exist_ok=True, copy_function=shutil.copyfile, ignore=_ignored)
        _make_writable(dest)
    except OSError as exc:
        raise WorkspaceError(f"could not copy the exercise files into {dest}: {exc}") from exc
    return dest


def _ignored(folder: str, names: list[str]) -> set[str]:
    return {n for n in names if n in ("__pycache__", ".DS_Store")}


def _make_writable(root: Path) -> None:
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames:
            p = Path(dirpath, name)
            p.chmod(p.stat().st_mode | stat.S_IWUSR | stat.S_IXUSR | stat.S_IRUSR)
        for name in filenames:
            p = Path(dirpath, name)
            p.chmod(p.stat().st_mode | stat.S_IWUSR | stat.S_IRUSR)
    root.chmod(root.stat().st_mode | stat.S_IWUSR | stat.S_IXUSR | stat.S_IRUSR)


def prepare_workspace(lesson: Lesson, exercise: Exercise, reset: bool = False, seat: str | None = None) -> Path:
    """The learner's workspace for ``exercise``, made on first use; ``reset`` starts it over.

    An existing workspace is kept as the learner left it.  A reset builds the
    new copy beside the old one and swaps it in, so a failed copy loses nothing.
    """
    dest = workspace_path(lesson, exercise, seat)
    if dest.is_dir() and not reset:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=f".{exercise.id}-", dir=dest.parent))
    try:
        materialize(exercise, fresh / "w")
        if dest.exists():
            old = fresh / "old"
            dest.rename(old)
        (fresh / "w").rename(dest)
    finally:
        shutil.rmtree(fresh, ignore_errors=True)
    return dest


@contextmanager
def temporary_workspace(exercise: Exercise, variant: Variant = "solution") -> Iterator[Path]:
    """A throw-away copy of the solution (or starter), removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=f"tutor-{exercise.id}-{variant}-") as tmp:
        yield materialize(exercise, Path(tmp) / exercise.id, variant)


def solution_files(exercise: Exercise) -> dict[str, str]:
    """The files the solution changes (relative path -> text), to show a learner."""
    folder = exercise.solution_dir
    if folder is None:
        return {}
    shown: dict[str, str] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        try:
            shown[path.relative_to(folder).as_posix()] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
    return shown
