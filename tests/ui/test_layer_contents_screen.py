"""The layer contents screen without an engine: its layers come from a REAL export of a tiny
two-stage image (tests/fixtures/exports, made by make_tiny.py) and its build record from the
recorded stream of that same build.

Steps of the tiny build: 1 FROM alpine AS builder, 2 WORKDIR /out, 3 RUN echo > /out/result.txt,
4 FROM alpine, 5 ENV, 6 WORKDIR /app, 7 COPY notes.txt big.txt, 8 COPY --from=builder,
9 RUN rm big.txt + /data/a, 10 RUN rm -rf /data + /data/b, 11 CMD.
The real engine's side is in tests/docker/test_layer_contents_ui.py.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
import threading
from functools import cache

import pytest
from textual.app import App
from textual.widgets import DataTable, LoadingIndicator, Static

from tests.conftest import FIXTURES
from tests.ui.conftest import wait_for
from tutor.engine.layer_contents import ExportError, ImageContents, _with_step_ids, read_export
from tutor.engine.record import BuildRecord
from tutor.engine.replay import ReplayBuild
from tutor.ui.screens.layer_contents import LayerContentsScreen

EXPORTS = FIXTURES / "exports"
SIZE = (120, 40)
NOTES = (EXPORTS / "tiny" / "notes.txt").stat().st_size


@cache
def tiny_record() -> BuildRecord:
    record = BuildRecord()
    for event in ReplayBuild(EXPORTS / "tiny.jsonl").events():
        record.apply(event)
    assert record.result is not None
    return record


@cache
def _archive() -> bytes:
    return gzip.decompress((EXPORTS / "tiny.tar.gz").read_bytes())


def export_of(image_id: str) -> ImageContents:
    """One image of the two-image `docker save` archive, read as the engine would stream it alone."""
    source = tarfile.open(fileobj=io.BytesIO(_archive()))
    manifest = [m for m in json.load(source.extractfile("manifest.json")) if m["Config"].startswith(image_id)]
    if not manifest:
        raise ExportError(f"No image {image_id} in the fixture export.")
    single = io.BytesIO()
    with tarfile.open(fileobj=single, mode="w") as out:
        for member in source.getmembers():
            if member.name == "manifest.json":
                data = json.dumps(manifest).encode()
                member = tarfile.TarInfo("manifest.json")
                member.size = len(data)
                out.addfile(member, io.BytesIO(data))
            else:
                out.addfile(member, source.extractfile(member) if member.isfile() else None)
    single.seek(0)
    history = json.loads((EXPORTS / "tiny.history.json").read_text())[image_id]
    return _with_step_ids(read_export(single, image_id), history)


class Loader:
    """Counts reads; can hold a read until released (to see the loading indicator) or fail."""

    def __init__(self, error: Exception | None = None, hold: bool = False) -> None:
        self.calls: list[str] = []
        self.error = error
        self.release = threading.Event()
        if not hold:
            self.release.set()

    def __call__(self, target: str) -> ImageContents:
        self.calls.append(target)
        self.release.wait(10)
        if self.error is not None:
            raise self.error
        return export_of(target)


class Host(App):
    def __init__(self, screen: LayerContentsScreen) -> None:
        super().__init__()
        self.contents_screen = screen

    def on_mount(self) -> None:
        self.push_screen(self.contents_screen)


def open_on(step: int, loader: Loader) -> tuple[Host, LayerContentsScreen]:
    record = tiny_record()
    screen = LayerContentsScreen(record.result.image_id, record, step, None, loader=loader)
    return Host(screen), screen


def text(screen: LayerContentsScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def loaded(pilot, screen: LayerContentsScreen) -> None:
    table = screen.query_one("#lc-files", DataTable)
    await wait_for(pilot, lambda: not screen.is_loading and (table.row_count > 0 or not table.display))


async def test_a_copy_step_lists_its_files_biggest_first_and_what_a_later_step_wasted() -> None:
    loader = Loader()
    app, screen = open_on(7, loader)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, screen)
        assert "Step 7/11" in text(screen, "#lc-step") and "COPY notes.txt big.txt ./" in text(screen, "#lc-step")
        assert "becomes the image" in text(screen, "#lc-stage")
        rows = screen.rows()
        assert rows[:2] == [("added", "/app/big.txt", "4.0 kB", ""), ("added", "/app/notes.txt", f"{NOTES} B", "")]
        (what, path, size, note), = rows[2:]
        assert (what, path, size) == ("wasted", "/app/big.txt", "4.0 kB")
        assert note.startswith("deleted by step 9: RUN rm /app/big.txt")
        summary = text(screen, "#lc-summary")
        assert "Layer 3 of 6 · 4.0 kB of files" in summary
        assert "added 2 files (4.0 kB)" in summary and "wasted: 4.0 kB" in summary
        assert loader.calls == [tiny_record().result.image_id]


async def test_metadata_steps_say_they_add_no_layer_without_reading_the_image() -> None:
    loader = Loader()
    app, screen = open_on(5, loader)  # ENV GREETING=hello
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "ENV adds no layer: 0 B" in text(screen, "#lc-summary")
        assert not screen.query_one("#lc-files", DataTable).display
        for _ in range(6):
            await pilot.press("right")
        assert screen.step == 11 and "CMD adds no layer: 0 B" in text(screen, "#lc-summary")
        await pilot.press("right")  # past the last step: a notice, no move
        assert screen.step == 11
        await pilot.pause()
    assert loader.calls.count(tiny_record().result.image_id) == 1  # steps 6-10 share one read


async def test_left_and_right_walk_the_steps_with_one_read_per_image() -> None:
    loader = Loader()
    app, screen = open_on(8, loader)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, screen)
        assert screen.rows()[0][:3] == ("added", "/app/result.txt", "6 B")
        await pilot.press("right")  # step 9: RUN rm big.txt, writes /data/a
        await loaded(pilot, screen)
        rows = screen.rows()
        assert ("removed", "/app/big.txt", "4.0 kB", "whiteout: bytes stay below") in rows
        assert ("added", "/data/a", "4 B", "") in rows
        assert [r[3].startswith("deleted by step 10: RUN rm -rf /data") for r in rows if r[:3] == ("wasted", "/data/a", "4 B")] == [True]
        await pilot.press("right")  # step 10: rm -rf /data and a new /data
        await loaded(pilot, screen)
        rows = screen.rows()
        assert ("opaque", "/data", "", "hides all lower contents") in rows
        assert ("added", "/data/b", "4 B", "") in rows
        await pilot.press("left", "left", "left")  # step 7
        await loaded(pilot, screen)
        assert screen.step == 7 and screen.rows()[0][:2] == ("added", "/app/big.txt")
        await pilot.press("left")  # step 6: WORKDIR makes a layer that holds only the folder
        await loaded(pilot, screen)
        assert "Layer 2 of 6 · 0 B of files" in text(screen, "#lc-summary")
        assert "No file bytes: WORKDIR only made a folder (0 B)" in text(screen, "#lc-summary")
    assert loader.calls == [tiny_record().result.image_id]


async def test_a_builder_stage_step_is_read_from_its_stage_and_marked_not_in_the_final_image() -> None:
    loader = Loader()
    app, screen = open_on(3, loader)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, screen)
        assert "NOT part of the final image" in text(screen, "#lc-stage")
        assert "'builder'" in text(screen, "#lc-stage")
        assert screen.rows() == [("added", "/out/result.txt", "6 B", "")]
        builder_image = tiny_record().steps[3].image_id
        assert loader.calls == [builder_image]
        await pilot.press("right")  # step 4: FROM alpine of the final stage, read from the final image
        await loaded(pilot, screen)
        assert "becomes the image" in text(screen, "#lc-stage")
        assert "alpine:latest is the base image: 1 layer(s)" in text(screen, "#lc-summary")
        rows = screen.rows()
        assert rows[0][0] == "base" and rows[1][:2] == ("added", "/bin/busybox")  # the biggest file of the base
        assert loader.calls == [builder_image, tiny_record().result.image_id]


async def test_the_loading_indicator_shows_while_the_export_is_read() -> None:
    loader = Loader(hold=True)
    app, screen = open_on(7, loader)
    async with app.run_test(size=SIZE) as pilot:
        table = screen.query_one("#lc-files", DataTable)
        await wait_for(pilot, lambda: bool(loader.calls))
        await pilot.pause()
        indicator = screen.query_one(LoadingIndicator)
        assert screen.is_loading and indicator.display and indicator.region.height > 0 and not table.display
        assert "Reading the layers of" in text(screen, "#lc-status")
        await pilot.press("right")  # still the same image: no second read starts
        await pilot.press("left")
        loader.release.set()
        await loaded(pilot, screen)
        assert not indicator.display and table.display and table.row_count == 3
        assert not screen.query_one("#lc-status", Static).display
    assert len(loader.calls) == 1


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (ExportError("No image 762a8b739bd5 on the engine: 404 Client Error"), "No image 762a8b739bd5 on the engine"),
        (ConnectionError("Connection aborted"), "Could not read the layers of 762a8b739bd5: Connection aborted"),
    ],
)
async def test_read_errors_are_shown_not_raised(error: Exception, shown: str) -> None:
    loader = Loader(error=error)
    app, screen = open_on(7, loader)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: shown in text(screen, "#lc-status"))
        assert "r: retry" in text(screen, "#lc-status")
        assert not screen.query_one("#lc-files", DataTable).display
        loader.error = None
        await pilot.press("r")
        await loaded(pilot, screen)
        assert screen.rows()[0][:2] == ("added", "/app/big.txt")
    assert len(loader.calls) == 2


async def test_a_real_engine_that_is_not_there_is_explained() -> None:
    record = tiny_record()
    screen = LayerContentsScreen(record.result.image_id, record, 7, "unix:///nonexistent/docker.sock")
    async with Host(screen).run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "r: retry" in text(screen, "#lc-status"))
        assert "No Docker engine socket at /nonexistent/docker.sock" in text(screen, "#lc-status")


async def test_escape_closes_and_unfinished_or_failed_steps_say_so(stream_path) -> None:
    record = BuildRecord()
    for event in list(ReplayBuild(EXPORTS / "tiny.jsonl").events())[:5]:  # up to step 2 running
        record.apply(event)
    loader = Loader()
    screen = LayerContentsScreen("tiny", record, 2, None, loader=loader)
    app = Host(screen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "This step has no layer yet (running): build first." in text(screen, "#lc-summary")
        failed = BuildRecord()
        for event in ReplayBuild(stream_path("run_fails")).events():
            failed.apply(event)
        step = failed.failure.step
        app.push_screen(LayerContentsScreen("go_app", failed, step, None, loader=loader))
        await pilot.pause()
        assert "This step failed, so it made no layer." in text(app.screen, "#lc-summary")
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is not screen
    assert loader.calls == []
