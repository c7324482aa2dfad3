"""Every check speaks plain words: a title a learner reads, and one sentence for its verdict."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.unit.test_course_checks import run
from tutor.course.checks import KINDS, HttpAnswer, new_check
from tutor.course.scenarios import SCENARIOS, describe_scenario

# One written argument per check kind, as a lesson would write it.
ARGUMENTS = {
    "build": "succeeds",
    "cached": ["RUN go mod download"],
    "rebuilt": ["COPY . ."],
    "all_cached": True,
    "first_miss": "COPY . .",
    "prediction": "matches",
    "image_smaller_than": "300MB",
    "image_larger_than": "1MB",
    "stages": 2,
    "http": {"path": "/", "port": 8080},
    "dockerfile_contains": ["EXPOSE 8080"],
    "dockerfile_lacks": ["ADD"],
    "instruction_order": ["COPY go.mod", "RUN go mod download", "COPY . ."],
    "base_image": "alpine:latest",
    "hadolint": {"max_level": "warning"},
    "context_excludes": ["debug.log"],
    "skips_stages": ["builder"],
    "parallel_stages": ["builder", "assets"],
    "image_built": True,
    "image_exists": "myapp",
    "image_gone": "myapp",
    "container_running": {"image": "myapp", "name": "hello", "port": 8080},
    "port_unpublished": {"name": "quiet", "port": 8080},
    "container_exited": {"name": "hello"},
    "container_gone": {"image": "myapp"},
    "file_in_container": {"name": "hello", "path": "/tmp/hello"},
}
IDENTIFIER = re.compile(r"\b[a-z]+_[a-z_]+\b|max_level|scenario")


@pytest.fixture
def context(tmp_path: Path) -> Path:
    dest = tmp_path / "go_app"
    shutil.copytree(ROOT / "go_app", dest)
    return dest


def test_every_kind_has_an_argument_here() -> None:
    assert set(ARGUMENTS) == set(KINDS)


@pytest.mark.parametrize("kind", sorted(ARGUMENTS))
def test_titles_and_sentences_name_no_identifier(kind: str, context: Path) -> None:
    check = new_check(kind, ARGUMENTS[kind])
    assert not IDENTIFIER.search(check.title), check.title
    result = run(kind, ARGUMENTS[kind], "cold", context, http=lambda port, path: HttpAnswer(200, "Hello"))
    assert result.title == check.title
    starts_with_a_file = kind == "context_excludes"  # "debug.log stayed out ..."
    assert result.sentence[:1].isupper() or starts_with_a_file, result.sentence
    assert not IDENTIFIER.search(result.sentence), result.sentence


def test_size_says_how_big_and_what_the_exercise_wants(context: Path) -> None:
    big = run("image_smaller_than", "300MB", "cold", context)
    assert big.sentence == "The image is 330 MB; this exercise wants it under 300 MB"
    small = run("image_smaller_than", "20MB", "multistage", context)
    assert small.sentence == "The image is 10.1 MB, under 20.0 MB"


def test_http_says_nothing_answered_on_the_port(context: Path) -> None:
    silent = run("http", {"path": "/"}, "cold", context, http=lambda port, path: HttpAnswer(None, error="connection refused"))
    assert silent.sentence == "Nothing answered on port 8080 (connection refused)"
    assert silent.title == "the app answers on port 8080"
    wrong = run("http", {"path": "/health"}, "cold", context, http=lambda port, path: HttpAnswer(404, "404 page not found\n"))
    assert wrong.sentence == "The app answered on port 8080 at /health with status 404; this exercise wants 200"


def test_context_excludes_says_what_was_sent(context: Path) -> None:
    (context / "debug.log").write_text("noise\n")
    (context / ".dockerignore").unlink()
    leaked = run("context_excludes", ["debug.log"], "cold", context)
    assert leaked.sentence == "debug.log was sent to the engine: list it in .dockerignore"
    assert leaked.title == "debug.log is not sent to the engine (.dockerignore)"


def test_hadolint_is_named_for_what_it_does(context: Path) -> None:
    latest = run("hadolint", {"max_level": "warning"}, "multistage", context)
    assert latest.title == "the Dockerfile checker (hadolint) finds no warnings or errors"
    assert latest.sentence.startswith("The Dockerfile checker (hadolint) says at line 18: ")
    assert "(DL3007, a warning)" in latest.sentence


def test_describe_reads_as_the_app_does(context: Path) -> None:
    big = run("image_smaller_than", "300MB", "cold", context)
    assert big.describe() == "FAIL the image is smaller than 300 MB: The image is 330 MB; this exercise wants it under 300 MB"


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_scenarios_are_said_in_words(scenario: str) -> None:
    said = describe_scenario(scenario)
    assert scenario not in said and said.startswith("When you build, the tutor ")


def test_hadolint_says_an_error_not_a_error(context: Path) -> None:
    text = "FROM alpine:3.20\nADD main.go /app/\nCMD [\"/app/main\"]\n"
    found = run("hadolint", {"max_level": "warning"}, "cold", context, dockerfile=text)
    assert "(DL3020, an error)" in found.sentence, found.sentence
