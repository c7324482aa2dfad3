"""Layer contents, stage groups and the size race, read from the real engine.

The exports are read as the engine streams them (the docker-save layout from 20.10,
the OCI layout, with a docker-save manifest beside it, from 25 on) and, repacked in the
test into each layout alone (an OCI one with gzip layers), through both code paths:
all must give the same answer.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import tarfile
from pathlib import Path

import docker
import pytest

from tests.conftest import ROOT, TEST_SEAT
from tutor.engine import labels, layer_contents
from tutor.engine.build import Build, BuildRequest
from tutor.engine.client import engine_url, new_client
from tutor.engine.layer_contents import (
    DOCKER_SAVE,
    OCI,
    LayerFile,
    image_contents,
    read_export,
    stage_groups,
)
from tutor.engine.record import BuildRecord
from tutor.engine.sizerace import (
    binary_size,
    binary_size_from_layers,
    race,
    render_bars,
)

MB5 = 5 * 1024 * 1024
WASTE = """FROM alpine:latest
COPY go.mod /app/go.mod
RUN dd if=/dev/zero of=/tmp/big bs=1048576 count=5
RUN rm /tmp/big
RUN mkdir -p /data && echo one > /data/a
RUN rm -rf /data && mkdir /data && echo two > /data/b
CMD ["true"]
"""


def _build(ctx: Path, dockerfile: str) -> BuildRecord:
    request = BuildRequest(
        context=ctx,
        dockerfile=dockerfile,
        tag=labels.seat_tag(TEST_SEAT, "layers-go_app", dockerfile),
        labels=labels.managed_labels(TEST_SEAT, kind="build"),
    )
    record = BuildRecord()
    for event in Build(request).events():
        record.apply(event)
    assert record.result is not None, record.failure
    return record


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory, base_images) -> dict[str, BuildRecord]:
    """go_app single-stage and multi-stage (the builder stage reuses the single-stage cache) and a
    Dockerfile that writes then deletes a big file."""
    ctx = tmp_path_factory.mktemp("layers") / "go_app"
    shutil.copytree(ROOT / "go_app", ctx)
    (ctx / "Dockerfile.waste").write_text(WASTE)
    return {name: _build(ctx, df) for name, df in
            (("single", "Dockerfile"), ("multi", "Dockerfile.multistage"), ("waste", "Dockerfile.waste"))}


def test_the_copy_go_mod_layer_holds_exactly_go_mod(builds, engine_api: docker.APIClient) -> None:
    record = builds["single"]
    contents = image_contents(engine_api, record.result.image_id)
    assert contents.layout in (DOCKER_SAVE, OCI)  # 20.10 exports the first, 25 and later the second
    assert record.steps[4].instruction == "COPY go.mod ./"
    layer = contents.layer_for_step(record, 4)
    assert layer is not None
    assert layer.added + layer.changed == (LayerFile("/app/go.mod", (ROOT / "go_app" / "go.mod").stat().st_size, "file"),)
    assert layer.removed == () and layer.opaque_dirs == ()
    # COPY . . (step 6) stores go.mod again: this first copy is wasted space.
    assert [(w.path, w.by_layer) for w in layer.wasted] == [("/app/go.mod", contents.layer_for_step(record, 6).index)]
    assert contents.layer_for_step(record, 2) is None  # ENV: metadata only, no layer
    build_layer = contents.layer_for_step(record, 7)
    assert build_layer is not None and "/app/main" in {f.path for f in build_layer.added}


def test_multi_stage_groups(builds) -> None:
    view = stage_groups(builds["multi"])
    builder, runtime = view.stages
    assert (builder.index, builder.name, builder.in_final_image) == (0, "builder", False)
    assert (runtime.index, runtime.in_final_image, runtime.base) == (1, True, "alpine:latest")
    assert [s.step for s in builder.steps] == list(range(1, 8))
    assert [s.step for s in runtime.steps] == list(range(8, 13))
    assert {s.keyword: s.size for s in runtime.steps if s.metadata_only} == {"EXPOSE": 0, "CMD": 0}
    assert view.final is runtime
    assert view.final_image_size == builds["multi"].result.image_size  # the image is the last stage only
    assert view.left_behind_size > 200_000_000  # the Go toolchain stays behind


def test_size_race(builds, engine_api: docker.APIClient) -> None:
    multi = builds["multi"]
    builder_image = multi.steps[7].image_id  # RUN go build: the builder stage's last image
    floor = binary_size(engine_api, builder_image, "/app/main", seat=TEST_SEAT)
    single = image_contents(engine_api, builds["single"].result.image_id)
    assert binary_size_from_layers(single, "/app/main") == floor
    measuring = {"label": labels.seat_filter(TEST_SEAT)["label"] + [f"{labels.KIND}=measure"]}
    assert engine_api.containers(all=True, filters=measuring) == []  # the measuring container is gone
    rows = race(
        engine_api,
        [("single-stage", builds["single"].result.image_id), ("multi-stage", multi.result.image_id)],
        builder_image,
        seat=TEST_SEAT,
    )
    assert [r.label for r in rows] == ["single-stage", "multi-stage", "the binary alone (/app/main)"]
    assert rows[0].bytes == builds["single"].result.image_size and rows[1].bytes == multi.result.image_size
    assert rows[0].multiple > 20 and 1 < rows[1].multiple < 2 and rows[2].multiple == 1.0
    lines = render_bars(rows, 72)
    assert all(len(line) <= 72 for line in lines)
    print("\n".join(lines))


def test_wasted_space_of_a_big_file_written_then_deleted(builds, engine_api: docker.APIClient) -> None:
    record = builds["waste"]
    contents = image_contents(engine_api, record.result.image_id)
    dd, rm = contents.layer_for_step(record, 3), contents.layer_for_step(record, 4)
    assert dd is not None and rm is not None
    assert LayerFile("/tmp/big", MB5, "file") in dd.added
    assert [(w.path, w.size, w.by_layer) for w in dd.wasted] == [("/tmp/big", MB5, rm.index)]
    assert rm.removed == (LayerFile("/tmp/big", MB5, "file"),)
    rebuilt = contents.layer_for_step(record, 6)
    assert rebuilt is not None and LayerFile("/data/b", 4, "file") in rebuilt.added
    assert "/data/a" in {w.path for w in contents.layer_for_step(record, 5).wasted}
    assert contents.wasted_bytes >= MB5
    assert contents.find("/tmp/big") is None and contents.find("/data/b") == LayerFile("/data/b", 4, "file")


def _to_docker_save(export: Path, dest: Path) -> None:
    """Only what a docker-save archive holds: manifest.json, the config and the layers it names."""
    with tarfile.open(export) as src:
        manifest = json.load(src.extractfile("manifest.json"))[0]
        wanted = ["manifest.json", manifest["Config"], *manifest["Layers"]]
        with tarfile.open(dest, "w") as out:
            for name in wanted:
                member = src.getmember(name)
                out.addfile(member, src.extractfile(member))


def _to_oci(save_export: Path, dest: Path) -> None:
    """Repack a docker-save export into an OCI image layout (gzip layers, no manifest.json)."""
    with tarfile.open(save_export) as src:
        manifest = json.load(src.extractfile("manifest.json"))[0]
        config = src.extractfile(manifest["Config"]).read()
        layers = [src.extractfile(name).read() for name in manifest["Layers"]]
    blobs: dict[str, bytes] = {}

    def put(data: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        blobs[digest] = data
        return digest

    descriptors = []
    for layer in layers:
        blob = gzip.compress(layer, compresslevel=1)
        descriptors.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": put(blob),
                            "size": len(blob)})
    oci_manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": put(config), "size": len(config)},
        "layers": descriptors,
    }).encode()
    index = {"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                                 "digest": put(oci_manifest), "size": len(oci_manifest)}]}
    with tarfile.open(dest, "w") as out:
        for name, data in [("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')] + [
            ("blobs/sha256/" + d.split(":")[1], b) for d, b in blobs.items()
        ] + [("index.json", json.dumps(index).encode())]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))


def test_docker_save_and_oci_layouts_agree(builds, engine_api: docker.APIClient, tmp_path: Path) -> None:
    image = builds["waste"].result.image_id
    export_path, save_path, oci_path = tmp_path / "export.tar", tmp_path / "save.tar", tmp_path / "oci.tar"
    with open(export_path, "wb") as fh:
        fh.writelines(engine_api.get_image(image))
    _to_docker_save(export_path, save_path)
    _to_oci(export_path, oci_path)
    with open(save_path, "rb") as fh:
        from_save = read_export(fh, image)
    with open(oci_path, "rb") as fh:
        from_oci = read_export(fh, image)
    assert (from_save.layout, from_oci.layout) == (DOCKER_SAVE, OCI)
    assert from_oci.layers == from_save.layers
    assert from_oci.wasted_bytes == from_save.wasted_bytes >= MB5
    live = image_contents(engine_api, image)  # streamed from the engine, step ids attached
    assert [layer.added for layer in live.layers] == [layer.added for layer in from_oci.layers]


class _CountingClient(docker.APIClient):
    """Counts image exports and measuring containers."""

    exports = 0
    containers_made = 0

    def get_image(self, image, *args, **kwargs):  # type: ignore[override]
        self.exports += 1
        return super().get_image(image, *args, **kwargs)

    def create_container(self, *args, **kwargs):  # type: ignore[override]
        self.containers_made += 1
        return super().create_container(*args, **kwargs)


def test_an_image_s_export_is_read_once_and_its_floor_measured_once(
    builds, engine_api: docker.APIClient, tutor_home: Path, monkeypatch
) -> None:
    """The second open of an image reads the cache by its id, in this process or the next."""
    from tutor.engine import contents_cache, seat_race

    api = new_client(engine_url(None), cls=_CountingClient)
    image = builds["waste"].result.image_id
    monkeypatch.setattr(layer_contents, "_cache", {})  # other tests opened it in this process
    first = image_contents(api, image)
    assert api.exports == 1
    assert list((tutor_home / "cache" / "layer-contents").glob("*.json"))
    assert image_contents(api, image) == first and api.exports == 1  # memory
    monkeypatch.setattr(layer_contents, "_cache", {})  # as the next process: memory empty, disk kept
    again = image_contents(api, image)
    assert api.exports == 1
    assert again == first  # the step image of each layer too (asked again of the engine)
    assert again.layer_for_step(builds["waste"], 3) is not None

    # The size race's floor: measured in a container once, then known by the image's id.
    single = builds["single"]
    monkeypatch.setattr(seat_race, "_floor_cache", {})
    rows = [seat_race.SeatImage(f"tutor/{TEST_SEAT}/x:latest", single.result.image_id, 1, "x", "build", None)]
    floor = seat_race.measure_floor(api, rows, TEST_SEAT)
    assert api.containers_made == 1
    monkeypatch.setattr(seat_race, "_floor_cache", {})
    assert seat_race.measure_floor(api, rows, TEST_SEAT) == floor and api.containers_made == 1
    # An image the layer viewer read needs no container at all.
    monkeypatch.setenv("TUTOR_HOME", str(tutor_home / "other"))
    monkeypatch.setattr(seat_race, "_floor_cache", {})
    contents_cache.store(single.result.image_id, read_export(api.get_image(single.result.image_id), "single"))
    assert seat_race.measure_floor(api, rows, TEST_SEAT) == floor and api.containers_made == 1
    api.close()
