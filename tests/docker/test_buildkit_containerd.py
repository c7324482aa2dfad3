"""BuildKit on a private engine with the containerd image store (Docker Desktop 4.34+, Engine 29):
buildx builds there; without buildx, Docker 26's build API cannot (moby#47717), so `buildkit`
refuses with the reason and the fix, and `auto` builds with the classic builder and says why."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import TEST_SEAT, missing
from tests.second_engine import SecondEngine, second_engine
from tutor.engine import labels
from tutor.engine.build import Build, BuildRequest
from tutor.engine.client import connect
from tutor.engine.events import BuildFailed, BuildSucceeded
from tutor.engine.image_size import image_store

DOCKERFILE = 'FROM alpine:latest\nRUN echo stores > /stores\nENV WHERE=containerd\nCMD ["cat", "/stores"]\n'


@pytest.fixture(scope="module")
def engine(engine_api) -> Iterator[SecondEngine]:
    if os.geteuid() != 0:
        missing("a second engine needs root and dockerd")
    with second_engine(containerd_store=True) as private:
        api = connect(private.url)
        try:
            assert image_store(api) == "containerd", private.log[-2000:]
            api.load_image(engine_api.get_image("alpine:latest"))
            yield private
        finally:
            api.close()


@pytest.fixture
def context(tmp_path: Path) -> Path:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(DOCKERFILE)
    return ctx


def _request(context: Path, engine: SecondEngine, builder: str) -> BuildRequest:
    return BuildRequest(
        context,
        tag=f"tutor/{TEST_SEAT}/stores:latest",
        labels=labels.managed_labels(TEST_SEAT, kind="test"),
        engine=engine.url,
        builder=builder,
    )


@pytest.fixture
def no_buildx(monkeypatch, tmp_path):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def test_buildx_builds_on_the_containerd_store(engine, context):
    build = Build(_request(context, engine, "auto"))
    events = list(build.events())
    assert (build.builder, build.via) == ("buildkit", "buildx")
    assert isinstance(events[-1], BuildSucceeded), events
    api = connect(engine.url)
    try:
        inspect = api.inspect_image(f"tutor/{TEST_SEAT}/stores:latest")
        assert inspect["Config"]["Labels"][labels.SEAT] == TEST_SEAT
    finally:
        api.close()
    assert [e.label for e in events if e.type == "step_started" and not e.metadata] == ["[1/2]", "[2/2]"]


def test_without_buildx_buildkit_refuses_with_the_reason_and_the_fix(engine, context, no_buildx):
    events = list(Build(_request(context, engine, "buildkit")).events())
    assert len(events) == 1 and isinstance(events[0], BuildFailed)
    failure = events[0]
    assert failure.message.startswith("BuildKit cannot build here: the build API of Docker 26")
    assert "moby#47717" in failure.message and "buildx plugin is not installed" in failure.message
    assert failure.fix is not None and "--builder classic" in failure.fix


def test_without_buildx_auto_builds_with_the_classic_builder_and_says_why(engine, context, no_buildx):
    build = Build(_request(context, engine, "auto"))
    events = list(build.events())
    assert (build.builder, build.via) == ("classic", "classic")
    assert build.note is not None and build.note.startswith("BuildKit cannot build here (")
    assert build.note.endswith("built with the classic builder.")
    assert isinstance(events[-1], BuildSucceeded), events
