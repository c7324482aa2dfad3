"""Loading a course folder into the lesson model."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import FIXTURES, ROOT
from tutor import paths
from tutor.course.loader import load_course, load_lesson
from tutor.course.model import HttpSpec

GOOD = FIXTURES / "courses" / "good"
BROKEN = FIXTURES / "courses" / "broken"


def test_good_course_loads_in_order_with_every_field() -> None:
    course = load_course(GOOD)
    assert course.problems == ()
    assert [lesson.id for lesson in course.lessons] == ["serve", "cache-order"]
    serve = course.lesson("serve")
    assert serve is not None and serve.order == 1 and serve.title == "Serve the app"
    assert serve.summary.startswith("Build the sample app")
    assert serve.path == GOOD / "01-serve" / "lesson.md"
    (exercise,) = serve.exercises
    assert exercise.id == "answer-http"
    assert exercise.base == "go_app" and exercise.base_dir == paths.shipped_go_app()
    assert exercise.starter_dir == GOOD / "01-serve" / "starter"
    assert exercise.solution_dir == GOOD / "01-serve" / "solution"
    assert exercise.dockerfile == "Dockerfile" and exercise.scenario is None
    assert exercise.hints == ("The binary is built with `go build -o main`.",)
    assert exercise.reveal_solution_after == 3 and exercise.predict is False
    assert "Fix the `CMD`" in exercise.goal
    assert [c.kind for c in exercise.checks] == ["build", "dockerfile_contains", "http"]
    http = exercise.checks[2]
    assert http.argument == HttpSpec(path="/", port=8080, contains="Hello, Docker with Go!", status=200)
    assert http.name == "http /"


def test_body_is_kept_as_markdown_text() -> None:
    lesson = load_course(GOOD).lesson("serve")
    assert lesson is not None
    assert lesson.body.startswith("# Serve the app")
    assert "`CMD`" in lesson.body and "---" not in lesson.body


def test_check_lines_point_into_lesson_md() -> None:
    lesson = load_course(GOOD).lesson("cache-order")
    assert lesson is not None
    lines = lesson.path.read_text().splitlines()
    reorder = lesson.exercise("reorder")
    assert reorder is not None and reorder.scenario == "edit-main-go" and reorder.predict
    for check in reorder.checks:
        assert lines[check.line - 1].strip().startswith(f"- {check.kind}:")
    assert lines[reorder.line - 1].strip() == "- id: reorder"
    cached = reorder.checks[1]
    assert cached.argument == ("RUN wc -l go.mod",)
    ignore = lesson.exercise("ignore-logs")
    assert ignore is not None and ignore.starter is None and ignore.base == "app"
    assert ignore.checks[1].argument == ("debug.log",)


def test_a_broken_lesson_is_skipped_and_reported_never_raised() -> None:
    course = load_course(BROKEN / "bad-yaml")
    assert [lesson.id for lesson in course.lessons] == ["fine"]
    (problem,) = course.problems
    assert problem.file == BROKEN / "bad-yaml" / "02-broken" / "lesson.md"
    assert problem.line == 3
    assert str(problem).startswith(f"{problem.file}:3: ")


def test_duplicate_id_keeps_the_first_lesson_only() -> None:
    course = load_course(BROKEN / "duplicate-id")
    assert [lesson.path.parent.name for lesson in course.lessons] == ["01-fine"]
    assert len(course.problems) == 1


def test_duplicate_order_keeps_both_lessons_but_reports_it() -> None:
    course = load_course(BROKEN / "duplicate-order")
    assert [lesson.id for lesson in course.lessons] == ["fine", "same-order"]
    assert "order 1 is also used by 01-fine/lesson.md:4" in course.problems[0].message


def test_missing_folder_and_empty_folder_are_problems(tmp_path: Path) -> None:
    missing = load_course(tmp_path / "nope")
    assert missing.lessons == () and "does not exist" in missing.problems[0].message
    empty = load_course(tmp_path)
    assert empty.lessons == () and "no lessons" in empty.problems[0].message
    assert str(empty.problems[0]) == f"{tmp_path}: no lessons: expected <folder>/lesson.md files in it"


def test_leading_blank_lines_shift_reported_lines(tmp_path: Path) -> None:
    folder = tmp_path / "01-x"
    folder.mkdir()
    (folder / "lesson.md").write_text("\n\n---\nid: x\ntitle: X\norder: zero\n---\nText\n")
    lesson, problems = load_lesson(folder / "lesson.md")
    assert lesson is None
    assert [(p.line, "order" in p.message) for p in problems] == [(6, True)]


def test_unreadable_lesson_is_a_problem_at_line_1(tmp_path: Path) -> None:
    folder = tmp_path / "01-x"
    folder.mkdir()
    (folder / "lesson.md").write_bytes(b"---\nid: x\ntitle: \xff\xfe\norder: 1\n---\n")
    lesson, problems = load_lesson(folder / "lesson.md")
    assert lesson is None and problems[0].line == 1 and "UTF-8" in problems[0].message


def test_non_string_keys_do_not_break_loading(tmp_path: Path) -> None:
    folder = tmp_path / "01-x"
    folder.mkdir()
    (folder / "lesson.md").write_text("---\nid: x\ntitle: X\norder: 1\n7: seven\n---\n")
    lesson, problems = load_lesson(folder / "lesson.md")
    assert lesson is None
    assert [(p.line, p.message) for p in problems] == [(5, "unknown front matter key `7`")]


def test_a_lesson_without_exercises_is_reading_only(tmp_path: Path) -> None:
    folder = tmp_path / "01-read"
    folder.mkdir()
    (folder / "lesson.md").write_text("---\nid: read\ntitle: Read\norder: 1\n---\n\n# Read me\n")
    course = load_course(tmp_path)
    assert course.problems == ()
    assert course.lessons[0].exercises == () and course.lessons[0].body == "# Read me"


def test_course_navigation(tmp_path: Path) -> None:
    shutil.copytree(GOOD, tmp_path / "c")
    course = load_course(tmp_path / "c")
    assert course.next_lesson("serve") is course.lesson("cache-order")
    assert course.next_lesson("cache-order") is None
    assert course.lesson("nope") is None


def test_the_shipped_sample_app_is_the_default_base() -> None:
    assert (paths.shipped_go_app() / "main.go").is_file()
    assert paths.shipped_go_app() == ROOT / "go_app"
