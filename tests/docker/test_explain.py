"""Why a build missed the cache, one test per cause, on the real engine.

Only the edit-main.go test rebuilds the Go program; the other causes use a
cheap Dockerfile (no compile) written into the scratch copy of go_app.
"""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path

import docker
import pytest

from tests.conftest import TEST_SEAT
from tutor.commands.build import build as build_command
from tutor.engine import labels
from tutor.engine.build import Build, BuildRequest
from tutor.engine.explain import (
    BASE_IMAGE,
    FILES,
    FIRST_BUILD,
    INSTRUCTION,
    NO_CACHE,
    NONE,
    CacheExplanation,
    FileChange,
    explain_build,
    snapshot_before,
)
from tutor.engine.record import BuildRecord

CHEAP = """FROM {base}
WORKDIR /app
RUN echo "preparing the workspace"
COPY go.mod ./
COPY . .
CMD ["./main"]
"""
CHEAP_MULTISTAGE = """FROM golang:1.24-alpine AS builder
WORKDIR /src
COPY . .
RUN cat main.go > /src/out.txt
FROM alpine:latest
COPY --from=builder /src/out.txt /out.txt
CMD ["cat", "/out.txt"]
"""
BASE_TAG = labels.seat_tag(TEST_SEAT, "explain-base")  # a test-only name, never a course image
# Every edit carries this run's token: the engine keeps layers that an interrupted earlier run
# built from the same edit, and a build that finds them in its cache would miss nothing.
RUN = uuid.uuid4().hex[:12]


def _build(ctx: Path, dockerfile: str = "Dockerfile", nocache: bool = False) -> tuple[BuildRecord, CacheExplanation]:
    request = BuildRequest(
        context=ctx,
        dockerfile=dockerfile,
        tag=labels.seat_tag(TEST_SEAT, f"explain-{ctx.name}", dockerfile),
        nocache=nocache,
        labels=labels.managed_labels(TEST_SEAT, kind="build"),
    )
    before = snapshot_before(request)
    record = BuildRecord()
    for event in Build(request).events():
        record.apply(event)
    assert record.result is not None, record.failure
    why = explain_build(request, record, before=before)
    assert why is not None
    return record, why


def _cheap(go_app: Path, base: str = "golang:1.24-alpine") -> str:
    (go_app / "Dockerfile.explain").write_text(CHEAP.format(base=base))
    return "Dockerfile.explain"


def test_first_build_then_unchanged(go_app: Path) -> None:
    record, why = _build(go_app)
    assert why.cause_kind == FIRST_BUILD
    assert "no earlier build" in why.summary
    record, why = _build(go_app)
    assert record.cache_hits == 9
    assert why.cause_kind == NONE and why.first_miss_step is None


def test_editing_main_go_names_it(go_app: Path) -> None:
    _build(go_app)
    main = go_app / "main.go"
    main.write_text(main.read_text().replace("Hello, Docker with Go!", f"Hello, explained Docker! {RUN}"))
    record, why = _build(go_app)
    assert record.first_miss is not None and record.first_miss.step == 6  # the engine agrees
    assert why.cause_kind == FILES
    assert why.first_miss_step == 6
    assert why.changed_files == (FileChange("main.go", "changed"),)
    assert why.cascade == (7, 8, 9)
    assert why.summary == (
        "Step 6/9 COPY . . missed the cache because main.go changed; steps 7-9 were rebuilt as a consequence."
    )
    print(why.summary)


def test_an_ignored_log_file_does_not_miss_and_an_unignored_one_does(go_app: Path) -> None:
    df = _cheap(go_app)
    log = go_app / "debug.log"
    log.write_text(f"first run {RUN}\n")
    _build(go_app, df)
    log.write_text(f"second run {RUN}\n")  # *.log is in .dockerignore: not in the context
    record, why = _build(go_app, df)
    assert record.rebuilt == 0 and why.cause_kind == NONE

    ignore = go_app / ".dockerignore"
    ignore.write_text(ignore.read_text().replace("*.log\n", ""))
    record, why = _build(go_app, df)
    assert record.first_miss is not None and record.first_miss.step == 5
    assert why.cause_kind == FILES and why.first_miss_step == 5
    assert FileChange("debug.log", "added") in why.changed_files
    assert FileChange(".dockerignore", "changed") in why.changed_files  # COPY . . copies it too

    log.write_text(f"third run {RUN}\n")
    record, why = _build(go_app, df)
    assert record.first_miss is not None and record.first_miss.step == 5
    assert why.changed_files == (FileChange("debug.log", "changed"),)
    assert why.summary.startswith("Step 5/6 COPY . . missed the cache because debug.log changed; step 6 was rebuilt")


def test_a_changed_instruction_is_named_with_old_and_new_text(go_app: Path) -> None:
    df = _cheap(go_app)
    _build(go_app, df)
    path = go_app / df
    path.write_text(path.read_text().replace('"preparing the workspace"', f'"preparing the workspace {RUN}"'))
    record, why = _build(go_app, df)
    assert record.first_miss is not None and record.first_miss.step == 3
    assert why.cause_kind == INSTRUCTION and why.first_miss_step == 3
    assert why.details == (
        'before: RUN echo "preparing the workspace"',
        f'now: RUN echo "preparing the workspace {RUN}"',
    )
    assert "its instruction changed" in why.summary
    assert why.cascade == (4, 5, 6)


def test_multi_stage_copy_from_is_rebuilt_because_its_stage_changed(go_app: Path) -> None:
    (go_app / "Dockerfile.stages").write_text(CHEAP_MULTISTAGE)
    _build(go_app, "Dockerfile.stages")
    main = go_app / "main.go"
    original = main.read_text()
    main.write_text(original.replace("Hello, Docker with Go!", f"Hello, stages! {RUN}"))
    record, why = _build(go_app, "Dockerfile.stages")
    assert why.cause_kind == FILES and why.first_miss_step == 3
    assert why.changed_files == (FileChange("main.go", "changed"),)
    assert why.cascade == (4, 6, 7)  # step 6 copies from the changed builder stage
    assert record.steps[6].status == "built"
    assert why.details[-1] == (
        "Step 6/7 COPY --from=builder /src/out.txt /out.txt missed the cache because it copies from "
        "stage builder, which changed (main.go changed)."
    )
    main.write_text(original)  # back to what the first build saw: the engine still has its layers
    record, why = _build(go_app, "Dockerfile.stages")
    assert record.rebuilt == 0
    assert why.cause_kind == NONE and why.changed_files == (FileChange("main.go", "changed"),)
    assert why.summary.startswith("All 7 steps came from the cache: main.go changed since the previous build")


def _derived_base(api: docker.APIClient, mark: str) -> str:
    """A tiny image derived from golang:1.24-alpine (one LABEL), labelled for cleanup."""
    dockerfile = f"FROM golang:1.24-alpine\nLABEL io.tutor.test.base={mark}-{RUN}\n".encode()
    image_id = None
    for chunk in api.build(
        fileobj=io.BytesIO(dockerfile), rm=True, decode=True, labels=labels.managed_labels(TEST_SEAT, kind="build")
    ):
        if "aux" in chunk:
            image_id = chunk["aux"]["ID"]
        assert "error" not in chunk, chunk
    assert image_id
    return image_id


def test_a_retagged_base_image_is_named(go_app: Path, engine_api: docker.APIClient) -> None:
    one, two = _derived_base(engine_api, "one"), _derived_base(engine_api, "two")
    assert one != two
    repo, tag = BASE_TAG.rsplit(":", 1)
    engine_api.tag(one, repo, tag, force=True)
    df = _cheap(go_app, base=BASE_TAG)
    _build(go_app, df)
    engine_api.tag(two, repo, tag, force=True)  # the same name now means another image
    record, why = _build(go_app, df)
    assert record.first_miss is not None and record.first_miss.step == 2
    assert why.cause_kind == BASE_IMAGE and why.first_miss_step == 2 and why.cause_step == 1
    short_one, short_two = one.split(":")[1][:12], two.split(":")[1][:12]
    assert f"({short_two} instead of {short_one})" in why.summary
    assert why.cascade == (3, 4, 5, 6)


def test_no_cache_is_the_cause_when_asked_for(go_app: Path) -> None:
    df = _cheap(go_app)
    _build(go_app, df)
    record, why = _build(go_app, df, nocache=True)
    assert record.cache_hits == 1  # only FROM, which takes the base image as it is
    assert why.cause_kind == NO_CACHE and why.first_miss_step == 2 and why.cascade == (3, 4, 5, 6)


def test_tutor_build_prints_why_and_json_carries_it(go_app: Path) -> None:
    df = _cheap(go_app)
    out = io.StringIO()
    assert build_command(str(go_app), dockerfile=str(go_app / df), out=out) == 0
    (go_app / "go.mod").write_text((go_app / "go.mod").read_text() + f"\n// edited {RUN}\n")
    out = io.StringIO()
    assert build_command(str(go_app), dockerfile=str(go_app / df), out=out) == 0
    why_lines = [line for line in out.getvalue().splitlines() if line.startswith("why: ")]
    assert why_lines == [
        "why: Step 4/6 COPY go.mod ./ missed the cache because go.mod changed; steps 5-6 were rebuilt as a consequence."
    ]
    out = io.StringIO()
    assert build_command(str(go_app), dockerfile=str(go_app / df), as_json=True, out=out) == 0
    last = json.loads(out.getvalue().splitlines()[-1])
    assert last["type"] == "succeeded"
    assert last["why"]["cause_kind"] == NONE and last["why"]["first_miss_step"] is None


@pytest.fixture(autouse=True)
def _untag_test_base(engine_api: docker.APIClient):
    yield
    try:
        engine_api.remove_image(BASE_TAG)  # the name only; the images go with the seat's cleanup
    except docker.errors.APIError:
        pass
