"""BuildKit's two streams (buildx rawjson and the engine API's trace), recorded from a real engine,
parsed into the tutor's build events: the same vocabulary as the classic builder's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tutor.engine.buildkit.parser import RawJsonParser, TraceParser
from tutor.engine.buildkit.status import from_rawjson, from_trace, parse_time
from tutor.engine.events import (
    BuildFailed,
    BuildSucceeded,
    ContextSent,
    StepCached,
    StepFinished,
    StepOutput,
    StepRunning,
    StepSized,
    StepStarted,
)
from tutor.engine.record import BUILT, CACHED, METADATA, BuildRecord
from tutor.engine.replay import Recording, ReplayBuild

STREAMS = Path(__file__).resolve().parents[1] / "fixtures" / "streams" / "buildkit"
VIAS = ["buildx", "api"]


def replay(via: str, name: str) -> tuple[list, BuildRecord]:
    events = list(ReplayBuild(STREAMS / via / f"{name}.jsonl").events())
    record = BuildRecord()
    for event in events:
        record.apply(event)
    return events, record


def rows(record: BuildRecord) -> list[tuple[str | None, str, str]]:
    return [(s.label, s.instruction, s.status) for s in record.ordered]


GO_APP_STEPS = [
    ("[1/6]", "FROM golang:1.24-alpine"),
    (None, "ENV GO111MODULE=on     CGO_ENABLED=0     GOOS=linux     GOARCH=amd64"),
    ("[2/6]", "WORKDIR /app"),
    ("[3/6]", "COPY go.mod ./"),
    ("[4/6]", "RUN go mod download"),
    ("[5/6]", "COPY . ."),
    ("[6/6]", "RUN go build -o main"),
    (None, "EXPOSE 8080"),
    (None, 'CMD ["./main"]'),
]


@pytest.mark.parametrize("via", VIAS)
def test_cold_build_names_every_step_as_docker_build_does(via):
    events, record = replay(via, "cold")
    assert [(label, text) for label, text, _ in rows(record)] == GO_APP_STEPS
    statuses = {label or text: status for label, text, status in rows(record)}
    assert statuses["[1/6]"] == CACHED  # the base image comes from the local store
    # --no-cache: everything from COPY on ran (BuildKit still reports the empty WORKDIR as cached).
    assert all(statuses[f"[{n}/6]"] == BUILT for n in range(3, 7))
    assert statuses["EXPOSE 8080"] == statuses['CMD ["./main"]'] == METADATA
    assert record.result is not None and len(record.result.image_id) == 12
    assert isinstance(events[0], ContextSent) and events[0].files >= 3
    # Classic numbering underneath: the record, the cache explanation and the panes line up on both builders.
    assert [s.step for s in record.ordered] == list(range(1, 10)) and record.total == 9
    assert [e.step for e in events if isinstance(e, StepRunning)] == [5, 7]  # the RUN steps, as they start
    go_build = record.steps[7]
    assert go_build.seconds is not None and go_build.seconds > 1  # the engine's own timing of the compile
    assert all(isinstance(e, StepStarted) and e.builder == "buildkit" for e in events if isinstance(e, StepStarted))


@pytest.mark.parametrize("via", VIAS)
def test_second_build_is_all_cached(via):
    events, record = replay(via, "cached")
    layer_steps = [s for s in record.ordered if s.status != METADATA]
    assert len(layer_steps) == 6 and all(s.status == CACHED for s in layer_steps)
    assert record.counted_steps == 6 and record.cache_hits == 6
    assert record.first_miss is None
    assert any(isinstance(e, StepCached) for e in events)
    assert isinstance(events[-1], BuildSucceeded)


@pytest.mark.parametrize("via", VIAS)
def test_after_editing_main_go_the_first_miss_is_copy(via):
    _, record = replay(via, "edit_main_go")
    assert record.first_miss is not None
    assert (record.first_miss.label, record.first_miss.instruction) == ("[5/6]", "COPY . .")
    statuses = {s.label: s.status for s in record.ordered if s.label}
    assert [statuses[f"[{n}/6]"] for n in range(1, 7)] == [CACHED] * 4 + [BUILT] * 2


@pytest.mark.parametrize("via", VIAS)
def test_a_failing_run_fails_its_step_with_its_output_and_advice(via):
    events, record = replay(via, "run_fails")
    failed = [e for e in events if isinstance(e, BuildFailed)]
    assert len(failed) == 1
    failure = failed[0]
    assert failure.step == 7 and record.steps[7].label == "[6/6]"
    assert "exit code: 1" in failure.message and not failure.message.startswith("ERROR")
    assert "missing-package" in " ".join(record.steps[7].tail)
    assert failure.fix is not None and "missing-package" in failure.fix
    assert record.result is None


@pytest.mark.parametrize("via", VIAS)
def test_a_syntax_error_names_its_line(via):
    events, record = replay(via, "syntax_error")
    failure = next(e for e in events if isinstance(e, BuildFailed))
    assert failure.line == 3 and "COPYY" in failure.message
    assert failure.fix is not None and "instruction" in failure.fix
    assert not record.steps


@pytest.mark.parametrize("via", VIAS)
def test_a_missing_base_image_names_its_from(via):
    events, _ = replay(via, "missing_base")
    failure = next(e for e in events if isinstance(e, BuildFailed))
    assert failure.line == 1
    assert failure.fix is not None and "tutor-no-such-base-image:1.0" in failure.fix


@pytest.mark.parametrize("via", VIAS)
def test_multistage_builds_stages_in_parallel_and_skips_the_unused_one(via):
    events, record = replay(via, "multistage_parallel")
    by_label = {s.label: s for s in record.ordered if s.label}
    assert "[builder 6/6]" in by_label and "[assets 3/3]" in by_label and "[stage-3 4/4]" in by_label
    assert not [s for s in record.ordered if s.stage_name == "debug"]  # the target does not need it
    # The assets stage's RUN started and ended while the builder stage was compiling.
    order = [(type(e).__name__, e.step) for e in events if isinstance(e, (StepStarted, StepFinished))]
    go_build, assets_run = 7, 10
    assert order.index(("StepStarted", go_build)) < order.index(("StepFinished", assets_run))
    assert order.index(("StepStarted", assets_run)) < order.index(("StepFinished", go_build))
    # Both stages say their output under their own step.
    said = {e.step for e in events if isinstance(e, StepOutput)}
    assert assets_run in said
    # The final stage's FROM shares the assets stage's vertex; it is still a step of its own.
    assert record.steps[13].instruction == "FROM alpine:latest" and record.steps[13].status == CACHED
    assert record.steps[17].status == METADATA and record.steps[18].status == METADATA
    assert isinstance(events[-1], BuildSucceeded)


@pytest.mark.parametrize("via", VIAS)
def test_a_cancelled_build_ends_cancelled_in_its_run_step(via):
    events, record = replay(via, "cancelled")
    last = events[-1]
    assert isinstance(last, BuildFailed) and last.cancelled
    assert last.step == 3 and record.steps[3].instruction.startswith("RUN ")
    assert any(isinstance(e, StepOutput) and "long step started" in e.plain for e in events)


def test_both_sources_give_the_same_steps():
    for name in ("cold", "cached", "edit_main_go", "multistage_parallel"):
        names = [[(label, text) for label, text, _ in rows(replay(via, name)[1])] for via in VIAS]
        assert names[0] == names[1], name
    for name in ("cached", "edit_main_go"):  # what came from the cache too (a --no-cache build's WORKDIR may or may not)
        assert rows(replay("buildx", name)[1]) == rows(replay("api", name)[1]), name


def test_the_api_trace_decodes_to_what_buildx_prints():
    rec = Recording.load(STREAMS / "api" / "cold.jsonl")
    names = set()
    for _, chunk in rec.chunks:
        if chunk.get("id") == "moby.buildkit.trace":
            names.update(v.name for v in from_trace(chunk["aux"]).vertexes)
    assert "[5/6] COPY . ." in names and "[6/6] RUN go build -o main" in names


def test_rawjson_times_keep_nanoseconds():
    assert parse_time("2026-12-07T16:36:52.069395261Z") == pytest.approx(1796661412.069395261, abs=1e-6)
    assert parse_time("not a time") is None
    status = from_rawjson({"vertexes": [{"digest": "sha256:a", "name": "[1/1] FROM x", "started": "2026-12-07T16:36:52Z"}]})
    assert status.vertexes[0].started == pytest.approx(1796661412.0)


def test_undecodable_trace_is_a_warning_not_a_crash():
    parser = TraceParser()
    events = parser.feed({"id": "moby.buildkit.trace", "aux": "!!not base64!!"}, 0.0)
    assert [e.type for e in events] == ["warning"]


def test_without_the_dockerfile_steps_keep_buildkit_names():
    rec = Recording.load(STREAMS / "buildx" / "cached.jsonl")
    parser = RawJsonParser()  # no Dockerfile text
    started = [e for t, chunk in rec.chunks for e in parser.feed(chunk, t) if isinstance(e, StepStarted)]
    assert [e.label for e in started] == [f"[{n}/6]" for n in range(1, 7)]
    assert started[4].instruction == "COPY . ."


def test_recordings_are_real_and_labelled():
    for via in VIAS:
        for path in sorted((STREAMS / via).glob("*.jsonl")):
            meta = json.loads(path.read_text().splitlines()[0])
            assert meta["builder"] == "buildkit" and meta["via"] == via
            assert meta["labels"]["io.tutor.managed"] == "true"


def test_the_image_of_a_containerd_store_build_is_its_index_digest():
    # buildx's metadata file on the containerd image store (measured on Docker 26.1.5): no config digest.
    parser = RawJsonParser()
    metadata = {
        "containerimage.digest": "sha256:b86e22e4f5793855abdfa366a754e3cd43388e3edb2cace927fed47cc1fd097f",
        "image.name": "docker.io/tutor/dbg/x:latest",
    }
    assert parser.feed({"kind": "metadata", "metadata": metadata}, 1.0) == []
    assert parser.image_id == "b86e22e4f5793855abdfa366a754e3cd43388e3edb2cace927fed47cc1fd097f"
    assert parser.tags == ["tutor/dbg/x:latest"]


@pytest.mark.parametrize("via", VIAS)
def test_sizes_come_after_the_build_from_the_image_history(via):
    events, record = replay(via, "cold")
    sized = {e.step: e.size for e in events if isinstance(e, StepSized)}
    assert sized[1] > 100_000_000  # FROM: the whole Go base image
    assert sized[7] > 1_000_000  # RUN go build: the compiled program and Go's build cache
    assert sized[2] == sized[8] == sized[9] == 0  # ENV, EXPOSE, CMD: no layer
    assert record.steps[7].size == sized[7]
    last_sized = max(i for i, e in enumerate(events) if isinstance(e, StepSized))
    assert isinstance(events[last_sized + 1], BuildSucceeded)


def test_another_build_s_steps_in_the_same_progress_are_left_out():
    """One BuildKit serves every build of the engine; with concurrent builds (a workshop's seats on
    one engine) a build's progress can carry another build's steps. They never become rows here."""
    from itertools import zip_longest

    ours = Recording.load(STREAMS / "buildx" / "cached.jsonl")
    theirs = Recording.load(STREAMS / "buildx" / "multistage_parallel.jsonl")
    dockerfile = (Path(__file__).resolve().parents[2] / "go_app" / "Dockerfile").read_text()
    parser = RawJsonParser(dockerfile=dockerfile)
    record = BuildRecord()
    for mine, other in zip_longest(ours.chunks, theirs.chunks):
        for item in (other, mine):
            if item is None or (item is other and "vertexes" not in json.dumps(item[1])):
                continue  # only the other build's step progress, not its end
            for event in parser.feed(item[1], item[0]):
                record.apply(event)
    for event in parser.finish(ours.chunks[-1][0]):
        record.apply(event)
    assert [(label, text) for label, text, _ in rows(record)] == GO_APP_STEPS
    assert record.cache_hits == 6 and not record.failure
