"""Hints one at a time, and the solution once earned (or when the learner gives up)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from tests.conftest import FIXTURES
from tutor.course.loader import load_course
from tutor.course.model import Exercise
from tutor.course.progress import ExerciseProgress, ProgressStore
from tutor.course.solution import can_reveal, next_hint, revealed_hints, solution_diff, solution_diffs
from tutor.course.workspace import prepare_workspace

GOOD_COURSE = FIXTURES / "courses" / "good"


def _reorder():
    course = load_course(GOOD_COURSE)
    lesson = course.lesson("cache-order")
    assert lesson is not None, course.problems
    return lesson, lesson.exercise("reorder")


def test_solution_diff_goes_from_the_learner_to_the_solution(tmp_path: Path) -> None:
    mine = tmp_path / "mine" / "Dockerfile"
    theirs = tmp_path / "solution" / "Dockerfile"
    mine.parent.mkdir()
    theirs.parent.mkdir()
    mine.write_text("FROM alpine:latest\nCOPY . .\nRUN wc -l go.mod\n")
    theirs.write_text("FROM alpine:latest\nCOPY go.mod ./\nRUN wc -l go.mod\nCOPY . .\n")
    diff = solution_diff(mine, theirs)
    lines = diff.splitlines()
    assert lines[0] == f"--- your Dockerfile ({mine})"
    assert lines[1] == f"+++ solution Dockerfile ({theirs})"
    body = lines[3:]  # one hunk: the files are shorter than the context
    assert lines[2] == "@@ -1,3 +1,4 @@"
    assert [line[1:] for line in body if line[0] in " -"] == mine.read_text().splitlines()
    assert [line[1:] for line in body if line[0] in " +"] == theirs.read_text().splitlines()
    assert "+COPY go.mod ./" in body
    assert solution_diff(theirs, theirs) == ""


def test_solution_diff_of_a_missing_or_unterminated_file(tmp_path: Path) -> None:
    theirs = tmp_path / ".dockerignore"
    theirs.write_text("*.log")  # no final newline: no "\\ No newline" noise
    diff = solution_diff(tmp_path / "gone" / ".dockerignore", theirs)
    assert "[missing]" in diff.splitlines()[0] and "+*.log" in diff and "No newline" not in diff


def test_solution_diffs_of_a_real_workspace() -> None:
    lesson, exercise = _reorder()
    workspace = prepare_workspace(lesson, exercise)
    diffs = solution_diffs(exercise, workspace)
    assert list(diffs) == ["Dockerfile"]
    assert "+COPY go.mod" in diffs["Dockerfile"]
    (workspace / "Dockerfile").write_text((exercise.solution_dir / "Dockerfile").read_text())
    assert solution_diffs(exercise, workspace) == {}


def test_can_reveal_after_enough_attempts_or_giving_up() -> None:
    _, exercise = _reorder()
    exercise = dataclasses.replace(exercise, reveal_solution_after=3)
    fresh = ExerciseProgress()
    allowed, why = can_reveal(exercise, fresh)
    assert not allowed and "try 3 more times first" in why and "give up" in why
    allowed, why = can_reveal(exercise, dataclasses.replace(fresh, attempts=2, state="attempted"))
    assert not allowed and "try 1 more time first" in why
    allowed, why = can_reveal(exercise, dataclasses.replace(fresh, attempts=3, state="attempted"))
    assert allowed and "after 3 attempts" in why
    allowed, why = can_reveal(exercise, fresh, give_up=True)
    assert allowed and "give up" in why
    allowed, why = can_reveal(exercise, dataclasses.replace(fresh, attempts=1, state="passed"))
    assert allowed and "you passed it" in why
    allowed, why = can_reveal(exercise, dataclasses.replace(fresh, solution_revealed=True))
    assert allowed and "already" in why


def test_no_solution_to_reveal(tmp_path: Path) -> None:
    exercise = Exercise("x", "X", "goal", tmp_path)
    allowed, why = can_reveal(exercise, ExerciseProgress(attempts=9), give_up=True)
    assert not allowed and "no reference solution" in why


def test_hints_one_at_a_time_with_the_store(tmp_path: Path) -> None:
    _, base = _reorder()
    exercise = dataclasses.replace(base, hints=("Copy go.mod first.", "Then download.", "Then copy the rest."))
    store = ProgressStore(tmp_path / "progress.json")
    shown = []
    while True:
        progress = store.load()[0].exercise("cache-order", exercise.id)
        hint = next_hint(exercise, progress)
        if hint is None:
            break
        shown.append(hint)
        store.reveal_hint("cache-order", exercise.id, available=len(exercise.hints))
    assert shown == list(exercise.hints)
    final = store.load()[0].exercise("cache-order", exercise.id)
    assert final.hints_revealed == 3 and revealed_hints(exercise, final) == exercise.hints
    assert next_hint(exercise, ExerciseProgress()) == "Copy go.mod first."
    assert next_hint(dataclasses.replace(exercise, hints=()), ExerciseProgress()) is None
