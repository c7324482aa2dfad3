"""Why a BuildKit build missed the cache, in BuildKit's step names: replays of real recorded builds
against the tutor's own snapshots of their inputs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tutor.engine import buildlog
from tutor.engine.explain import FILES, NONE, explain
from tutor.engine.record import BuildRecord
from tutor.engine.replay import ReplayBuild

ROOT = Path(__file__).resolve().parents[2]
STREAMS = ROOT / "tests" / "fixtures" / "streams" / "buildkit"


def replayed(via: str, name: str) -> BuildRecord:
    record = BuildRecord()
    for event in ReplayBuild(STREAMS / via / f"{name}.jsonl").events():
        record.apply(event)
    return record


@pytest.fixture
def go_app(tmp_path: Path) -> Path:
    ctx = tmp_path / "go_app"
    shutil.copytree(ROOT / "go_app", ctx)
    return ctx


@pytest.mark.parametrize("via", ["buildx", "api"])
def test_a_main_go_edit_is_explained_with_buildkit_names(go_app, via):
    previous = buildlog.take_snapshot(go_app).completed(replayed(via, "cached"))
    main = go_app / "main.go"
    main.write_text(main.read_text().replace("Hello, Docker with Go!", "Hello again, Docker with Go!"))
    record = replayed(via, "edit_main_go")
    why = explain(previous, buildlog.take_snapshot(go_app).completed(record), record)
    assert why.cause_kind == FILES
    assert why.summary == "[5/6] COPY . . missed the cache because main.go changed; [6/6] was rebuilt as a consequence."


@pytest.mark.parametrize("via", ["buildx", "api"])
def test_an_all_cached_build_counts_the_steps_buildkit_runs(go_app, via):
    record = replayed(via, "cached")
    snapshot = buildlog.take_snapshot(go_app).completed(record)
    why = explain(snapshot, snapshot, record)
    assert why.cause_kind == NONE
    assert why.summary.startswith("All 6 steps came from the cache")


def test_a_stage_the_target_does_not_need_is_said_skipped(go_app):
    from tests.fixtures.record_buildkit_streams import MULTISTAGE_PARALLEL

    (go_app / "Dockerfile.parallel").write_text(MULTISTAGE_PARALLEL)
    record = replayed("buildx", "multistage_parallel")
    snapshot = buildlog.take_snapshot(go_app, "Dockerfile.parallel", nocache=True).completed(record)
    why = explain(None, snapshot, record)
    assert why.summary.startswith("[builder 3/6] COPY go.mod ./ was built afresh because the cache was disabled")
    assert why.summary.endswith("Stage debug was skipped: the image built does not need it.")


def test_a_miss_after_switching_builders_says_each_keeps_its_own_cache(go_app):
    import dataclasses

    classic_before = dataclasses.replace(buildlog.take_snapshot(go_app).completed(replayed("buildx", "cached")), builder="classic")
    record = replayed("buildx", "edit_main_go")  # rebuilt from [5/6] on, with the same files this time
    why = explain(classic_before, buildlog.take_snapshot(go_app).completed(record), record)
    assert why.summary.startswith(
        "[5/6] COPY . . missed the cache although nothing it depends on changed: the previous build used the "
        "classic builder, and BuildKit keeps a cache of its own; [6/6] was rebuilt as a consequence."
    )
