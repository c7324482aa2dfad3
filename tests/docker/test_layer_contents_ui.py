"""The layer contents and size race screens, and `tutor layers` / `tutor sizes`, on the real engine.

go_app is built single-stage and multi-stage (cached rebuilds after the first time); the screens
read the real export of those images and measure the real binary.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from textual.app import App
from textual.widgets import DataTable, Static

from tests.conftest import ROOT, TEST_SEAT
from tests.ui.conftest import wait_for
from tutor.cli import main
from tutor.engine import labels
from tutor.engine.build import Build, BuildRequest
from tutor.engine.record import BuildRecord
from tutor.engine.seat_race import measure_floor, seat_images
from tutor.engine.sizerace import binary_size
from tutor.ui.screens.layer_contents import LayerContentsScreen
from tutor.ui.screens.size_race import SizeRaceScreen

SINGLE = f"tutor/{TEST_SEAT}/layers-ui:latest"
MULTI = f"tutor/{TEST_SEAT}/layers-ui-multi:latest"
SIZE = (120, 40)
EXPORT_SECONDS = 90  # a 330 MB export takes 4-14 s here; a loaded CI machine is slower


def _build(context: Path, dockerfile: str, tag: str) -> BuildRecord:
    record = BuildRecord()
    request = BuildRequest(context, dockerfile, tag=tag, labels=labels.managed_labels(TEST_SEAT, kind="build"))
    for event in Build(request).events():
        record.apply(event)
    assert record.result is not None, record.failure
    return record


@pytest.fixture(scope="module")
def builds(engine_api: docker.APIClient, base_images, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    import shutil

    context = tmp_path_factory.mktemp("layers-ui") / "go_app"
    shutil.copytree(ROOT / "go_app", context)
    yield {"single": _build(context, "Dockerfile", SINGLE), "multi": _build(context, "Dockerfile.multistage", MULTI)}
    for tag in (SINGLE, MULTI):
        try:
            engine_api.remove_image(tag, force=True)
        except docker.errors.APIError:  # already gone with the seat's cleanup
            pass


class Host(App):
    def __init__(self, screen) -> None:
        super().__init__()
        self.first = screen

    def on_mount(self) -> None:
        self.push_screen(self.first)


def text(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def _loaded(pilot, screen: LayerContentsScreen) -> None:
    table = screen.query_one("#lc-files", DataTable)
    await wait_for(pilot, lambda: not screen.is_loading and (table.row_count > 0 or not table.display),
                   timeout=EXPORT_SECONDS)


async def test_copy_go_mod_holds_exactly_go_mod_and_env_adds_no_layer(builds) -> None:
    record = builds["single"]
    assert record.steps[4].instruction == "COPY go.mod ./" and record.steps[2].keyword == "ENV"
    screen = LayerContentsScreen(SINGLE, record, 4, None)
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: screen.is_loading)  # the export is read in a worker
        await _loaded(pilot, screen)
        assert "Reading" not in text(screen, "#lc-status")
        rows = screen.rows()
        go_mod = (ROOT / "go_app" / "go.mod").stat().st_size
        assert [r[:3] for r in rows if r[0] in ("added", "changed")] == [("added", "/app/go.mod", f"{go_mod} B")]
        # COPY . . (step 6) stores go.mod again: this first copy is wasted.
        (wasted,) = [r for r in rows if r[0] == "wasted"]
        assert wasted[1] == "/app/go.mod" and wasted[3].startswith("overwritten by step 6: COPY . .")
        await pilot.press("right", "right", "right")  # step 7: RUN go build, the same export (cached)
        await _loaded(pilot, screen)
        assert "/app/main" in {r[1] for r in screen.rows() if r[0] == "added"}
        app.push_screen(LayerContentsScreen(SINGLE, record, 2, None))
        await pilot.pause()
        assert "ENV adds no layer: 0 B" in text(app.screen, "#lc-summary")
        assert not app.screen.query_one("#lc-files", DataTable).display


async def test_a_builder_step_of_the_multi_stage_build_is_not_in_the_final_image(builds) -> None:
    record = builds["multi"]
    build_step = next(s.step for s in record.ordered if s.instruction == "RUN go build -o main")
    screen = LayerContentsScreen(MULTI, record, build_step, None)
    async with Host(screen).run_test(size=SIZE) as pilot:
        await _loaded(pilot, screen)
        assert "NOT part of the final image" in text(screen, "#lc-stage")
        assert "/app/main" in {r[1] for r in screen.rows() if r[0] == "added"}
        copy_step = next(s.step for s in record.ordered if s.instruction.startswith("COPY --from=builder"))
        for _ in range(copy_step - build_step):
            await pilot.press("right")
        await _loaded(pilot, screen)
        assert "becomes the image" in text(screen, "#lc-stage")
        assert [r[:2] for r in screen.rows()] == [("added", "/root/main")]


async def test_the_size_race_measures_the_seats_images_against_the_binary(builds, engine_api) -> None:
    single, multi = builds["single"].result, builds["multi"].result
    binary = binary_size(engine_api, SINGLE, "/app/main", seat=TEST_SEAT)
    ours = [i for i in seat_images(engine_api, TEST_SEAT) if i.tag == SINGLE]
    floor = measure_floor(engine_api, ours, TEST_SEAT)
    assert (floor.bytes, floor.path, floor.image) == (binary, "/app/main", SINGLE)
    screen = SizeRaceScreen(TEST_SEAT, None, names=(), passed=())
    async with Host(screen).run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: screen.race is not None, timeout=60)
        race = screen.race
        by_ref = {r.ref: r for r in race.rows}
        assert by_ref[SINGLE].label == "layers-ui (tutor build)" and by_ref[SINGLE].bytes == single.image_size
        assert by_ref[MULTI].label == "layers-ui-multi (tutor build)" and by_ref[MULTI].bytes == multi.image_size
        assert race.rows[-1].is_floor and race.floor is not None and race.floor.bytes > 1_000_000
        assert by_ref[SINGLE].multiple > 20 and by_ref[MULTI].multiple < 2
        bars = text(screen, "#race-bars")
        assert "layers-ui (tutor build)" in bars and "the binary alone" in bars
        assert race.champion is None  # `tutor build` images have no checks to pass
    measuring = {"label": labels.seat_filter(TEST_SEAT)["label"] + [f"{labels.KIND}=measure"]}
    assert engine_api.containers(all=True, filters=measuring) == []  # measuring containers are removed


def test_tutor_layers_and_sizes_commands(builds, capsys) -> None:
    assert main(["layers", SINGLE]) == 0
    listing = capsys.readouterr().out
    assert "1/9" in listing and "FROM golang:1.24-alpine  (base image)" in listing
    assert "2/9        0 B  ENV GO111MODULE=on" in listing and "(metadata, no layer)" in listing
    assert "RUN go build -o main" in listing

    assert main(["layers", SINGLE, "--step", "4", "--json"]) == 0
    step4 = json.loads(capsys.readouterr().out)
    assert step4["instruction"].startswith("COPY file:") and step4["layer"]["counts"]["added"] == 1
    assert [f["path"] for f in step4["layer"]["added"]] == ["/app/go.mod"]
    assert [(w["path"], w["by_step"], w["how"]) for w in step4["layer"]["wasted"]] == [("/app/go.mod", 6, "overwritten")]

    assert main(["layers", SINGLE, "--step", "2"]) == 0
    assert "no layer: ENV adds no layer (0 B)" in capsys.readouterr().out
    assert main(["layers", SINGLE, "--step", "42"]) == 1
    assert "there is no step 42" in capsys.readouterr().out
    assert main(["layers", f"tutor/{TEST_SEAT}/no-such-image:latest"]) == 1
    assert "no image tutor/pytest/no-such-image:latest on the engine" in capsys.readouterr().out

    assert main(["sizes", "--seat", TEST_SEAT]) == 0
    race = capsys.readouterr().out
    assert race.startswith(f"Image size race, seat {TEST_SEAT}:")
    assert "layers-ui (tutor build)" in race and "the binary alone" in race and "Floor: the Go binary" in race
