"""The stream parser against REAL streams recorded from the engine (tests/fixtures/streams)."""

from __future__ import annotations

from tutor.engine.events import (
    BuildFailed,
    BuildSucceeded,
    StepCached,
    StepFinished,
    StepOutput,
    StepRunning,
    StepStarted,
)
from tutor.engine.record import BuildRecord
from tutor.engine.replay import Recording, ReplayBuild
from tutor.engine.stream import StreamParser, strip_ansi

GO_APP_STEPS = [
    "FROM golang:1.24-alpine",
    "ENV GO111MODULE=on",
    "WORKDIR /app",
    "COPY go.mod ./",
    "RUN go mod download",
    "COPY . .",
    "RUN go build -o main",
    "EXPOSE 8080",
    'CMD ["./main"]',
]


def replay(stream_path, name: str) -> tuple[list, BuildRecord]:
    events = list(ReplayBuild(stream_path(name)).events())
    record = BuildRecord()
    for event in events:
        record.apply(event)
    return events, record


def test_cold_build_has_every_step_in_order_with_sizes(stream_path):
    events, record = replay(stream_path, "cold")
    started = [e for e in events if isinstance(e, StepStarted)]
    assert [e.step for e in started] == list(range(1, 10))
    assert all(e.total == 9 for e in started)  # the tutor's own LABEL steps are hidden
    for event, expected in zip(started, GO_APP_STEPS):
        assert event.instruction.startswith(expected)
    assert [s.status for s in record.ordered] == ["cached"] + ["built"] * 8  # FROM comes from the local store
    sizes = {s.instruction.split()[0]: s.size for s in record.ordered}
    assert sizes["EXPOSE"] == 0 and sizes["CMD"] == 0 and sizes["ENV"] == 0
    build_step = record.steps[7]
    assert build_step.size and build_step.size > 1_000_000  # the compiled binary and Go's build cache
    assert record.steps[1].size and record.steps[1].size > 100_000_000  # FROM: the whole base image
    assert isinstance(events[-1], BuildSucceeded)
    assert record.result and record.result.image_size and record.result.image_size > 200_000_000
    assert record.first_miss is not None and record.first_miss.step == 2


def test_cached_rebuild_is_all_cache(stream_path):
    events, record = replay(stream_path, "cached")
    assert len(record.steps) == 9
    assert all(s.status == "cached" for s in record.ordered)
    assert record.cache_hits == 9 and record.first_miss is None
    assert not any(isinstance(e, StepRunning) for e in events)
    assert sum(isinstance(e, StepCached) for e in events) == 8  # FROM prints no "Using cache"


def test_edit_main_go_misses_from_copy_dot(stream_path):
    _, record = replay(stream_path, "edit_main_go")
    statuses = [s.status for s in record.ordered]
    assert statuses[:5] == ["cached"] * 5
    assert statuses[5:] == ["built"] * 4
    assert record.first_miss is not None and record.first_miss.instruction == "COPY . ."


def test_failed_run_marks_the_step_and_keeps_its_output(stream_path):
    events, record = replay(stream_path, "run_fails")
    failure = events[-1]
    assert isinstance(failure, BuildFailed)
    assert failure.step == 7 and "returned a non-zero code" in failure.message
    assert failure.fix and "output" in failure.fix
    assert record.steps[7].status == "failed"
    assert any("missing-package" in line for line in record.steps[7].tail)
    assert record.result is None


def test_syntax_error_names_the_line(stream_path):
    events, _ = replay(stream_path, "syntax_error")
    failure = events[-1]
    assert isinstance(failure, BuildFailed)
    assert failure.line == 3 and "COPYY" in failure.message.upper()
    assert failure.fix and "instruction" in failure.fix


def test_missing_base_image_explains_the_fix(stream_path):
    events, record = replay(stream_path, "missing_base")
    failure = events[-1]
    assert isinstance(failure, BuildFailed) and failure.step == 1
    assert "tutor images" in (failure.fix or "")
    assert record.steps[1].status == "failed"


def test_multistage_reports_stages(stream_path):
    events, record = replay(stream_path, "multistage")
    started = [e for e in events if isinstance(e, StepStarted)]
    assert started[0].stage == 0 and started[0].stage_name == "builder"
    assert started[-1].stage == 1 and started[-1].stage_name is None
    assert [n for n, _ in record.stages] == [0, 1]
    assert record.final_stage == 1
    assert isinstance(events[-1], BuildSucceeded)
    assert record.result and record.result.image_size and record.result.image_size < 30_000_000


# -- chunking edge cases, on the real chunks of a recording ---------------------------------


def _events_from_chunks(chunks, labels) -> list:
    parser = StreamParser(labels=labels)
    events = []
    for i, chunk in enumerate(chunks):
        events.extend(parser.feed(chunk, float(i)))
    events.extend(parser.finish(float(len(chunks))))
    return events


def _signature(events) -> list:
    """What must not depend on chunking: each event, with output taken line by line."""
    sig: list = []
    for e in events:
        if isinstance(e, StepOutput):
            sig.extend(("output", e.step, line) for line in e.plain.split("\n"))
        elif not isinstance(e, StepFinished):
            sig.append((type(e).__name__, getattr(e, "step", None), getattr(e, "instruction", None)))
    return sig + [(e.step, e.image_id, e.cached) for e in events if isinstance(e, StepFinished)]


def test_partial_lines_split_anywhere_give_the_same_events(stream_path):
    rec = Recording.load(stream_path("cold"))
    labels = rec.meta["labels"]
    chunks = [c for _, c in rec.chunks]
    whole = _events_from_chunks(chunks, labels)
    split: list = []
    for chunk in chunks:  # every text chunk cut into 3-character pieces
        text = chunk.get("stream") if isinstance(chunk, dict) else None
        if isinstance(text, str) and len(text) > 3:
            split.extend({"stream": text[i : i + 3]} for i in range(0, len(text), 3))
        else:
            split.append(chunk)
    assert _signature(_events_from_chunks(split, labels)) == _signature(whole)


def test_ansi_kept_for_display_and_stripped_for_matching():
    parser = StreamParser()
    parser.feed({"stream": "Step 1/2 : FROM alpine:latest\n"}, 0.0)
    parser.feed({"stream": " ---> 0123456789ab\n"}, 0.1)
    parser.feed({"stream": "Step 2/2 : RUN echo hi\n"}, 0.2)
    (out,) = parser.feed({"stream": "\x1b[31mred\x1b[0m text\r\n"}, 0.3)
    assert isinstance(out, StepOutput)
    assert out.text == "\x1b[31mred\x1b[0m text" and out.plain == "red text"
    assert strip_ansi("\x1b[1;32mok\x1b[0m") == "ok"


def test_unknown_keys_and_non_objects_are_ignored():
    parser = StreamParser()
    assert parser.feed({"somethingNew": {"x": 1}}, 0.0) == []
    assert parser.feed(["not", "an", "object"], 0.0) == []
    assert parser.feed({"stream": "\n"}, 0.0) == []


def test_error_detail_then_error_gives_one_failure():
    parser = StreamParser()
    parser.feed({"stream": "Step 1/1 : RUN false\n"}, 0.0)
    first = parser.feed({"errorDetail": {"code": 1, "message": "boom"}}, 1.0)
    second = parser.feed({"error": "boom"}, 1.1)
    assert [type(e) for e in first] == [BuildFailed] and second == []
    assert first[0].step == 1 and first[0].seconds == 1.0


def test_stream_that_ends_without_a_result_is_a_failure():
    parser = StreamParser()
    parser.feed({"stream": "Step 1/2 : FROM alpine:latest\n"}, 0.0)
    (failed,) = parser.finish(1.0)
    assert isinstance(failed, BuildFailed) and failed.engine_lost


def test_from_scratch_finishes_with_an_empty_image():
    # Chunks as the 20.10 engine sends them for `FROM scratch`.
    parser = StreamParser()
    events = []
    for i, text in enumerate(["Step 1/2 : FROM scratch", "\n", " ---> \n", "Step 2/2 : COPY f /f", "\n", " ---> 066c9a3bcef5\n"]):
        events.extend(parser.feed({"stream": text}, float(i)))
    finished = [e for e in events if isinstance(e, StepFinished)]
    assert [(e.step, e.image_id, e.cached) for e in finished] == [(1, "", True), (2, "066c9a3bcef5", False)]


def test_a_chunk_of_many_lines_is_one_output_event():
    parser = StreamParser()
    parser.feed({"stream": "Step 1/2 : FROM alpine:latest\n"}, 0.0)
    parser.feed({"stream": " ---> 0123456789ab\n"}, 0.1)
    parser.feed({"stream": "Step 2/2 : RUN seq 3\n"}, 0.2)
    events = parser.feed({"stream": "1\n2\n3\n"}, 0.3)
    assert len(events) == 1 and events[0].lines == ["1", "2", "3"]
    record = BuildRecord()
    record.apply(StepStarted(2, 2, "RUN seq 3", 0, None))
    record.apply(events[0])
    assert record.steps[2].output_lines == 3 and list(record.steps[2].tail) == ["1", "2", "3"]


def test_docker_26_classic_builder_lines_are_not_step_output(stream_path):
    """Docker 23+ says "Removed intermediate container ID" (20.10: "Removing"): the builder's words."""
    events, record = replay(stream_path, "engine26_cold")
    output = [line for e in events if isinstance(e, StepOutput) for line in e.lines]
    assert output, "the recording has RUN output"
    assert not [line for line in output if "intermediate container" in line]
    assert [e.step for e in events if isinstance(e, StepStarted)] == list(range(1, 10))
    assert isinstance(events[-1], BuildSucceeded)
    assert all(s.status == "built" for s in record.ordered[1:])
