"""Hostile lessons: links and paths out of the course, YAML built to hurt, huge files.

Each class of fault is reported at FILE:LINE by `tutor lessons check`, quickly, and a
workspace never takes what a link points at.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tutor.cli import main
from tutor.course.loader import load_course
from tutor.course.source import MAX_LESSON_BYTES
from tutor.course.validator import validate
from tutor.course.workspace import materialize, prepare_workspace

EXERCISE = """\
exercises:
  - id: e
    title: T
    goal: G
{extra}    checks:
      - build: succeeds
"""


def lesson(root: Path, front: str = "", body: str = "Text.\n", folder: str = "01-a", order: int = 1) -> Path:
    """A course folder with one lesson; ``front`` is added to a valid front matter."""
    path = root / folder / "lesson.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"---\nid: {folder.split('-', 1)[1]}\ntitle: T\norder: {order}\n{front}---\n{body}", encoding="utf-8")
    return path


def exercise(root: Path, extra: str = "", **files: str) -> Path:
    """A lesson with one exercise (``extra``: more exercise lines) and its files (``starter/Dockerfile=...``)."""
    path = lesson(root, EXERCISE.format(extra=extra))
    for name, text in files.items():
        target = path.parent / name.replace("__", "/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return path


DOCKERFILE = "FROM alpine:latest\nCMD [\"true\"]\n"


def messages(root: Path) -> list[str]:
    return [str(p) for p in validate(root)]


# -- 1. a lesson never reaches outside its course ------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("base", "../../outside"),
        ("starter", "../../outside"),
        ("solution", "../../outside"),
        ("starter", "../01-a/../../outside"),
    ],
)
def test_folders_outside_the_course_are_refused_at_their_line(tmp_path: Path, field: str, value: str) -> None:
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "Dockerfile").write_text(DOCKERFILE)
    root = tmp_path / "course"
    path = exercise(root, f"    {field}: {value}\n")
    (problem,) = validate(root)
    assert (problem.file, problem.line) == (path, 9)
    assert f"`{field}` folder {value!r} is outside the course folder" in problem.message


def test_a_folder_that_is_a_link_out_of_the_course_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "course"
    path = exercise(root, "    starter: starter\n")
    (path.parent / "starter").symlink_to("/etc")
    (problem,) = validate(root)
    assert (problem.file, problem.line) == (path, 9)
    assert "outside the course folder" in problem.message


def test_a_shared_folder_inside_the_course_is_fine(tmp_path: Path) -> None:
    root = tmp_path / "course"
    (root / "shared").mkdir(parents=True)
    (root / "shared" / "Dockerfile").write_text(DOCKERFILE)
    exercise(root, "    base: ../shared\n")
    assert messages(root) == []


@pytest.mark.parametrize("value", ["../../../etc/passwd", "/etc/passwd", "sub/../../x"])
def test_a_dockerfile_outside_the_workspace_is_refused(tmp_path: Path, value: str) -> None:
    path = exercise(tmp_path, f"    dockerfile: {value}\n")
    (problem,) = validate(tmp_path)
    assert (problem.file, problem.line) == (path, 9)
    assert "`dockerfile` must be a file inside the workspace" in problem.message


@pytest.mark.parametrize(
    ("name", "target"),
    [("secret", "/etc/shadow"), ("etc", "../../etc"), ("loop", "loop"), ("Dockerfile", "/etc/hostname")],
)
def test_links_in_exercise_folders_are_refused_with_their_path(tmp_path: Path, name: str, target: str) -> None:
    path = exercise(tmp_path, "    starter: starter\n", starter__main_go="package main\n")
    link = path.parent / "starter" / name
    link.symlink_to(target)
    found = [p for p in validate(tmp_path) if p.file == link or f"starter/{name} is a symbolic link" in p.message]
    assert found, messages(tmp_path)
    assert "symbolic link" in found[0].message
    if name != "Dockerfile":  # the Dockerfile itself is a problem of the exercise, at its line
        assert found[0].file == link and "not allowed in exercise folders" in found[0].message
    if name == "loop":
        assert "leads nowhere (a loop" in found[0].message


def test_a_fifo_in_an_exercise_folder_is_refused(tmp_path: Path) -> None:
    path = exercise(tmp_path, "    starter: starter\n", starter__Dockerfile=DOCKERFILE)
    fifo = path.parent / "starter" / "pipe"
    os.mkfifo(fifo)
    assert any(p.file == fifo and "special file" in p.message for p in validate(tmp_path))


def test_workspaces_skip_links_with_a_notice_and_never_copy_their_targets(tmp_path: Path) -> None:
    root = tmp_path / "course"
    path = exercise(root, "    starter: starter\n", starter__Dockerfile=DOCKERFILE)
    starter = path.parent / "starter"
    outside = tmp_path / "outside"
    (outside / "deep").mkdir(parents=True)
    (outside / "deep" / "secret").write_text("do not copy")
    (starter / "secret").symlink_to(outside / "deep" / "secret")
    (starter / "tree").symlink_to(outside)
    (starter / "loop").symlink_to("loop")
    os.mkfifo(starter / "pipe")  # copying a pipe would wait for ever
    ex = load_course(root).lessons[0].exercises[0]
    notices: list[str] = []
    dest = materialize(ex, tmp_path / "ws", on_notice=notices.append)
    names = {p.relative_to(dest).as_posix() for p in dest.rglob("*")}
    assert "Dockerfile" in names
    assert not {"secret", "tree", "loop", "pipe"} & names
    assert not any("do not copy" in p.read_text(errors="replace") for p in dest.rglob("*") if p.is_file())
    assert len(notices) == 4
    assert all(n.startswith("not copied into the workspace: ") for n in notices)
    assert any(str(starter / "secret") in n and "symbolic link" in n for n in notices)
    # the learner's own workspace, too
    notices.clear()
    ws = prepare_workspace(load_course(root).lessons[0], ex, on_notice=notices.append)
    assert not (ws / "secret").exists() and len(notices) == 4


def test_a_lesson_md_that_is_a_link_is_not_read(tmp_path: Path) -> None:
    root = tmp_path / "course"
    (root / "01-a").mkdir(parents=True)
    (root / "01-a" / "lesson.md").symlink_to("/etc/passwd")
    lesson(tmp_path / "elsewhere", folder="02-b", order=2)
    (root / "02-b").symlink_to(tmp_path / "elsewhere" / "02-b")
    course = load_course(root)
    assert not course.lessons
    shown = [str(p) for p in course.problems]
    assert any("01-a/lesson.md: not read: lesson.md is a symbolic link" in m for m in shown), shown
    assert any("02-b" in m and "02-b is a symbolic link" in m for m in shown), shown


# -- 2. YAML built to hurt ------------------------------------------------------------------------


def _billion_laughs() -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("front", "line", "words"),
    [
        ("summary: &x [*x]\n", 5, "YAML anchors (&x) are not allowed"),
        (_billion_laughs(), 5, "YAML anchors (&a0) are not allowed"),
        ("summary: *nothing\n", 5, "aliases"),  # an alias to no anchor: a YAML error, at its line
        ("summary: " + "[" * 200 + "]" * 200 + "\n", 5, "nests deeper than 32 levels"),
        ("summary: " + "9" * 5000 + "\n", 5, "cannot read this value"),
        ("summary: 2024-13-45\n", 5, "cannot read this value: month must be in 1..12"),
    ],
)
def test_hostile_yaml_is_a_problem_at_its_line_in_well_under_a_second(
    tmp_path: Path, front: str, line: int, words: str
) -> None:
    path = lesson(tmp_path, front)
    started = time.perf_counter()
    problems = validate(tmp_path)
    assert time.perf_counter() - started < 0.5
    assert [(p.file, p.line) for p in problems] == [(path, line)], [str(p) for p in problems]
    assert words in problems[0].message


def test_one_hostile_lesson_leaves_the_others_loaded(tmp_path: Path) -> None:
    lesson(tmp_path, "summary: &x [*x]\n")
    lesson(tmp_path, folder="02-b", order=2)
    course = load_course(tmp_path)
    assert [lesson.id for lesson in course.lessons] == ["b"]
    assert len(course.problems) == 1


def test_deeply_nested_block_yaml_does_not_reach_the_recursion_limit(tmp_path: Path) -> None:
    nested = "".join(f"{'  ' * i}k{i}:\n" for i in range(30)) + "  " * 30 + "v: 1\n"
    path = lesson(tmp_path, "summary: x\nextra:\n" + "".join("  " + line + "\n" for line in nested.splitlines()))
    problems = validate(tmp_path)
    assert problems and all(p.file == path for p in problems)


# -- 3. big lessons stay cheap --------------------------------------------------------------------


def test_a_lesson_over_the_limit_is_refused_at_line_1_without_reading_it(tmp_path: Path) -> None:
    path = lesson(tmp_path, body="word " * (5 * 1024 * 1024 // 5))  # 5 MB
    started = time.perf_counter()
    (problem,) = validate(tmp_path)
    assert time.perf_counter() - started < 0.5
    assert (problem.file, problem.line) == (path, 1)
    assert "the lesson is too big" in problem.message and f"at most {MAX_LESSON_BYTES // 1024} kB" in problem.message


def test_a_lesson_just_under_the_limit_loads(tmp_path: Path) -> None:
    head = "---\nid: a\ntitle: T\norder: 1\n---\n"
    path = lesson(tmp_path)
    path.write_text(head + "x" * (MAX_LESSON_BYTES - len(head) - 1) + "\n")
    assert path.stat().st_size == MAX_LESSON_BYTES
    assert messages(tmp_path) == []


def test_the_limit_is_documented() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "authoring.md").read_text()
    assert f"{MAX_LESSON_BYTES // 1024} kB" in docs


# -- the command as a user runs it -----------------------------------------------------------------


def test_lessons_check_prints_one_line_per_problem_and_no_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lesson(tmp_path, "summary: &x [*x]\n")
    path = exercise(tmp_path / "other", "    starter: starter\n", starter__Dockerfile=DOCKERFILE)
    (path.parent / "starter" / "loop").symlink_to("loop")
    for course in (tmp_path, tmp_path / "other"):
        code = main(["lessons", "check", str(course)])
        out = capsys.readouterr()
        assert code == 1
        assert "Traceback" not in out.out + out.err
