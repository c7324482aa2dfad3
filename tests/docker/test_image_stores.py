"""The tutor on both image stores: the classic one (overlay2, the main engine) and the containerd
image store (Docker Desktop 4.34+, new Engine 29 installs), on a second private engine.

Each store goes through what a learner does: a cold build, a cached rebuild, an edit of main.go
and its why line, the multi-stage build, layer sizes, `tutor layers`, `tutor sizes`, the size
race and `tutor clean`; bundles cross from one store to the other; and the course's exercises that
check sizes pass (solutions) and fail (starters) on the containerd store too.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest

from tests.conftest import ROOT, missing
from tests.second_engine import SecondEngine, second_engine
from tutor import fmt
from tutor.commands.build import build as build_command
from tutor.commands.clean import clean as clean_command
from tutor.commands.layers import layers as layers_command
from tutor.commands.sizes import sizes as sizes_command
from tutor.engine import baseimages, labels, layers, ledger, size_book
from tutor.engine.build import Build, BuildRequest
from tutor.engine.client import connect, engine_url, new_client
from tutor.engine.events import BuildSucceeded, StepFinished
from tutor.engine.image_size import image_size, image_store
from tutor.engine.seat_race import seat_race
from tutor.engine.sizerace import binary_size
from tutor.workshop.bundle import load_bundle, save_bundle

SIZE_RE = r"(\d+(?:\.\d+)?) (B|kB|MB|GB)"


@dataclass
class Store:
    name: str  # "classic" or "containerd"
    url: str
    api: docker.APIClient


@pytest.fixture(scope="module")
def containerd_engine(engine_api, base_images, tmp_path_factory) -> Iterator[SecondEngine]:
    """A private engine on the containerd image store, its base images loaded from a bundle of the main one."""
    if os.geteuid() != 0 or shutil.which("dockerd") is None:
        missing("a second engine needs root and dockerd")
    bundle = tmp_path_factory.mktemp("stores") / "course-images.tar"
    list(save_bundle(engine_api, bundle))
    with second_engine(containerd_store=True) as engine:
        api = connect(engine.url)
        try:
            assert image_store(api) == "containerd", engine.log[-2000:]
            lines = list(load_bundle(api, bundle))  # saved on the classic store, loaded on containerd
            assert lines[-1].startswith("loaded in"), lines
            assert not baseimages.missing(baseimages.status(api))
        finally:
            api.close()
            bundle.unlink()
        yield engine


@pytest.fixture(scope="module", params=["classic", "containerd"])
def store(request: pytest.FixtureRequest, engine_api) -> Iterator[Store]:
    if request.param == "classic":
        assert image_store(engine_api) == "graphdriver"
        yield Store("classic", engine_url(None), engine_api)
        return
    engine: SecondEngine = request.getfixturevalue("containerd_engine")
    api = connect(engine.url)
    yield Store("containerd", engine.url, api)
    api.close()


def _mb(text: str) -> float:
    number, unit = re.search(SIZE_RE, text).groups()  # type: ignore[union-attr]
    return float(number) * {"B": 1e-6, "kB": 1e-3, "MB": 1, "GB": 1e3}[unit]


def _built(store: Store, context: Path, *args: str, **kwargs) -> str:
    out = io.StringIO()
    code = build_command(str(context), engine=store.url, out=out, **kwargs)
    assert code == 0, out.getvalue()
    return out.getvalue()


def _summary(output: str) -> str:
    return next(line for line in output.splitlines() if " steps from cache · " in line)


def _why(output: str) -> str:
    return next(line for line in output.splitlines() if line.startswith("why: "))


def _images_on(api: docker.APIClient) -> set[str]:
    return {i["Id"] for i in api.images(all=True)}


def test_a_learner_s_builds_sizes_and_clean_agree_on_each_store(store: Store, tmp_path: Path, monkeypatch):
    seat = f"stores-{store.name}"
    monkeypatch.setenv("TUTOR_SEAT", seat)
    before = _images_on(store.api)
    app = tmp_path / "go_app"
    shutil.copytree(ROOT / "go_app", app)
    try:
        cold = _built(store, app, no_cache=True)
        assert "9/9" in cold and "1/9 steps from cache" in _summary(cold), cold
        cached = _built(store, app)
        assert "9/9 steps from cache" in _summary(cached), cached
        tag = f"tutor/{seat}/go_app:latest"
        single = _mb(_summary(cached).split("image ", 1)[1])

        main = app / "main.go"
        main.write_text(main.read_text().replace("Hello, Docker with Go!", "Hello from the store test!"))
        edited = _built(store, app)
        assert _why(edited) == (
            "why: Step 6/9 COPY . . missed the cache because main.go changed; steps 7-9 were rebuilt as a consequence."
        ), edited
        assert "5/9 steps from cache" in _summary(edited)

        multi = _built(store, app, dockerfile=str(app / "Dockerfile.multistage"), tag=f"tutor/{seat}/multi:latest")
        multi_mb = _mb(_summary(multi).split("image ", 1)[1])
        binary = binary_size(store.api, f"tutor/{seat}/multi:latest", "/root/main", seat=seat)
        # No image is reported smaller than the binary it ships (the containerd store's content
        # size is: its compressed layers).
        assert multi_mb * 1e6 >= binary * 0.99, (multi, binary)
        assert 8 <= multi_mb <= 20 and 200 <= single <= 450, (single, multi_mb)
        copy_row = next(line for line in multi.splitlines() if "COPY --from=builder" in line)
        assert abs(_mb(copy_row.split("COPY --from=builder", 1)[1]) * 1e6 - binary) < 0.1e6, copy_row
        if store.name == "containerd":
            figures = next(line for line in multi.splitlines() if line.startswith("sizes: docker images: "))
            assert "disk usage" in figures and "content" in figures
        else:
            assert not [line for line in multi.splitlines() if line.startswith("sizes: ")]

        # One meaning of image size: build, layers, sizes and the engine's history agree.
        shown = fmt.size(image_size(store.api, tag))
        assert f"image {shown} ({tag})" in _summary(edited), edited
        out = io.StringIO()
        assert layers_command(tag, engine=store.url, out=out) == 0
        layers_text = out.getvalue()
        assert shown in layers_text.splitlines()[0], layers_text
        assert "RUN go build -o main" in layers_text and ", 9 steps" in layers_text.splitlines()[0]
        out = io.StringIO()
        assert sizes_command(seat=seat, lessons=str(ROOT / "lessons"), engine=store.url, out=out, width=100) == 0
        race_text = out.getvalue()
        multi_shown = fmt.size(image_size(store.api, f"tutor/{seat}/multi:latest"))
        assert f"image {multi_shown} (" in _summary(multi)
        assert multi_shown in race_text and shown in race_text, race_text
        race = seat_race(store.api, seat, [], set())
        assert race.floor is not None and race.floor.bytes == binary
        assert all(row.bytes >= race.floor.bytes for row in race.rows if not row.is_floor)
    finally:
        made = ledger.recorded(seat)
        out = io.StringIO()
        clean_command(seat=seat, engine=store.url, out=out)
    assert made, "the builds recorded the images they made"
    if store.name == "containerd":  # a private engine: nothing else builds there
        left = _images_on(store.api) - before
    else:  # the main engine, where other tests' and seats' builds may share these step images
        left = _orphans(store.api, made)
    assert not left, f"tutor clean left {len(left)} images of seat {seat}: {out.getvalue()}"


def _orphans(api: docker.APIClient, made: set[str]) -> set[str]:
    """Images the seat made that nothing else needs: untagged, and no image outside ``made`` builds on them."""
    listed = api.images(all=True)
    short = {i["Id"]: i["Id"].split(":", 1)[-1][:12] for i in listed}
    needed: set[str] = set()
    parents = {i["Id"]: i.get("ParentId") or "" for i in listed}
    for image_id in parents:
        if short[image_id] not in made:
            cur = parents[image_id]
            while cur and cur not in needed:
                needed.add(cur)
                cur = parents.get(cur, "")
    return {
        i["Id"] for i in listed
        if short[i["Id"]] in made and i["Id"] not in needed and not [t for t in i.get("RepoTags") or () if t != "<none>:<none>"]
    }


STEPS = """FROM alpine:latest AS base
ENV GREETING=hello
WORKDIR /app
WORKDIR /app
RUN echo hi > /x
RUN true
COPY small.txt .
COPY big.bin .
LABEL purpose=sizes
RUN rm /app/big.bin
FROM base
USER nobody
CMD ["sh"]
"""


class _CountingClient(docker.APIClient):
    """Counts the calls sizes are read with."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls: dict[str, int] = {"history": 0, "inspect_image": 0}

    def history(self, image):  # type: ignore[override]
        self.calls["history"] += 1
        return super().history(image)

    def inspect_image(self, image):  # type: ignore[override]
        self.calls["inspect_image"] += 1
        return super().inspect_image(image)


def test_each_step_s_size_is_what_the_history_shows_and_is_read_once_on_each_store(
    store: Store, tmp_path: Path, monkeypatch
):
    """Step sizes come from inspect and the size book, not one history per step: the same numbers."""
    seat = f"sizes-{store.name}"
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "small.txt").write_text("hello\n")
    (tmp_path / "ctx" / "big.bin").write_bytes(os.urandom(300_000))
    (tmp_path / "ctx" / "Dockerfile").write_text(STEPS)
    request = BuildRequest(
        tmp_path / "ctx", tag=f"tutor/{seat}/sizes:latest", labels=labels.managed_labels(seat), engine=store.url
    )
    try:
        events = list(Build(request).events())
        result = events[-1]
        assert isinstance(result, BuildSucceeded), events[-3:]
        steps = [e for e in events if isinstance(e, StepFinished)]
        assert len(steps) == 13

        def history_says(event: StepFinished) -> int:
            history = store.api.history(event.image_id)
            return image_size_of(history) if event.step in (1, 11) else int(history[0]["Size"])

        def image_size_of(history: list[dict]) -> int:
            return sum(max(int(entry["Size"]), 0) for entry in history)

        expected = {e.step: history_says(e) for e in steps}
        assert {e.step: e.size for e in steps} == expected
        assert result.image_size == image_size_of(store.api.history(result.image_id))
        assert expected[8] >= 300_000 and expected[2] == 0  # the big COPY, and ENV's no layer

        # Another process, with no size book yet: the history is asked only for a new layer on
        # the containerd store (its block-rounded sizes); never on the classic store.
        monkeypatch.setenv("TUTOR_HOME", str(tmp_path / "fresh-home"))
        size_book.forget_books()
        layers.forget()
        api = new_client(store.url, cls=_CountingClient)
        parser_froms = {1, 11}
        fresh = {}
        for e in steps:
            fresh[e.step] = (layers.image_size if e.step in parser_froms else layers.layer_size)(api, e.image_id)
        assert fresh == expected
        assert layers.image_size(api, result.image_id) == result.image_size
        added_layers = sum(1 for e in steps if e.step not in parser_froms and expected[e.step] > 0)
        if store.name == "classic":
            # Only alpine's whole size (the first FROM): `FROM base` is the sum of base's steps.
            assert api.calls["history"] == 1, api.calls
        else:
            assert 1 <= api.calls["history"] <= 1 + added_layers, api.calls

        # The process after that reads every size from the book: the engine is asked nothing.
        size_book.forget_books()
        layers.forget()
        api.calls = {"history": 0, "inspect_image": 0}
        again = {e.step: (layers.image_size if e.step in parser_froms else layers.layer_size)(api, e.image_id) for e in steps}
        assert again == expected
        assert layers.image_size(api, result.image_id) == result.image_size
        assert api.calls == {"history": 0, "inspect_image": 0}
        api.close()
    finally:
        clean_command(seat=seat, engine=store.url, out=io.StringIO())


def test_a_bundle_saved_on_the_containerd_store_loads_and_verifies_on_the_classic_one(
    containerd_engine: SecondEngine, engine_api, tmp_path: Path
):
    api = connect(containerd_engine.url)
    try:
        bundle = tmp_path / "from-containerd.tar"
        lines = list(save_bundle(api, bundle))
        assert lines[-1].startswith("bundle written")
    finally:
        api.close()
    # The main engine holds the same images, with other ids: the layers say they are the same.
    lines = list(load_bundle(engine_api, bundle))
    assert lines[-1] == "every image of the bundle is on the engine already: nothing to load", lines


@pytest.mark.timeout(2400)  # about ten go builds: 6 minutes on an idle 2-core machine, far more when busy
def test_the_exercises_that_check_sizes_behave_on_the_containerd_store(containerd_engine: SecondEngine, tmp_path: Path):
    """Starters fail and solutions pass on the containerd store: every size threshold holds there."""
    lessons = ["layers", "multi-stage", "optimise", "challenge"]
    env = {**os.environ, "DOCKER_HOST": containerd_engine.url, "TUTOR_HOME": str(tmp_path / "home"), "TUTOR_SEAT": "stores-course"}
    args = [sys.executable, "-m", "tutor", "lessons", "check", str(ROOT / "lessons"), "--run"]
    for lesson in lessons:
        args += ["--lesson", lesson]
    done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=2300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "exercises behave" in done.stdout, done.stdout[-2000:]
