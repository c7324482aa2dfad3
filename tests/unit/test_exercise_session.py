"""The state of one exercise attempt, changed by the events of a real run, without any UI."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import FIXTURES, STREAMS
from tutor.course.loader import load_course
from tutor.course.progress import ProgressStore
from tutor.course.runner import BuildStarted, ExerciseFinished, ExerciseRun
from tutor.course.session import BUILDING, ExerciseSession
from tutor.course.watch import FileChanged
from tutor.course.workspace import prepare_workspace
from tutor.engine.replay import Recording, ReplayBuild

COURSE = load_course(FIXTURES / "courses" / "good")


def _session(lesson_id: str, exercise_id: str | None = None) -> ExerciseSession:
    lesson = COURSE.lesson(lesson_id)
    assert lesson is not None
    session = ExerciseSession.open(COURSE, lesson, exercise_id)
    assert session.exercise is not None
    session.workspace = prepare_workspace(lesson, session.exercise)
    return session


def _run(session: ExerciseSession, stream: str) -> ExerciseRun:
    assert session.exercise is not None and session.workspace is not None
    recording = Recording.load(STREAMS / stream)
    return ExerciseRun(
        session.exercise,
        session.workspace,
        session.lesson.id,
        build_factory=lambda request: ReplayBuild(recording),
        prediction=session.build_prediction,
    )


def test_a_whole_run_folds_into_the_session() -> None:
    session = _session("cache-order", "ignore-logs")
    build_id = session.start()
    assert session.is_current(build_id) and not session.is_current(build_id - 1)
    assert session.status_note == BUILDING and not session.results
    notes: list[str | None] = []
    finished = None
    for event in _run(session, "cold.jsonl").events():
        session.apply(event)
        notes.append(session.status_note)
        if isinstance(event, ExerciseFinished):
            finished = event
    assert finished is not None and finished.results
    assert "first build (1/2)…" in notes and "build after adding debug.log (2/2)…" in notes
    assert any(note and note.startswith("checking: ") for note in notes)
    assert notes[-1] is None  # idle again
    assert session.results == list(finished.results) and len(session.results) == len(session.exercise.checks)
    assert session.record.result is not None and session.last_image() == session.record.result.tags[0]
    assert session.counts_as_attempt(finished)


def test_a_save_in_watch_mode_forgets_the_last_build() -> None:
    session = _session("cache-order", "ignore-logs")
    session.start()
    for event in _run(session, "cold.jsonl").events():
        session.apply(event)
    assert session.record.steps and session.results
    session.apply(FileChanged(("Dockerfile",), 0.0))
    assert not session.record.steps and not session.results and session.explanation is None
    assert session.status_note == BUILDING


def test_a_second_build_starts_from_a_fresh_record() -> None:
    session = _session("cache-order", "ignore-logs")
    session.start()
    for event in _run(session, "cold.jsonl").events():
        session.apply(event)
    session.apply(BuildStarted(1, 2, "first build", "tutor/pytest/x:latest"))
    assert not session.record.steps and session.explanation is None


def test_a_prediction_is_used_by_the_next_build_only() -> None:
    session = _session("cache-order", "reorder")
    session.next_prediction = {2: "cached"}
    session.start()
    assert session.build_prediction == {2: "cached"} and session.next_prediction is None
    session.start()
    assert session.build_prediction is None


def test_a_cancelled_run_is_not_an_attempt_and_has_no_grade() -> None:
    session = _session("cache-order", "reorder")
    session.next_prediction = {2: "cached"}
    session.start()
    cancelled = ExerciseFinished(False, (), 1.0, (), "tag", cancelled=True)
    assert not session.counts_as_attempt(cancelled)
    assert session.prediction_grade(cancelled) is None


def test_moving_between_exercises_keeps_inside_the_lesson() -> None:
    session = _session("cache-order", "reorder")
    assert session.next_exercise_title() == "Next: Leave the logs out (press >)."
    assert session.select(-1) is None and session.exercise.id == "reorder"
    moved = session.select(+1)
    assert moved is not None and moved.id == "ignore-logs" and not session.results and not session.record.steps
    assert session.select(+1) is None
    assert session.next_exercise_title() == "That was the last exercise of the course!"


def test_hints_are_saved_and_come_back(tutor_home: Path) -> None:
    store = ProgressStore()
    session = _session("serve")
    session.load_hints(store)
    assert session.hints() == []
    assert session.reveal_hint(store) == "The binary is built with `go build -o main`."
    assert session.reveal_hint(store) is None  # that was the only one
    again = _session("serve")
    again.load_hints(store)
    assert again.hints_shown == 1 and again.hints() == ["The binary is built with `go build -o main`."]


@pytest.mark.parametrize("step", [None, 99])
def test_lines_of_an_unknown_step_are_none(step: int | None) -> None:
    session = _session("cache-order", "reorder")
    planned = session.planned_steps()
    assert planned and session.lines_of(planned[0].step) == {planned[0].line}
    assert session.lines_of(step) == set()
