"""Layer contents from both export layouts, stage groups, and the size race (pure parts)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile

import pytest

from tutor.engine.layer_contents import (
    DOCKER_SAVE,
    OCI,
    ExportError,
    LayerFile,
    WastedFile,
    read_export,
    stage_groups,
)
from tutor.engine.record import BuildRecord
from tutor.engine.replay import ReplayBuild
from tutor.engine.sizerace import MeasureError, race_rows, render_bars

# Each layer: path -> bytes (a file), None (a folder), or ("symlink", target).
LAYERS: list[dict[str, object]] = [
    {"etc": None, "etc/os-release": b"x" * 10, "data": None, "data/a": b"a" * 100, "data/b": b"b" * 50, "tmp": None,
     "bin": None, "bin/sh": ("symlink", "busybox")},
    {"tmp": None, "tmp/big": b"\0" * 5000},
    {"tmp": None, "tmp/.wh.big": b""},
    {"data": None, "data/.wh..wh..opq": b"", "data/c": b"c" * 7},
    {"etc": None, "etc/os-release": b"y" * 12},
]
HISTORY = [
    {"created_by": "ADD rootfs.tar /"},
    {"created_by": "ENV A=1", "empty_layer": True},
    {"created_by": "RUN dd of=/tmp/big"},
    {"created_by": "RUN rm /tmp/big"},
    {"created_by": "RUN rebuild /data"},
    {"created_by": "RUN edit /etc/os-release"},
    {"created_by": "COPY big /tmp/big"},
    {"created_by": 'CMD ["sh"]', "empty_layer": True},
]


def _layer_tar(spec: dict[str, object]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, content in spec.items():
            info = tarfile.TarInfo(name)
            if content is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif isinstance(content, tuple):
                info.type, info.linkname = tarfile.SYMTYPE, content[1]
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return buf.getvalue()


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _config(layer_tars: list[bytes]) -> bytes:
    return json.dumps(
        {"rootfs": {"type": "layers", "diff_ids": [_sha(t) for t in layer_tars]}, "history": HISTORY}
    ).encode()


def docker_save_export(layer_tars: list[bytes], duplicate_of: dict[int, int]) -> bytes:
    """manifest.json + <id>/layer.tar, with duplicate layers stored as symlinks (as docker save does)."""
    config = _config(layer_tars)
    buf = io.BytesIO()
    names = []
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for i, data in enumerate(layer_tars):
            name = f"{hashlib.sha256(f'{i}'.encode()).hexdigest()}/layer.tar"
            names.append(name)
            if i in duplicate_of:
                link = tarfile.TarInfo(name)
                link.type, link.linkname = tarfile.SYMTYPE, f"../{names[duplicate_of[i]]}"
                tar.addfile(link)
            else:
                _add(tar, name, data)
        config_name = _sha(config).split(":")[1] + ".json"
        _add(tar, config_name, config)
        _add(tar, "manifest.json", json.dumps([{"Config": config_name, "RepoTags": [], "Layers": names}]).encode())
    return buf.getvalue()


def oci_export(layer_tars: list[bytes], compress: set[int]) -> bytes:
    """index.json + blobs/sha256/...; some layers gzip-compressed."""
    blobs: dict[str, bytes] = {}
    descriptors = []
    for i, data in enumerate(layer_tars):
        blob = gzip.compress(data) if i in compress else data
        blobs[_sha(blob)] = blob
        kind = "tar+gzip" if i in compress else "tar"
        descriptors.append({"mediaType": f"application/vnd.oci.image.layer.v1.{kind}", "digest": _sha(blob),
                            "size": len(blob)})
    config = _config(layer_tars)
    blobs[_sha(config)] = config
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": _sha(config), "size": len(config)},
        "layers": descriptors,
    }).encode()
    blobs[_sha(manifest)] = manifest
    index = {"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                                 "digest": _sha(manifest), "size": len(manifest)}]}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        _add(tar, "oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
        for digest, blob in blobs.items():
            _add(tar, "blobs/sha256/" + digest.split(":")[1], blob)
        _add(tar, "index.json", json.dumps(index).encode())
    return buf.getvalue()


def _tars() -> list[bytes]:
    tars = [_layer_tar(spec) for spec in LAYERS]
    return tars + [tars[1]]  # the last layer stores /tmp/big again: the same tar


def _chunks(data: bytes, size: int = 4096):
    for i in range(0, len(data), size):
        yield data[i : i + size]


@pytest.fixture(params=[DOCKER_SAVE, OCI])
def export(request: pytest.FixtureRequest) -> tuple[str, bytes]:
    tars = _tars()
    if request.param == DOCKER_SAVE:
        return DOCKER_SAVE, docker_save_export(tars, duplicate_of={5: 1})
    return OCI, oci_export(tars, compress={0, 3, 5})


def test_added_changed_removed_and_opaque(export: tuple[str, bytes]) -> None:
    layout, data = export
    contents = read_export(_chunks(data), "synthetic")  # an iterator of chunks, as the engine streams it
    assert contents.layout == layout
    assert contents.history_layers == (True, False, True, True, True, True, True, False)
    base, dd, rm, opq, edit, again = contents.layers
    assert [f.path for f in base.added] == ["/data/a", "/data/b", "/etc/os-release", "/bin/sh"]  # biggest first
    assert base.added[-1].kind == "symlink"
    assert dd.added == (LayerFile("/tmp/big", 5000, "file"),) and dd.created_by == "RUN dd of=/tmp/big"
    assert rm.removed == (LayerFile("/tmp/big", 5000, "file"),) and rm.added == ()
    assert opq.opaque_dirs == ("/data",) and opq.added == (LayerFile("/data/c", 7, "file"),)
    assert edit.changed == (LayerFile("/etc/os-release", 12, "file"),) and edit.added == ()
    assert again.added == (LayerFile("/tmp/big", 5000, "file"),)  # deleted below, so added anew
    assert [layer.digest for layer in contents.layers] == [_sha(t) for t in _tars()]


def test_wasted_space_is_what_later_layers_overwrite_or_delete(export: tuple[str, bytes]) -> None:
    contents = read_export(io.BytesIO(export[1]))
    base, dd = contents.layers[0], contents.layers[1]
    assert base.wasted == (
        WastedFile("/data/a", 100, 0, 3),
        WastedFile("/data/b", 50, 0, 3),
        WastedFile("/etc/os-release", 10, 0, 4),
    )
    assert dd.wasted == (WastedFile("/tmp/big", 5000, 1, 2),)
    assert contents.wasted_bytes == 5160
    assert contents.find("/tmp/big") == LayerFile("/tmp/big", 5000, "file")
    assert contents.find("/data/a") is None  # hidden by the opaque folder


def test_both_layouts_give_the_same_answer() -> None:
    tars = _tars()
    save = read_export(io.BytesIO(docker_save_export(tars, {5: 1})))
    oci = read_export(io.BytesIO(oci_export(tars, {0, 1, 2, 3, 4, 5})))
    assert save.layers == oci.layers


def test_not_an_image_export_is_a_clear_error() -> None:
    with pytest.raises(ExportError, match="neither a docker-save archive"):
        read_export(io.BytesIO(_layer_tar({"hello.txt": b"hi"})), "hello")
    with pytest.raises(ExportError, match="could not be read"):
        read_export(io.BytesIO(b"this is not a tar archive at all" * 40), "junk")


def test_stage_groups_of_a_recorded_single_stage_build(stream_path) -> None:
    record = BuildRecord()
    for event in ReplayBuild(stream_path("cold")).events():
        record.apply(event)
    view = stage_groups(record)
    assert len(view.stages) == 1
    (stage,) = view.stages
    assert stage.in_final_image and stage.base == "golang:1.24-alpine"
    assert [s.step for s in stage.steps] == list(range(1, 10))
    assert {s.keyword: s.size for s in stage.steps if s.metadata_only} == {"ENV": 0, "EXPOSE": 0, "CMD": 0}
    assert view.final_image_size == sum(s.size or 0 for s in record.ordered)
    assert view.left_behind_size == 0


def test_race_rows_and_bars() -> None:
    rows = race_rows([("multi-stage", 10_100_000), ("single-stage", 330_000_000)], ("static binary", 8_200_000))
    assert [r.label for r in rows] == ["single-stage", "multi-stage", "static binary"]
    assert rows[0].multiple == pytest.approx(330 / 8.2) and rows[0].mb == pytest.approx(330.0)
    assert rows[-1].is_floor and rows[-1].multiple == 1.0
    for width in (30, 60, 100):
        lines = render_bars(rows, width)
        assert len(lines) == 3 and all(len(line) <= width for line in lines)
        bars = [line.count("█") for line in lines]
        assert bars[0] > bars[1] >= bars[2]
        assert "40×" in lines[0] and "1.0×" in lines[2]
    wide = render_bars(rows, 100)
    assert any(c in wide[2] for c in "█▏▎▍▌▋▊▉")  # the floor, 40 times smaller, still shows
    with pytest.raises(MeasureError):
        race_rows([("x", 1)], ("floor", 0))


def test_bars_are_to_scale() -> None:
    rows = race_rows([("half", 50), ("full", 100)], ("floor", 25))
    full, half, floor = render_bars(rows, 60)

    def eighths(line: str) -> int:
        partial = next((" ▏▎▍▌▋▊▉".index(c) for c in line if c in "▏▎▍▌▋▊▉"), 0)
        return 8 * line.count("█") + partial

    assert eighths(full) == 2 * eighths(half) == 4 * eighths(floor) > 0
