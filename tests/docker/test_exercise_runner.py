"""Exercises run end to end on the real engine: starters fail, solutions pass.

The course in tests/fixtures/courses/good compiles go_app once (starter and
solution share the compiled layer); everything else builds on alpine in about
a second.  Images stay until the session's cleanup, so later tests reuse the cache.
"""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import docker
import pytest

from tests.conftest import FIXTURES, TEST_SEAT
from tutor.cli import main
from tutor.course.checks import CheckResult, perfect_prediction
from tutor.course.loader import load_course
from tutor.course.runner import BuildStarted, CheckStarted, ExerciseFinished, ExerciseRun, WorkspaceEdited
from tutor.course.workspace import prepare_workspace, temporary_workspace
from tutor.engine import labels
from tutor.engine.events import BuildSucceeded, StepRunning, StepStarted

GOOD = FIXTURES / "courses" / "good"


@pytest.fixture(autouse=True)
def _base(base_images) -> None:
    """The course's base images (stand-ins offline) are there."""


@pytest.fixture(params=["classic", "buildkit"])
def builder(request: pytest.FixtureRequest) -> str:
    """Every exercise behaves the same on both builders: the checks read one event vocabulary."""
    return request.param


def _run(exercise, workspace: Path, lesson_id: str, builder: str, **kwargs) -> tuple[list, ExerciseFinished]:
    events = list(ExerciseRun(exercise, workspace, lesson_id, seat=TEST_SEAT, builder=builder, **kwargs).events())
    finished = events[-1]
    assert isinstance(finished, ExerciseFinished)
    return events, finished


def _by_kind(finished: ExerciseFinished) -> dict[str, CheckResult]:
    return {r.kind: r for r in finished.results}


def _lesson_containers(api: docker.APIClient, lesson: str) -> list:
    return api.containers(all=True, filters={"label": [f"{labels.SEAT}={TEST_SEAT}", f"{labels.LESSON}={lesson}"]})


def test_http_exercise_solution_passes_and_starter_fails(engine_api: docker.APIClient, builder: str) -> None:
    lesson = load_course(GOOD).lesson("serve")
    exercise = lesson.exercises[0]
    with temporary_workspace(exercise, "solution") as ws:
        events, solution = _run(exercise, ws, lesson.id, builder)
    assert solution.passed, [r.describe() for r in solution.results]
    assert _by_kind(solution)["http"].found == "HTTP 200: Hello, Docker with Go!"
    assert [type(e) for e in events[:1]] == [BuildStarted]
    assert any(isinstance(e, StepStarted) and e.instruction == "RUN go build -o main" for e in events)
    assert [e.kind for e in events if isinstance(e, CheckStarted)] == ["build", "dockerfile_contains", "http"]
    image = engine_api.inspect_image(solution.tag)
    assert image["Id"].split(":")[1].startswith(solution.image_id)
    assert image["Config"]["Labels"][labels.KIND] == "exercise"
    assert image["Config"]["Labels"][labels.LESSON] == "serve"
    assert solution.tag == f"tutor/{TEST_SEAT}/serve-answer-http:latest"
    assert _lesson_containers(engine_api, "serve") == []  # the container the check ran is gone

    with temporary_workspace(exercise, "starter") as ws:
        _, starter = _run(exercise, ws, lesson.id, builder)
    assert not starter.passed
    results = _by_kind(starter)
    assert results["build"].passed
    assert not results["http"].passed and "./server" in results["http"].found
    assert starter.build_seconds[0] < 30  # the compiled layer came from the solution's build
    assert _lesson_containers(engine_api, "serve") == []


def test_edit_main_go_scenario_with_a_prediction(engine_api: docker.APIClient, builder: str) -> None:
    lesson = load_course(GOOD).lesson("cache-order")
    exercise = lesson.exercise("reorder")
    ws = prepare_workspace(lesson, exercise)  # the learner's own workspace (the starter)
    before = (ws / "main.go").read_text()
    events, starter = _run(
        exercise, ws, lesson.id, builder, prediction={2: "cached", 3: "cached", 4: "cached", 5: "cached", 6: "cached"}
    )
    assert (ws / "main.go").read_text() == before  # the edit happened in a scratch copy
    builds = [e for e in events if isinstance(e, BuildStarted)]
    assert [(b.index, b.total, b.label) for b in builds] == [
        (1, 2, "first build"),
        (2, 2, "build after editing main.go"),
    ]
    edits = [e for e in events if isinstance(e, WorkspaceEdited)]
    assert [e.file for e in edits] == ["main.go"]
    assert events.index(edits[0]) > events.index(builds[0]) and events.index(edits[0]) < events.index(builds[1])
    results = _by_kind(starter)
    assert not starter.passed
    # Steps named as the builder names them in its output
    wc = "step 4 (RUN wc -l go.mod > deps.txt)" if builder == "classic" else "[4/5] RUN wc -l go.mod > deps.txt"
    assert not results["cached"].passed and f"{wc} was rebuilt" in results["cached"].found
    # Graded: every step but FROM; BuildKit runs nothing for CMD, so it has one step fewer to predict.
    graded = 5 if builder == "classic" else 4
    assert len(perfect_prediction(starter.record)) == graded
    assert not results["prediction"].passed and results["prediction"].found.startswith(f"1 of {graded} right")
    assert len(starter.build_seconds) == 2

    with temporary_workspace(exercise, "solution") as sol:
        _, solution = _run(exercise, sol, lesson.id, builder, prediction=perfect_prediction)
    assert solution.passed, [r.describe() for r in solution.results]
    copy = "step 5 (COPY . .)" if builder == "classic" else "[5/6] COPY . ."
    assert _by_kind(solution)["first_miss"].found == f"the first rebuilt step was {copy}"


def test_add_log_file_scenario_without_starter(engine_api: docker.APIClient, builder: str) -> None:
    lesson = load_course(GOOD).lesson("cache-order")
    exercise = lesson.exercise("ignore-logs")
    with temporary_workspace(exercise, "solution") as ws:
        _, solution = _run(exercise, ws, lesson.id, builder)
    assert solution.passed, [r.describe() for r in solution.results]
    # The learner's starting point (the base alone) sends debug.log and rebuilds.
    ws = prepare_workspace(lesson, exercise)
    _, start = _run(exercise, ws, lesson.id, builder)
    results = _by_kind(start)
    copy = "step 3 (COPY . .)" if builder == "classic" else "[3/4] COPY . ."
    assert not results["all_cached"].passed and f"{copy} was rebuilt" in results["all_cached"].found
    assert results["context_excludes"].found == "debug.log is sent: list it in .dockerignore"


def test_cancel_stops_a_running_exercise(tmp_path: Path, engine_api: docker.APIClient, builder: str) -> None:
    course = tmp_path / "course" / "01-slow"
    (course / "app").mkdir(parents=True)
    (course / "app" / "Dockerfile").write_text(
        f'FROM alpine:latest\nRUN sleep 30 && echo {uuid.uuid4().hex}\nCMD ["true"]\n'  # new to both caches
    )
    (course / "lesson.md").write_text(
        "---\nid: slow\ntitle: Slow\norder: 1\nexercises:\n  - id: wait\n    title: Wait\n    goal: Wait.\n"
        "    base: app\n    checks:\n      - build: succeeds\n---\n"
    )
    lesson = load_course(course.parent).lesson("slow")
    run = ExerciseRun(lesson.exercises[0], course / "app", "slow", seat=TEST_SEAT, builder=builder)
    seen: list = []
    for event in run.events():
        seen.append(event)
        if isinstance(event, StepRunning) and event.step == 2:
            threading.Timer(0.5, run.cancel).start()
    finished = seen[-1]
    assert isinstance(finished, ExerciseFinished) and finished.cancelled and not finished.passed
    assert finished.results == ()
    assert not any(isinstance(e, BuildSucceeded) for e in seen)
    assert finished.seconds < 20  # the silent `sleep 30` step was cut short


def test_lessons_check_run_on_the_good_course(
    engine_api: docker.APIClient, capsys: pytest.CaptureFixture[str], builder: str
) -> None:
    code = main(["lessons", "check", str(GOOD), "--run", "--builder", builder])
    out = capsys.readouterr().out.splitlines()
    assert code == 0, "\n".join(out)
    lines = [line for line in out if line.startswith(("ok", "FAIL"))]
    assert [line.split()[1].rstrip(":") for line in lines] == [
        "serve/answer-http",
        "cache-order/reorder",
        "cache-order/ignore-logs",
    ]
    assert all(line.startswith("ok") for line in lines)
    assert 'starter fails [dockerfile_contains CMD ["./main"], http /]' in lines[0]
    assert lines[2].endswith("no starter")
    assert out[-1] == "3/3 exercises behave: starters fail, solutions pass"
    # What the check built under its own tags is gone again.
    tags = [
        t for image in engine_api.images(filters=labels.seat_filter(TEST_SEAT)) for t in image.get("RepoTags") or []
    ]
    assert not [t for t in tags if "-check-" in t]
    assert (
        engine_api.containers(all=True, filters={"label": [f"{labels.SEAT}={TEST_SEAT}", f"{labels.KIND}=container"]})
        == []
    )


def test_lessons_check_run_reports_a_starter_that_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    course = tmp_path / "course" / "01-same"
    for folder in ("app", "starter"):
        (course / folder).mkdir(parents=True)
    (course / "app" / "Dockerfile").write_text('FROM alpine:latest\nCMD ["true"]\n')
    (course / "starter" / "Dockerfile").write_text('FROM alpine:latest\nCMD ["true"]\n')
    (course / "lesson.md").write_text(
        "---\nid: same\ntitle: Same\norder: 1\nexercises:\n  - id: nothing-to-do\n    title: Nothing\n    goal: None.\n"
        "    base: app\n    starter: starter\n    checks:\n      - build: succeeds\n---\n"
    )
    code = main(["lessons", "check", str(course.parent), "--run"])
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL  same/nothing-to-do: solution passes 1/1 [build succeeds]" in out
    assert "starter PASSES every check" in out and "must fail at least one check" in out
