"""Cache explanations from snapshots, fed by build streams recorded from a real engine."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tutor.engine import buildlog
from tutor.engine.build import BuildRequest
from tutor.engine.buildlog import (
    BuildSnapshot,
    copied_paths,
    parse_steps,
    take_snapshot,
)
from tutor.engine.explain import (
    FILES,
    FIRST_BUILD,
    NO_CACHE,
    NO_STEPS,
    NONE,
    UNKNOWN,
    FileChange,
    explain,
    explain_build,
    file_changes,
    files_phrase,
    step_ranges,
)
from tutor.engine.record import BuildRecord
from tutor.engine.replay import Recording, ReplayBuild


def _record(path: Path) -> BuildRecord:
    record = BuildRecord()
    for event in ReplayBuild(path).events():
        record.apply(event)
    return record


@pytest.fixture
def app(tmp_path: Path) -> Path:
    dest = tmp_path / "go_app"
    shutil.copytree(ROOT / "go_app", dest)
    return dest


def _edit_main_go(app: Path) -> None:
    # The same edit the recorded stream was made with (tests/fixtures/record_streams.py).
    main = app / "main.go"
    main.write_text(main.read_text().replace("Hello, Docker with Go!", "Hello again, Docker with Go!"))


def test_recorded_streams_were_built_from_this_dockerfile(stream_path) -> None:
    for name in ("cold", "cached", "edit_main_go"):
        assert Recording.load(stream_path(name)).meta["dockerfile"] == (ROOT / "go_app" / "Dockerfile").read_text()


def test_cold_cached_then_edit_main_go(app: Path, stream_path) -> None:
    cold = _record(stream_path("cold"))
    first = take_snapshot(app, nocache=True).completed(cold)
    why = explain(None, first, cold)
    assert why.cause_kind == NO_CACHE
    assert why.first_miss_step == 2  # FROM takes the base from the store; ENV is the first step built
    assert why.cascade == tuple(range(3, 10))
    assert "--no-cache" in why.summary

    cached = _record(stream_path("cached"))
    second = take_snapshot(app).completed(cached)
    why = explain(first, second, cached)
    assert why.cause_kind == NONE
    assert why.first_miss_step is None
    assert why.summary == "All 9 steps came from the cache: nothing this build uses changed since the previous build."

    _edit_main_go(app)
    edited = _record(stream_path("edit_main_go"))
    third = take_snapshot(app).completed(edited)
    why = explain(second, third, edited)
    assert why.cause_kind == FILES
    assert why.first_miss_step == 6
    assert why.cause_step == 6
    assert why.changed_files == (FileChange("main.go", "changed"),)
    assert why.cascade == (7, 8, 9)
    assert why.summary == (
        "Step 6/9 COPY . . missed the cache because main.go changed; steps 7-9 were rebuilt as a consequence."
    )


def test_without_an_earlier_build_it_says_so(app: Path, stream_path) -> None:
    edited = _record(stream_path("edit_main_go"))
    why = explain(None, take_snapshot(app).completed(edited), edited)
    assert why.cause_kind == FIRST_BUILD
    assert why.first_miss_step == 6
    assert "no earlier build" in why.summary


def test_a_build_that_never_reached_a_step_has_nothing_to_explain(app: Path, stream_path) -> None:
    broken = _record(stream_path("syntax_error"))
    (app / "Dockerfile.syntax").write_text(Recording.load(stream_path("syntax_error")).meta["dockerfile"])
    snapshot = take_snapshot(app, "Dockerfile.syntax").completed(broken)
    why = explain(None, snapshot, broken)
    assert why.cause_kind == NO_STEPS and why.first_miss_step is None
    assert explain_build(BuildRequest(context=app, dockerfile="Dockerfile.syntax"), broken) is None


def test_a_dockerfile_edited_during_the_build_is_not_misread(app: Path, stream_path) -> None:
    edited = _record(stream_path("edit_main_go"))
    (app / "Dockerfile").write_text("FROM golang:1.24-alpine\nCOPY . .\nRUN go build -o main\n")
    why = explain(None, take_snapshot(app).completed(edited), edited)
    assert why.cause_kind == UNKNOWN and "changed while it was being built" in why.summary


def test_completed_snapshot_keeps_statuses_and_base_ids(app: Path, stream_path) -> None:
    edited = _record(stream_path("edit_main_go"))
    snap = take_snapshot(app).completed(edited)
    assert [r.status for r in snap.results] == ["cached"] * 5 + ["built"] * 4
    assert snap.base_id(0) == edited.steps[1].image_id  # the id FROM resolved to, from the stream
    assert snap.image_id == edited.result.image_id


def test_explain_build_persists_and_compares_across_restarts(app: Path, stream_path, tutor_home: Path) -> None:
    request = BuildRequest(context=app)
    cached = _record(stream_path("cached"))
    assert explain_build(request, cached).cause_kind == FIRST_BUILD
    files = list(buildlog.record_path(buildlog.record_key(app, app / "Dockerfile")).parent.iterdir())
    assert [f.suffix for f in files] == [".json"]  # the temp file was renamed, none left behind
    assert str(tutor_home) in str(files[0])

    _edit_main_go(app)
    why = explain_build(request, _record(stream_path("edit_main_go")))
    assert why is not None and why.first_miss_step == 6 and why.changed_files == (FileChange("main.go", "changed"),)


def test_a_damaged_record_counts_as_no_earlier_build(app: Path) -> None:
    snap = take_snapshot(app)
    path = buildlog.save(snap)
    assert buildlog.load(snap.key) == snap
    path.write_text("{ not json")
    assert buildlog.load(snap.key) is None
    path.write_text(json.dumps({"version": 999}))
    assert buildlog.load(snap.key) is None


def test_snapshot_json_round_trip(app: Path) -> None:
    snap = take_snapshot(app, "Dockerfile.multistage", nocache=True)
    again = BuildSnapshot.from_json(json.loads(json.dumps(snap.to_json())))
    assert again == snap


def test_steps_are_numbered_like_the_classic_builder() -> None:
    steps = parse_steps((ROOT / "go_app" / "Dockerfile.multistage").read_text())
    assert [s.step for s in steps] == list(range(1, 13))
    assert steps[1].text == "ENV GO111MODULE=on     CGO_ENABLED=0     GOOS=linux     GOARCH=amd64"  # continuation lines
    assert [(s.stage, s.stage_name) for s in steps if s.keyword == "FROM"] == [(0, "builder"), (1, None)]
    copy_from = steps[9]
    assert copy_from.text == "COPY --from=builder /app/main ." and copy_from.copy_from == "builder"


def test_copy_sources_are_resolved_with_variables_and_json_form() -> None:
    steps = parse_steps(
        "ARG VERSION=1\nFROM alpine:latest\nENV SRC=cmd\nCOPY $SRC/*.go /src/\n"
        'COPY ["${SRC}/main.go", "README.md", "/dst/"]\nCOPY --chown=1:1 a b /x/\n'
    )
    assert steps[0].stage == -1 and steps[0].keyword == "ARG"  # meta ARG: numbered, before any stage
    assert [s.source_words for s in steps if s.keyword == "COPY"] == [
        ("cmd/*.go",),
        ("cmd/main.go", "README.md"),
        ("a", "b"),
    ]


def test_copied_paths_follow_globs_folders_and_the_whole_context() -> None:
    available = {"a.go": False, "b.txt": False, "cmd": True, "cmd/x.go": False, "cmd/sub": True,
                 "cmd/sub/y.go": False}
    assert copied_paths(available, ["*.go"]) == ["a.go"]  # "*" never crosses a "/"
    assert copied_paths(available, ["cmd"]) == ["cmd/", "cmd/sub/", "cmd/sub/y.go", "cmd/x.go"]
    assert copied_paths(available, ["cmd/*.go", "./b.txt"]) == ["b.txt", "cmd/x.go"]
    assert copied_paths(available, ["."]) == ["a.go", "b.txt", "cmd/", "cmd/sub/", "cmd/sub/y.go", "cmd/x.go"]
    assert copied_paths(available, ["../outside", "https://example.org/f", "missing"]) == []


def test_ignored_files_are_not_copied_and_an_ignored_dockerfile_is_dropped(app: Path) -> None:
    (app / "debug.log").write_text("noise\n")
    (app / ".dockerignore").write_text("*.log\nDockerfile.multistage\n")
    copy_all = next(s for s in take_snapshot(app).steps if s.text == "COPY . .")
    names = [p for p, _ in copy_all.sources or ()]
    assert "debug.log" not in names and "Dockerfile.multistage" not in names
    assert {"main.go", "go.mod", "Dockerfile", ".dockerignore"} <= set(names)


def test_file_changes_and_their_wording() -> None:
    changes = file_changes({"a.go": "1", "b.go": "2", "gone.txt": "3"}, {"a.go": "9", "b.go": "2", "new/": "dir", "new/n.go": "4"})
    assert changes == [FileChange("a.go", "changed"), FileChange("gone.txt", "removed"), FileChange("new/n.go", "added")]
    assert files_phrase(changes) == "a.go changed, new/n.go was added and gone.txt was removed"
    many = [FileChange(f"f{i}.go", "changed") for i in range(5)]
    assert files_phrase(many) == "f0.go, f1.go, f2.go and 2 more changed"
    assert step_ranges((7, 8, 9, 12, 14, 15)) == "7-9, 12 and 14-15"


def test_new_steps_that_came_from_the_cache_are_not_blamed_silently(app: Path, stream_path) -> None:
    # The previous build was the two-step starter (FROM, ENV); now the whole Dockerfile is there.
    # The engine had steps 3-5 from an older build and missed at COPY . . (the recorded edit).
    full = (app / "Dockerfile").read_text()
    starter_text = full[: full.index("WORKDIR")]
    (app / "Dockerfile").write_text(starter_text)
    cached = _record(stream_path("cached"))
    short = BuildRecord()
    for step in (1, 2):
        short.steps[step] = replace(cached.steps[step], total=2)
    short.result = cached.result
    previous = take_snapshot(app).completed(short)
    (app / "Dockerfile").write_text(full)
    _edit_main_go(app)
    edited = _record(stream_path("edit_main_go"))
    why = explain(previous, take_snapshot(app).completed(edited), edited)
    assert why.first_miss_step == 6 and why.cause_step == 3
    assert why.summary == (
        "Step 6/9 COPY . . missed the cache because step 3/9 WORKDIR /app is new since the previous build "
        "(steps 3-5 still came from the engine's cache: an earlier build had made them); "
        "steps 7-9 were rebuilt as a consequence."
    )


def _synthetic(snapshot: BuildSnapshot, built: set[int], ids: dict[int, str]) -> BuildRecord:
    """A record of a build of ``snapshot``'s steps: ``built`` rebuilt, the rest from the cache."""
    from tutor.engine.events import BuildSucceeded, StepCached, StepFinished, StepStarted

    record = BuildRecord()
    for s in snapshot.steps:
        record.apply(StepStarted(s.step, snapshot.total, s.text, s.stage, s.stage_name))
        if s.step not in built:
            record.apply(StepCached(s.step))
        record.apply(StepFinished(s.step, ids.get(s.step, f"{s.step:012x}"), 0.1, s.step not in built))
    record.apply(BuildSucceeded(ids.get(snapshot.total, f"{snapshot.total:012x}")))
    return record


def test_an_edited_dockerfile_that_copy_copies_is_named_with_the_instruction_that_changed(app: Path) -> None:
    """Editing `RUN go build`'s flags: COPY . . misses first, because it copies the Dockerfile."""
    df = "Dockerfile.multistage"
    before = take_snapshot(app, df)
    first = before.completed(_synthetic(before, set(), {}))
    text = (app / df).read_text()
    (app / df).write_text(text.replace("RUN go build -o main", 'RUN go build -ldflags="-s -w" -o main'))
    after = take_snapshot(app, df)
    # Steps 6-7 (builder) and 10-12 (runtime) rebuilt; new ids for what they made.
    record = _synthetic(after, {6, 7, 10, 11, 12}, {n: f"{n:011x}b" for n in (6, 7, 10, 11, 12)})
    why = explain(first, after.completed(record), record)
    assert why.cause_kind == FILES and why.first_miss_step == 6
    assert why.summary.startswith(
        f"Step 6/12 COPY . . missed the cache because {df} changed: {df} is in the build context, so "
        f"`COPY . .` copies it too (list {df} in .dockerignore to keep it out); "
        "step 7's own instruction changed too (it was `RUN go build -o main`); step 7 was rebuilt as a consequence."
    ), why.summary
    # The runtime stage is told apart: it rebuilt because what it copies from the builder changed.
    assert (
        "Step 10/12 COPY --from=builder /app/main . missed the cache because it copies from stage builder, "
        "which changed" in why.summary
    )
    assert why.summary.endswith("steps 11-12 were rebuilt as a consequence."), why.summary
    assert why.cascade == (7, 10, 11, 12)


def test_a_main_go_edit_in_a_multi_stage_build_is_told_stage_by_stage(app: Path) -> None:
    df = "Dockerfile.multistage"
    before = take_snapshot(app, df)
    first = before.completed(_synthetic(before, set(), {}))
    _edit_main_go(app)
    after = take_snapshot(app, df)
    record = _synthetic(after, {6, 7, 10, 11, 12}, {n: f"{n:011x}b" for n in (6, 7, 10, 11, 12)})
    why = explain(first, after.completed(record), record)
    assert why.summary == (
        "Step 6/12 COPY . . missed the cache because main.go changed; step 7 was rebuilt as a consequence. "
        "Step 10/12 COPY --from=builder /app/main . missed the cache because it copies from stage builder, which "
        "changed (main.go changed); steps 11-12 were rebuilt as a consequence."
    )


def _rewrite(app: Path, df: str, old: str, new: str) -> None:
    text = (app / df).read_text()
    assert old in text, old
    (app / df).write_text(text.replace(old, new))


def test_a_step_whose_own_instruction_changed_is_blamed_not_an_earlier_step_the_cache_held(app: Path) -> None:
    """An earlier build had made step 10's new text, so it came from the cache; CMD's own edit missed."""
    df = "Dockerfile.multistage"
    _rewrite(app, df, "COPY --from=builder /app/main .", "COPY --from=builder /app/main ./")
    previous_snapshot = take_snapshot(app, df)
    previous = previous_snapshot.completed(_synthetic(previous_snapshot, set(), {}))
    _rewrite(app, df, "COPY --from=builder /app/main ./", "COPY --from=builder /app/main .")
    _rewrite(app, df, 'CMD ["./main"]', 'CMD ["./main", "-v"]')
    after = take_snapshot(app, df)
    record = _synthetic(after, {12}, {12: f"{12:011x}b"})
    why = explain(previous, after.completed(record), record)
    assert why.first_miss_step == 12 and why.cause_kind == "instruction" and why.cause_step == 12
    assert why.summary.startswith(
        'Step 12/12 CMD ["./main", "-v"] missed the cache because its instruction changed (it was `CMD ["./main"]`)'
    ), why.summary
    # The earlier edit is not hidden, and not blamed: the cache held it.
    assert (
        "step 10's instruction changed too (it was `COPY --from=builder /app/main ./`), "
        "but an earlier build had made it, so it came from the cache" in why.summary
    ), why.summary


def test_a_miss_in_another_stage_for_its_own_reason_is_told_in_the_summary(app: Path) -> None:
    """A main.go edit rebuilds the builder; the runtime's own edited COPY --from is named too."""
    df = "Dockerfile.multistage"
    before = take_snapshot(app, df)
    first = before.completed(_synthetic(before, set(), {}))
    _edit_main_go(app)
    _rewrite(app, df, "WORKDIR /root/", "WORKDIR /srv/")
    after = take_snapshot(app, df)
    record = _synthetic(after, {6, 7, 9, 10, 11, 12}, {n: f"{n:011x}b" for n in (6, 7, 9, 10, 11, 12)})
    why = explain(first, after.completed(record), record)
    assert why.first_miss_step == 6 and why.cause_kind == FILES
    assert "Step 9/12 WORKDIR /srv/ missed the cache because its instruction changed (it was `WORKDIR /root/`)" in (
        why.summary
    ), why.summary
    assert why.summary.endswith("steps 10-12 were rebuilt as a consequence."), why.summary
