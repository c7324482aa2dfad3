"""The check kinds and the scenarios are each declared once, and everything reads that one list."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, STREAMS
from tutor.course.checks import KINDS, Evidence, evaluate, needs_http, new_check
from tutor.course.loader import load_course
from tutor.course.model import Check
from tutor.course.scenarios import SCENARIOS
from tutor.engine.record import BuildRecord
from tutor.engine.replay import Recording, ReplayBuild

AUTHORING = (ROOT / "docs" / "authoring.md").read_text(encoding="utf-8")


def _documented_kinds() -> set[str]:
    table = AUTHORING.split("### Check kinds", 1)[1].split("\n\n", 2)[1]
    return set(re.findall(r"^\| `([a-z_]+)` \|", table, re.M))


def test_every_check_kind_is_documented_and_every_documented_kind_exists() -> None:
    assert _documented_kinds() == set(KINDS)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_scenario_is_documented(scenario: str) -> None:
    row = next(line for line in AUTHORING.splitlines() if line.startswith("| `scenario` |"))
    assert f"`{scenario}`" in row


def test_each_kind_is_declared_once_with_its_own_name() -> None:
    assert all(name == kind.name for name, kind in KINDS.items())


@pytest.fixture
def evidence(tmp_path: Path) -> Evidence:
    recording = Recording.load(STREAMS / "cold.jsonl")
    record = BuildRecord()
    for event in ReplayBuild(recording).events():
        record.apply(event)
    context = tmp_path / "go_app"
    shutil.copytree(ROOT / "go_app", context)
    return Evidence(record=record, dockerfile=recording.meta["dockerfile"], context=context)


def test_an_unknown_kind_fails_its_check_and_the_others_still_run(evidence: Evidence) -> None:
    # A course written for a later tutor, or a Check made by hand: the run goes on.
    unknown = evaluate(Check("image_is_shiny", True, name="image_is_shiny", title="the image is shiny"), evidence)
    assert not unknown.passed and "knows no check kind `image_is_shiny`" in unknown.found
    assert unknown.sentence.startswith("This check could not run")
    assert evaluate(new_check("build", "succeeds"), evidence).passed
    assert not needs_http([Check("image_is_shiny", True)])


def test_a_judge_that_breaks_fails_its_check_with_the_reason(evidence: Evidence) -> None:
    # An argument the kind never parsed (a size left as text) makes the real judge raise.
    broken = evaluate(Check("image_smaller_than", "300MB", title="the image is smaller than 300MB"), evidence)
    assert not broken.passed and broken.found.startswith("the check could not run: ")
    assert broken.expected == "the image is smaller than 300MB"


def test_an_unknown_kind_is_refused_when_a_check_is_made() -> None:
    with pytest.raises(ValueError, match="unknown check kind `cahced`"):
        new_check("cahced", ["RUN go build"])


def test_a_lesson_without_a_format_reads_as_the_current_one(tmp_path: Path) -> None:
    course = tmp_path / "course"
    shutil.copytree(ROOT / "tests" / "fixtures" / "courses" / "broken" / "future-format" / "01-fine", course / "01-fine")
    assert [lesson.id for lesson in load_course(course).lessons] == ["fine"]
    text = (course / "01-fine" / "lesson.md").read_text(encoding="utf-8")
    (course / "01-fine" / "lesson.md").write_text(text.replace("---\n", "---\nformat: 1\n", 1), encoding="utf-8")
    loaded = load_course(course)
    assert [lesson.id for lesson in loaded.lessons] == ["fine"] and not loaded.problems


def test_loading_a_course_leaves_the_docker_sdk_unloaded() -> None:
    # The registry imports every family; none may pull in the SDK (seconds at start-up on slow disks).
    code = "import sys, tutor.course.loader, tutor.course.validator; print('docker' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == "False"
