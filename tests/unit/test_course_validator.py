"""`validate` and `tutor lessons check` on a corpus of broken courses: one problem each, at its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tutor.cli import main
from tutor.course.validator import dockerfile_problems, validate

BROKEN = FIXTURES / "courses" / "broken"
GOOD = FIXTURES / "courses" / "good"
LESSON = "02-broken/lesson.md"

# case -> (file, line, words the message must hold)
EXPECTED: dict[str, tuple[str, int, str]] = {
    "bad-yaml": (LESSON, 3, "not valid YAML: mapping values are not allowed"),
    "unknown-check": (LESSON, 12, "unknown check kind `cahced` (did you mean `cached`?)"),
    "missing-starter": (LESSON, 9, "`starter` folder 'starter' does not exist"),
    "duplicate-id": ("02-again/lesson.md", 2, "lesson id 'fine' is also used by 01-fine/lesson.md:2"),
    "duplicate-order": ("02-same-order/lesson.md", 4, "order 1 is also used by 01-fine/lesson.md:4"),
    "bad-order": (LESSON, 4, "`order` must be a positive whole number, found 'second'"),
    "missing-title": (LESSON, 2, "missing `title`"),
    "bad-size": (LESSON, 11, "unknown unit 'megs' in '20 megs'"),
    "unknown-key": (LESSON, 5, "unknown front matter key `sumary` (did you mean `summary`?)"),
    "unknown-scenario": (LESSON, 9, "unknown scenario 'edit-main'"),
    "target-not-a-stage": (LESSON, 10, "target `prod` is no stage of solution/Dockerfile (its stages: local, production)"),
    "targets-with-scenario": (LESSON, 10, "`targets` and `scenario` do not go together"),
    "bad-target-name": (LESSON, 9, "`targets`: 'my stage' is not a stage name"),
    "cache-check-with-one-target": (LESSON, 12, "the `cached` check needs a `scenario` (e.g. `scenario: rebuild`) or two `targets` or more"),
    "unknown-builder": (LESSON, 9, "unknown builder 'buildkt' (did you mean `buildkit`?): an exercise may ask for buildkit or classic"),
    "bad-http": (LESSON, 10, "`port` must be a port number (1-65535), found 99999"),
    "no-front-matter": (LESSON, 1, "no front matter"),
    "unclosed-front-matter": (LESSON, 1, "front matter is not closed"),
    "duplicate-key": (LESSON, 5, "`title` is given twice"),
    "cache-check-without-scenario": (LESSON, 11, "the `cached` check needs a `scenario`"),
    "prediction-without-predict": (LESSON, 11, "needs `predict: true`"),
    "buildkit-syntax": ("02-broken/solution/Dockerfile", 4, "RUN --mount needs BuildKit"),
    "offline-base": ("02-broken/solution/Dockerfile", 6, "FROM node:20-slim"),
    "bad-id": (LESSON, 2, "`id` must be lowercase letters, digits and dashes"),
    "missing-dockerfile": (LESSON, 9, "no Dockerfile.prod in the base workspace"),
    "two-kinds-in-one-check": (LESSON, 10, "ONE key"),
    "bad-hadolint-level": (LESSON, 10, "`max_level` must be one of error, warning, info, style"),
    "bad-build-argument": (LESSON, 10, "expected succeeds or fails, found 'works'"),
    "duplicate-exercise-id": (LESSON, 11, "exercise id 'one' is used twice in this lesson (also line 6)"),
    "missing-goal": (LESSON, 6, "missing `goal`"),
    "hints-not-a-list": (LESSON, 9, "`hints` must be a list of texts"),
    "future-format": (LESSON, 2, "this lesson is written for lesson format 2; this tutor reads format 1"),
    "unused-solution-folder": (LESSON, 6, "the folder solution/ is not used by any exercise: add `solution: solution`"),
}


def test_the_corpus_is_covered() -> None:
    assert sorted(p.name for p in BROKEN.iterdir() if p.is_dir()) == sorted(EXPECTED)


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_each_broken_case_yields_exactly_one_problem_at_its_line(case: str) -> None:
    file, line, words = EXPECTED[case]
    problems = validate(BROKEN / case)
    assert len(problems) == 1, [str(p) for p in problems]
    (problem,) = problems
    assert problem.file == BROKEN / case / file
    assert problem.line == line
    assert words in problem.message
    # The line really is the one in question: it holds the key or value the message is about.
    text = (BROKEN / case / file).read_text().splitlines()
    assert 1 <= problem.line <= max(len(text), 1)


@pytest.mark.parametrize("case", ["unknown-check", "duplicate-id", "buildkit-syntax"])
def test_lessons_check_prints_file_line_message_and_exits_1(case: str, capsys: pytest.CaptureFixture[str]) -> None:
    file, line, words = EXPECTED[case]
    code = main(["lessons", "check", str(BROKEN / case)])
    out = capsys.readouterr().out.splitlines()
    assert code == 1
    assert out[0].startswith(f"{BROKEN / case / file}:{line}: ")
    assert words in out[0]
    assert out[-1] == "1 problem in 1 file"


def test_good_course_has_no_problems(capsys: pytest.CaptureFixture[str]) -> None:
    assert validate(GOOD) == []
    assert main(["lessons", "check", str(GOOD)]) == 0
    assert capsys.readouterr().out.strip() == f"{GOOD}: 2 lessons, 3 exercises, no problems"


def test_lessons_list_prints_the_lessons_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lessons", "list", str(GOOD)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:2] == ["1", "serve"] and out[0].endswith("1 exercise")
    assert out[1].split()[:2] == ["2", "cache-order"] and out[1].endswith("2 exercises")


def test_lessons_list_says_when_lessons_were_left_out(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lessons", "list", str(BROKEN / "bad-yaml")]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:2] == ["1", "fine"]
    assert "run `tutor lessons check" in out[-1]


def test_global_lessons_option_is_the_default_folder(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--lessons", str(BROKEN / "bad-order"), "lessons", "check"]) == 1
    assert f"{BROKEN / 'bad-order' / LESSON}:4:" in capsys.readouterr().out


def test_missing_course_folder_is_a_message_not_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lessons", "check", str(tmp_path / "nope")]) == 1
    assert capsys.readouterr().out.startswith(f"{tmp_path / 'nope'}: the course folder does not exist")


def test_several_problems_in_one_lesson_are_all_reported(tmp_path: Path) -> None:
    folder = tmp_path / "01-x"
    folder.mkdir()
    (folder / "lesson.md").write_text(
        "---\nid: X\norder: -1\nexercises:\n  - id: a\n    title: A\n    goal: G\n    checks:\n"
        "      - stages: two\n      - base_image: alpine latest\n---\n"
    )
    found = [(p.line, p.message.split(" ")[0]) for p in validate(tmp_path)]
    assert found == [(1 + 1, "`id`"), (2, "missing"), (3, "`order`"), (9, "check"), (10, "check")]


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("FROM alpine:latest\nRUN apk add curl\n", 2, "`apk add` needs the network"),
        ("FROM alpine:latest\nRUN cat <<EOF > /x\nhi\nEOF\n", 2, "heredocs"),
        ("FROM alpine:latest\nADD https://example.com/x /x\n", 2, "ADD of a URL"),
        ("FROM golang:1.24-alpine AS build\nFROM build\n", None, ""),
        ("FROM alpine\nFROM docker.io/library/golang:1.24-alpine\nFROM scratch\n", None, ""),
        ("FROM ubuntu:24.04\n", 1, "FROM ubuntu:24.04"),
    ],
)
def test_dockerfile_rules(tmp_path: Path, text: str, line: int | None, words: str) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(text)
    problems = dockerfile_problems(path)
    if line is None:
        assert problems == []
    else:
        assert [p.line for p in problems][:1] == [line] and words in problems[0].message


def test_a_misnamed_lesson_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "01-x").mkdir()
    (tmp_path / "01-x" / "Lesson.md").write_text("---\nid: x\n---\n")
    problems = validate(tmp_path)
    assert any("rename it to lesson.md" in p.message for p in problems)


def test_an_exercise_that_asks_for_buildkit_may_use_its_syntax(tmp_path: Path) -> None:
    """`builder: buildkit` welcomes a cache mount and a heredoc; the same files without it do not pass."""
    import shutil

    from tutor.course.loader import load_course
    from tutor.course.runner import ExerciseRun

    course = tmp_path / "course"
    shutil.copytree(BROKEN / "buildkit-syntax", course)
    lesson = course / "02-broken" / "lesson.md"
    dockerfile = course / "02-broken" / "solution" / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text() + "RUN <<EOF\necho built > /built.txt\nEOF\n")
    without = [p.message for p in validate(course)]
    assert len(without) == 2 and "RUN --mount needs BuildKit" in without[0] and "heredocs" in without[1], without
    lesson.write_text(lesson.read_text().replace("    solution: solution\n", "    solution: solution\n    builder: buildkit\n"))
    assert validate(course) == []
    exercise = load_course(course).lesson("broken").exercises[0]
    assert exercise.builder == "buildkit"
    run = ExerciseRun(exercise, tmp_path, "broken", seat="pytest", builder="classic")
    assert run.builder == "buildkit"  # the exercise's need wins over the learner's choice
