"""Hints, one at a time, and the reference solution once the learner has earned it or given up."""

from __future__ import annotations

import difflib
from pathlib import Path

from tutor.course.model import Exercise
from tutor.course.progress import ExerciseProgress


def _lines(path: Path) -> tuple[list[str], bool]:
    """The file's lines and whether it exists (a missing file diffs as empty)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return [], False
    if text and not text.endswith("\n"):
        text += "\n"  # no "\ No newline" noise for a learner
    return text.splitlines(keepends=True), True


def solution_diff(learner_file: Path, solution_file: Path) -> str:
    """A unified diff from the learner's file to the solution's; empty when they are the same."""
    mine, mine_exists = _lines(Path(learner_file))
    theirs, _ = _lines(Path(solution_file))
    if mine == theirs:
        return ""
    mine_label = f"your {Path(learner_file).name} ({learner_file})" + ("" if mine_exists else " [missing]")
    theirs_label = f"solution {Path(solution_file).name} ({solution_file})"
    return "".join(difflib.unified_diff(mine, theirs, fromfile=mine_label, tofile=theirs_label))


def solution_diffs(exercise: Exercise, workspace: Path) -> dict[str, str]:
    """For every file the solution provides: relative path -> diff from the workspace's copy (differing files only)."""
    folder = exercise.solution_dir
    if folder is None or not folder.is_dir():
        return {}
    diffs: dict[str, str] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder)
        diff = solution_diff(Path(workspace) / relative, path)
        if diff:
            diffs[relative.as_posix()] = diff
    return diffs


def can_reveal(exercise: Exercise, progress: ExerciseProgress, give_up: bool = False) -> tuple[bool, str]:
    """Whether the solution may be shown now, and why (or what is left to do first)."""
    if exercise.solution_dir is None:
        return False, "this exercise has no reference solution"
    if progress.solution_revealed:
        return True, "you have seen the solution already"
    if progress.passed:
        return True, "you passed it: compare your answer with the reference solution"
    if give_up:
        return True, "you chose to give up and see the solution"
    needed = exercise.reveal_solution_after
    if progress.attempts >= needed:
        return True, f"after {progress.attempts} attempt{'s' if progress.attempts != 1 else ''} the solution is open to you"
    left = needed - progress.attempts
    return False, (
        f"try {left} more time{'s' if left != 1 else ''} first (the solution opens after {needed} "
        f"attempt{'s' if needed != 1 else ''}), or give up to see it now"
    )


def next_hint(exercise: Exercise, progress: ExerciseProgress) -> str | None:
    """The hint to reveal next, or None when every hint is shown already."""
    index = progress.hints_revealed
    return exercise.hints[index] if index < len(exercise.hints) else None


def revealed_hints(exercise: Exercise, progress: ExerciseProgress) -> tuple[str, ...]:
    """The hints the learner has seen so far, in order."""
    return exercise.hints[: progress.hints_revealed]
