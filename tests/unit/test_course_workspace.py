"""The learner's workspace: a writable copy of base + overlay; the shipped files are never touched."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tutor import paths
from tutor.course.loader import load_course
from tutor.course.scenarios import SCENARIOS
from tutor.course.workspace import (
    WorkspaceError,
    materialize,
    prepare_workspace,
    solution_files,
    temporary_workspace,
    workspace_path,
)

GOOD = FIXTURES / "courses" / "good"


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_workspace_is_base_with_starter_laid_over_it() -> None:
    lesson = load_course(GOOD).lesson("serve")
    exercise = lesson.exercises[0]
    shipped = _tree(paths.shipped_go_app())
    ws = prepare_workspace(lesson, exercise)
    assert ws == paths.workspace_dir() / "serve" / "answer-http" == workspace_path(lesson, exercise)
    assert (ws / "main.go").read_bytes() == shipped["main.go"]
    assert (ws / "Dockerfile").read_text() == (GOOD / "01-serve" / "starter" / "Dockerfile").read_text()
    assert 'CMD ["./server"]' in (ws / "Dockerfile").read_text()
    assert _tree(paths.shipped_go_app()) == shipped


def test_the_learners_edits_survive_until_a_reset() -> None:
    lesson = load_course(GOOD).lesson("cache-order")
    exercise = lesson.exercise("reorder")
    ws = prepare_workspace(lesson, exercise)
    (ws / "Dockerfile").write_text("FROM alpine:latest\n")
    (ws / "notes.txt").write_text("mine\n")
    assert prepare_workspace(lesson, exercise) == ws
    assert (ws / "Dockerfile").read_text() == "FROM alpine:latest\n"
    fresh = prepare_workspace(lesson, exercise, reset=True)
    assert fresh == ws
    assert (ws / "Dockerfile").read_text() == (GOOD / "02-cache" / "starter" / "Dockerfile").read_text()
    assert not (ws / "notes.txt").exists()
    assert sorted(p.name for p in ws.parent.iterdir()) == ["reorder"]  # no leftovers of the swap


def test_solution_variant_in_a_temporary_folder_is_removed_after() -> None:
    lesson = load_course(GOOD).lesson("cache-order")
    exercise = lesson.exercise("ignore-logs")
    with temporary_workspace(exercise, "solution") as ws:
        assert (ws / ".dockerignore").read_text() == "*.log\n"
        assert (ws / "main.go").is_file()
        kept = ws
    assert not kept.exists()
    assert not paths.workspace_dir().exists()  # the learner's workspace was not involved
    assert solution_files(exercise) == {".dockerignore": "*.log\n"}


def test_copies_are_writable_even_from_read_only_sources(tmp_path: Path) -> None:
    course = tmp_path / "course"
    shutil.copytree(GOOD, course)
    for p in sorted(course.rglob("*"), reverse=True):
        p.chmod(stat.S_IRUSR | (stat.S_IXUSR if p.is_dir() else 0))
    try:
        exercise = load_course(course).lesson("cache-order").exercise("reorder")
        ws = materialize(exercise, tmp_path / "ws")
        assert (ws / "Dockerfile").stat().st_mode & stat.S_IWUSR
        (ws / "Dockerfile").write_text("changed\n")
        assert (course / "02-cache" / "starter" / "Dockerfile").read_text() != "changed\n"
    finally:
        for p in course.rglob("*"):
            p.chmod(stat.S_IRWXU)


def test_a_missing_folder_is_a_workspace_error(tmp_path: Path) -> None:
    course = tmp_path / "course"
    shutil.copytree(GOOD, course)
    exercise = load_course(course).lesson("cache-order").exercise("reorder")
    shutil.rmtree(course / "02-cache" / "starter")
    with pytest.raises(WorkspaceError, match="starter"):
        materialize(exercise, tmp_path / "ws")


def test_scenario_edits_are_unique_each_time(tmp_path: Path) -> None:
    (tmp_path / "main.go").write_text("package main\n")
    edit_main = SCENARIOS["edit-main-go"]
    assert edit_main.apply(tmp_path) == "appended a comment line to main.go"
    text1 = (tmp_path / "main.go").read_text()
    edit_main.apply(tmp_path)
    text2 = (tmp_path / "main.go").read_text()
    assert edit_main.edits == "main.go" and text1.startswith("package main\n") and text2.startswith(text1)
    assert text2 != text1 and text2.count("// edited at") == 2
    assert SCENARIOS["add-log-file"].apply(tmp_path) == "wrote debug.log into the build context"
    assert (tmp_path / "debug.log").read_text().startswith("debug output")


def test_a_run_on_a_missing_workspace_reports_it_through_the_checks(tmp_path: Path) -> None:
    from tutor.course.runner import ExerciseFinished, ExerciseRun

    lesson = load_course(GOOD).lesson("cache-order")
    for exercise in (lesson.exercise("reorder"), lesson.exercise("ignore-logs")):
        events = list(ExerciseRun(exercise, tmp_path / "gone", lesson.id).events())
        finished = events[-1]
        assert isinstance(finished, ExerciseFinished) and not finished.passed and not finished.cancelled
        build = next(r for r in finished.results if r.kind in ("build", "all_cached"))
        assert not build.passed and "gone" in build.found
