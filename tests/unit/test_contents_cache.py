"""The layer viewer's cache: what an export said, kept by image id and bounded."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

from tutor.engine import contents_cache
from tutor.engine.layer_contents import read_export


def test_a_stored_reading_comes_back_the_same_under_its_full_or_short_id(tutor_home: Path):
    contents = _sample()
    image_id = "sha256:" + "ab" * 32
    contents_cache.store(image_id, contents)
    assert contents_cache.load(image_id, contents.image) == contents
    assert contents_cache.load("abababababab", "other-name") == contents.__class__(
        "other-name", contents.layout, contents.layers, contents.history_layers
    )
    assert contents_cache.load("sha256:" + "cd" * 32, "x") is None


def test_a_damaged_file_is_read_as_missing_and_the_cache_stays_bounded(tutor_home: Path, monkeypatch):
    contents = _sample()
    contents_cache.store("ef" * 32, contents)
    (tutor_home / "cache" / "layer-contents" / f"{'ef' * 32}.json").write_text("{not json")
    assert contents_cache.load("ef" * 32, "x") is None
    monkeypatch.setattr(contents_cache, "MAX_FILES", 3)
    for n in range(6):
        contents_cache.store(f"{n:02x}" * 32, contents)
        os.utime(tutor_home / "cache" / "layer-contents" / f"{f'{n:02x}' * 32}.json", (n + 10, n + 10))
    contents_cache.store("ff" * 32, contents)
    left = sorted(p.stem[:2] for p in (tutor_home / "cache" / "layer-contents").glob("*.json"))
    assert len(left) == 3 and "ff" in left and "05" in left


def _sample():
    """A two-layer docker-save export: a file, then its removal."""

    def layer(files: dict[str, bytes]) -> bytes:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            for name, data in files.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        return buf.getvalue()

    import json

    layers = [layer({"app/big": b"x" * 1000, "app/keep": b"k"}), layer({"app/.wh.big": b""})]
    config = {
        "rootfs": {"diff_ids": ["sha256:1", "sha256:2"]},
        "history": [{"created_by": "COPY"}, {"created_by": "RUN rm"}],
    }
    outer = io.BytesIO()
    with tarfile.open(fileobj=outer, mode="w") as tar:
        for name, data in {
            "l1/layer.tar": layers[0],
            "l2/layer.tar": layers[1],
            "config.json": json.dumps(config).encode(),
            "manifest.json": json.dumps(
                [{"Config": "config.json", "Layers": ["l1/layer.tar", "l2/layer.tar"]}]
            ).encode(),
        }.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    outer.seek(0)
    contents = read_export(outer, "sample")
    assert contents.layers[0].wasted and contents.layers[1].removed
    return contents
