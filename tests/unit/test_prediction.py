"""Predict, then build: grading on real build streams recorded from the engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor.course.checks import Evidence, evaluate, perfect_prediction
from tutor.course.model import Check
from tutor.course.prediction import NOT_RUN, grade, normalise
from tutor.engine.record import BuildRecord
from tutor.engine.replay import ReplayBuild


def _record(stream_path, name: str) -> BuildRecord:
    record = BuildRecord()
    for event in ReplayBuild(stream_path(name)).events():
        record.apply(event)
    assert record.steps, name
    return record


def _by_step(result):
    return {g.step: g for g in result.per_step}


def test_all_cached_build_predicted_right(stream_path) -> None:
    record = _record(stream_path, "cached")
    result = grade({step: "cached" for step in range(2, 10)}, record)
    assert (result.score, result.total, result.perfect) == (8, 8, True)
    steps = _by_step(result)
    assert steps[1].actual == "cached" and not steps[1].scored, "FROM counts as cached and is not asked"
    assert "nothing this step depends on changed, so the engine reused the layer" in steps[5].explanation
    assert result.summary() == "8 of 8 steps predicted right"


def test_predicted_rebuilt_but_cached(stream_path) -> None:
    record = _record(stream_path, "cached")
    marks = {step: "cached" for step in range(2, 10)} | {5: "rebuilt", 7: "rebuilt"}
    result = grade(marks, record)
    assert (result.score, result.total) == (6, 8)
    assert [m.step for m in result.misses] == [5, 7]
    miss = result.misses[0]
    assert (miss.predicted, miss.actual, miss.instruction) == ("rebuilt", "cached", "RUN go mod download")
    assert miss.explanation == (
        "step 5 RUN go mod download came from the cache: nothing this step depends on changed, "
        "so the engine reused the layer"
    )


def test_edit_of_main_go_first_miss_and_cascade(stream_path) -> None:
    # A learner who expects an edit of main.go to keep everything cached.
    record = _record(stream_path, "edit_main_go")
    result = grade({step: "cached" for step in range(1, 10)}, record)
    assert (result.score, result.total) == (5, 9), "FROM marked, so it counts"
    assert [m.step for m in result.misses] == [6, 7, 8, 9]
    steps = _by_step(result)
    first = steps[6]
    assert (first.predicted, first.actual) == ("cached", "rebuilt")
    assert first.explanation.startswith("step 6 COPY . . was rebuilt because its own input changed: the files it copies")
    assert "first step of its stage that missed the cache" in first.explanation
    assert steps[7].explanation == (
        "step 7 RUN go build -o main was rebuilt because step 6 (COPY . .) before it missed the cache: "
        "every layer after a miss is rebuilt"
    )
    assert "because step 6 (COPY . .)" in steps[9].explanation
    assert steps[4].correct and "reused the layer" in steps[4].explanation


def test_cold_build_first_miss_is_right_after_from(stream_path) -> None:
    record = _record(stream_path, "cold")
    result = grade({step: "rebuilt" for step in range(2, 10)}, record)
    assert result.perfect and result.total == 8
    steps = _by_step(result)
    assert "its own input changed" in steps[2].explanation and "ENV" in steps[2].explanation
    assert "because step 2 (ENV GO111MODULE=on CGO_ENABLED=0" in steps[3].explanation


def test_multistage_stages_start_over(stream_path) -> None:
    record = _record(stream_path, "multistage")
    result = grade({step: "cached" for step in range(1, 13)}, record)
    steps = _by_step(result)
    assert steps[8].correct and "FROM" in steps[8].explanation, "the runtime FROM counts as cached"
    # The first miss of the second stage is explained by its own input, not by the builder stage's miss.
    assert "its own input changed" in steps[9].explanation
    assert "because step 9 (WORKDIR /root/)" in steps[10].explanation
    assert [m.step for m in result.misses] == [6, 7, 9, 10, 11, 12]


def test_failed_build_steps_that_never_ran(stream_path) -> None:
    record = _record(stream_path, "run_fails")
    marks = {step: "rebuilt" for step in range(2, 10)}
    result = grade(marks, record)
    steps = _by_step(result)
    assert steps[7].actual == "rebuilt" and steps[7].correct
    assert "(it ran and failed)" in steps[7].explanation
    for step in (8, 9):
        assert steps[step].actual == NOT_RUN and not steps[step].scored and not steps[step].correct
        assert "the build stopped at step 7" in steps[step].explanation
    assert result.total == 6 and result.score == 2, "steps 2-5 were cached, 6 and 7 rebuilt"


def test_from_marked_rebuilt_is_wrong_and_says_why(stream_path) -> None:
    record = _record(stream_path, "cold")
    result = grade({1: "rebuilt"}, record)
    steps = _by_step(result)
    assert steps[1].scored and not steps[1].correct and steps[1].actual == "cached"
    assert "never rebuilt" in steps[1].explanation
    assert steps[2].predicted is None and not steps[2].correct
    assert steps[2].explanation.startswith("no mark was made; step 2 ENV")
    assert result.total == 9 and result.score == 0


def test_grade_agrees_with_the_prediction_check(stream_path) -> None:
    for name in ("cached", "edit_main_go", "cold", "multistage", "run_fails"):
        record = _record(stream_path, name)
        perfect = perfect_prediction(record)
        assert grade(perfect, record).perfect, name
        dockerfile = ReplayBuild(stream_path(name)).recording.meta.get("dockerfile", "")
        verdict = evaluate(Check("prediction", "matches"), Evidence(record, dockerfile, Path(".")))
        assert verdict.passed is False  # no prediction was handed in
        verdict = evaluate(Check("prediction", "matches"), Evidence(record, dockerfile, Path("."), prediction=perfect))
        assert verdict.passed, (name, verdict)


def test_marks_are_normalised() -> None:
    assert normalise({"3": "Cached", 4: " built ", 5: "REBUILT"}) == {3: "cached", 4: "rebuilt", 5: "rebuilt"}
    with pytest.raises(ValueError, match='step 2: mark it "cached" or "rebuilt"'):
        normalise({2: "maybe"})
    with pytest.raises(ValueError, match="not a step number"):
        normalise({"two": "cached"})
