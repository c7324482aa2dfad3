"""The learner's copy of an exercise's files: the base, with the starter laid over it.

Shipped course files are only ever read: every workspace is a copy, made
writable, under ``paths.workspace_dir()/<lesson-id>/<exercise-id>/``.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from tutor import paths
from tutor.course.model import Exercise, Lesson

Variant = Literal["starter", "solution"]
logger = logging.getLogger(__name__)


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


Notice = Callable[[str], None]


def _log_notice(message: str) -> None:
    logger.warning("%s", message)


def unusual(path: Path) -> str | None:
    """Why ``path`` is not copied into a workspace: a symbolic link or a special file; None if plain.

    A link is never followed: one to /etc/shadow would put the file's contents in the
    learner's workspace, one to ../../etc would copy all of /etc, a loop would never end.
    """
    try:
        mode = path.lstat().st_mode
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if stat.S_ISLNK(mode):
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        try:
            path.resolve(strict=True)
        except (OSError, RuntimeError):
            return f"a symbolic link to {target} that leads nowhere (a loop, or a missing target)"
        return f"a symbolic link (to {target})"
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        return "a special file (a pipe, socket or device)"
    return None


def unusual_entries(folder: Path) -> Iterator[tuple[Path, str]]:
    """Every link and special file under ``folder`` (links are not followed), with what it is."""
    why = unusual(folder) if folder.is_symlink() and not folder.is_dir() else None
    if why is not None:
        yield folder, why
        return
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        for name in sorted(dirnames + filenames):
            path = Path(dirpath, name)
            why = unusual(path)
            if why is not None:
                yield path, why


def materialize(exercise: Exercise, dest: Path, variant: Variant = "starter", on_notice: Notice | None = None) -> Path:
    """Copy base + overlay into ``dest`` (which must not exist yet); returns ``dest``.

    Links and special files are skipped, each with a notice (``on_notice``, else the log).
    """
    folders = layers(exercise, variant)
    for folder in folders:
        if not folder.is_dir():
            raise WorkspaceError(f"the exercise folder {folder} is missing")
    dest = Path(dest)
    notice = on_notice or _log_notice

    def ignored(folder: str, names: list[str]) -> set[str]:
        skipped = {n for n in names if n in ("__pycache__", ".DS_Store")}
        for name in names:
            why = unusual(Path(folder, name))
            if why is not None and name not in skipped:
                skipped.add(name)
                notice(f"not copied into the workspace: {Path(folder, name)} is {why}")
        return skipped

    try:
        for folder in folders:
            # Content only: shipped files may be read-only (an installed wheel), the copy must not be.
            shutil.copytree(folder, dest, dirs_exist_ok=True, copy_function=shutil.copyfile, ignore=ignored)
        _make_writable(dest)
    except (OSError, shutil.Error) as exc:
        raise WorkspaceError(f"could not copy the exercise files into {dest}: {_reason(exc)}") from exc
    return dest


def _reason(exc: OSError | shutil.Error) -> str:
    """One line: shutil.Error carries a list of (source, destination, why)."""
    if isinstance(exc, shutil.Error) and exc.args and isinstance(exc.args[0], list) and exc.args[0]:
        first = exc.args[0][0]
        more = len(exc.args[0]) - 1
        return f"{first[0]}: {first[-1]}" + (f" (and {more} more)" if more else "")
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    return str(exc)


def _make_writable(root: Path) -> None:
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames:
            p = Path(dirpath, name)
            p.chmod(p.stat().st_mode | stat.S_IWUSR | stat.S_IXUSR | stat.S_IRUSR)
        for name in filenames:
            p = Path(dirpath, name)
            p.chmod(p.stat().st_mode | stat.S_IWUSR | stat.S_IRUSR)
    root.chmod(root.stat().st_mode | stat.S_IWUSR | stat.S_IXUSR | stat.S_IRUSR)


def prepare_workspace(
    lesson: Lesson, exercise: Exercise, reset: bool = False, seat: str | None = None, on_notice: Notice | None = None
) -> Path:
    """The learner's workspace for ``exercise``, made on first use; ``reset`` starts it over.

    An existing workspace is kept as the learner left it.  A reset builds the
    new copy beside the old one and swaps it in, so a failed copy loses nothing.
    """
    dest = workspace_path(lesson, exercise, seat)
    if dest.is_dir() and not reset:
        return dest
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fresh = Path(tempfile.mkdtemp(prefix=f".{exercise.id}-", dir=dest.parent))
    except OSError as exc:
        raise WorkspaceError(f"could not make the workspace folder {dest.parent}: {_reason(exc)}") from exc
    try:
        materialize(exercise, fresh / "w", on_notice=on_notice)
        if dest.exists():
            old = fresh / "old"
            dest.rename(old)
        (fresh / "w").rename(dest)
    except OSError as exc:
        raise WorkspaceError(f"could not put the workspace in place at {dest}: {_reason(exc)}") from exc
    finally:
        shutil.rmtree(fresh, ignore_errors=True)
    return dest


@contextmanager
def temporary_workspace(
    exercise: Exercise, variant: Variant = "solution", on_notice: Notice | None = None
) -> Iterator[Path]:
    """A throw-away copy of the solution (or starter), removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=f"tutor-{exercise.id}-{variant}-") as tmp:
        yield materialize(exercise, Path(tmp) / exercise.id, variant, on_notice)


def solution_files(exercise: Exercise) -> dict[str, str]:
    """The files the solution changes (relative path -> text), to show a learner."""
    folder = exercise.solution_dir
    if folder is None:
        return {}
    shown: dict[str, str] = {}
    skipped = {path for path, _ in unusual_entries(folder)}
    for path in sorted(p for p in folder.rglob("*") if p not in skipped and p.is_file()):
        try:
            shown[path.relative_to(folder).as_posix()] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
    return shown
