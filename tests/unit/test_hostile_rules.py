"""docs/authoring.md, rule by rule: each rule it states is enforced by `tutor lessons check`.

The broken corpus (test_course_validator.py) holds one course per common slip; this table
covers the rest of the rules, each with the smallest lesson that breaks it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.test_hostile_lessons import DOCKERFILE, exercise, lesson
from tutor.course.validator import validate

# rule -> (exercise lines, files, line (0: the line of the check added below), words of the message)
RULES: dict[str, tuple[str, dict[str, str], int, str]] = {
    "size without a unit": ("", {}, 0, "a size needs a unit: write 20MB"),
    "size as a text without a unit": ("", {}, 0, "'20' is not a size"),
    "size beyond any image": ("", {}, 0, "more than any image can be"),
    "size with a thousand digits": ("", {}, 0, "is not a size"),
    "negative size": ("", {}, 0, "is not a size"),
    "stages is a whole number of at least 1": ("", {}, 0, "expected a whole number of at least 1, found 0"),
    "instruction_order needs two prefixes": ("", {}, 0, "at least 2 texts, found 1"),
    "http status is an HTTP status": ("", {}, 0, "`status` must be an HTTP status"),
    "http path starts with /": ("", {}, 0, "`path` must start with /"),
    "base_image is one reference": ("", {}, 0, "expected one image reference"),
    "hadolint ignore takes rule codes": ("", {}, 0, "hadolint rule codes such as DL3006"),
    "dockerfile_contains takes texts": ("", {}, 0, "expected a text, found nothing"),
    "all_cached is true": ("    scenario: rebuild\n", {}, 0, "expected true, found false"),
    "first_miss takes a step number of at least 1": ("    scenario: rebuild\n", {}, 0, "step numbers start at 1"),
    "reveal_solution_after is a whole number": ("    reveal_solution_after: -1\n", {}, 9, "`reveal_solution_after` must be a whole number"),
    "predict is true or false": ("    predict: yes please\n", {}, 9, "`predict` must be true or false"),
    "hints are texts": ("    hints: [1, 2]\n", {}, 9, "`hints` must be a list of texts"),
    "the Dockerfile is a file, not a folder": (
        "    starter: starter\n",
        {"starter/Dockerfile/x": "x"},
        6,
        "starter/Dockerfile is not a file",
    ),
    "a starter file where the base has a folder": (
        "    base: app\n    starter: starter\n",
        {"app/Dockerfile": DOCKERFILE, "app/src/main.go": "x", "starter/src": "a file"},
        10,
        "starter/src is a file but the base has a folder there",
    ),
    "a solution folder where the base has a file": (
        "    base: app\n    solution: solution\n",
        {"app/Dockerfile": DOCKERFILE, "app/main.go": "x", "solution/main.go/x": "x"},
        10,
        "solution/main.go is a folder but the base has a file there",
    ),
    "the scenario's file is in every workspace": (
        "    base: app\n    scenario: edit-go-mod\n",
        {"app/Dockerfile": DOCKERFILE},
        10,
        "scenario edit-go-mod edits go.mod, but the base workspace has none",
    ),
}

CHECK_OF_RULE: dict[str, str] = {
    "size without a unit": "image_smaller_than: 20",
    "size as a text without a unit": "image_larger_than: '20'",
    "size beyond any image": "image_smaller_than: 5000TB",
    "size with a thousand digits": "image_smaller_than: " + "9" * 1000 + "MB",
    "negative size": "image_smaller_than: -20MB",
    "stages is a whole number of at least 1": "stages: 0",
    "instruction_order needs two prefixes": "instruction_order: [RUN go build]",
    "http status is an HTTP status": "http: {status: 42}",
    "http path starts with /": "http: {path: index.html}",
    "base_image is one reference": "base_image: alpine latest",
    "hadolint ignore takes rule codes": "hadolint: {ignore: [latest]}",
    "dockerfile_contains takes texts": "dockerfile_contains: [EXPOSE 8080, null]",
    "all_cached is true": "all_cached: false",
    "first_miss takes a step number of at least 1": "first_miss: 0",
}


@pytest.mark.parametrize("rule", sorted(RULES))
def test_each_rule_of_the_docs_is_a_problem_at_its_line(tmp_path: Path, rule: str) -> None:
    extra, files, line, words = RULES[rule]
    flat = {name.replace("/", "__"): text for name, text in files.items()}
    path = exercise(tmp_path, extra, **flat)
    if rule in CHECK_OF_RULE:
        text = path.read_text().replace("      - build: succeeds\n", f"      - build: succeeds\n      - {CHECK_OF_RULE[rule]}\n")
        path.write_text(text)
        line = text.splitlines().index(f"      - {CHECK_OF_RULE[rule]}") + 1  # the check's own line
    problems = validate(tmp_path)
    assert [(p.file, p.line) for p in problems] == [(path, line)], [str(p) for p in problems]
    assert words in problems[0].message


def test_a_folder_holds_one_lesson_md_in_any_case(tmp_path: Path) -> None:
    path = lesson(tmp_path)
    twin = path.with_name("Lesson.md")
    twin.write_text(path.read_text())
    (problem,) = validate(tmp_path)
    assert problem.file == twin and "remove it: the folder already has lesson.md" in problem.message


def test_a_folder_dockerfile_no_longer_fails_later_with_errno_17(tmp_path: Path) -> None:
    """The example of the report: it passed the static check, then the workspace failed to copy."""
    from tutor.course.loader import load_course
    from tutor.course.workspace import WorkspaceError, materialize

    path = exercise(tmp_path, "    starter: starter\n", starter__Dockerfile__x="x")
    assert validate(tmp_path)
    (path.parent / "starter" / "Dockerfile" / "x").unlink()
    (path.parent / "starter" / "Dockerfile").rmdir()
    (path.parent / "starter" / "Dockerfile").write_text(DOCKERFILE)
    ex = load_course(tmp_path).lessons[0].exercises[0]
    materialize(ex, tmp_path / "ws")  # and a real clash is a WorkspaceError, never a raw OSError
    (path.parent / "starter" / "main.go").unlink(missing_ok=True)
    (path.parent / "starter" / "main.go").mkdir()
    with pytest.raises(WorkspaceError, match="could not copy the exercise files"):
        materialize(ex, tmp_path / "ws2")
