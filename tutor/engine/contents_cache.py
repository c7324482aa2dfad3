"""What the layer viewer read from an image export, kept on disk by image id.

An image id is a content address: the files of its layers never change, so reading the export
once (seconds for a 300 MB image) is enough; opening the same image again, in this process or
the next, reads a small JSON file instead. Which step image made each layer is the engine's
knowledge, not the content's: it is left out here and asked again on each open (one history).

At most ``MAX_FILES`` images and ``MAX_BYTES`` are kept under the cache dir; the ones opened
least recently go first.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from tutor import atomic, paths
from tutor.engine.layer_contents import ImageContents, LayerContents, LayerFile, WastedFile

MAX_FILES = 16
MAX_BYTES = 128 << 20
FORMAT = 1  # bump when ImageContents changes shape: older files are then read as missing
_HEX_RE = re.compile(r"^[0-9a-f]{12,64}$")


def _folder() -> Path:
    return paths.cache_dir() / "layer-contents"


def _path(image_id: str) -> Path | None:
    hexa = image_id.split(":", 1)[-1].lower()
    return _folder() / f"{hexa}.json" if _HEX_RE.match(hexa) else None


def _files(items: tuple[LayerFile, ...]) -> list[list[Any]]:
    return [[f.path, f.size, f.kind] for f in items]


def _to_json(contents: ImageContents) -> str:
    layers = [
        {
            "index": layer.index,
            "digest": layer.digest,
            "created_by": layer.created_by,
            "size": layer.size,
            "added": _files(layer.added),
            "changed": _files(layer.changed),
            "removed": _files(layer.removed),
            "opaque_dirs": list(layer.opaque_dirs),
            "wasted": [[w.path, w.size, w.layer, w.by_layer] for w in layer.wasted],
        }
        for layer in contents.layers
    ]
    doc = {
        "format": FORMAT,
        "layout": contents.layout,
        "history_layers": list(contents.history_layers),
        "layers": layers,
    }
    return json.dumps(doc, separators=(",", ":"))


def _from_json(text: str, image: str) -> ImageContents | None:
    doc = json.loads(text)
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        return None
    layers = tuple(
        LayerContents(
            index=int(item["index"]),
            digest=str(item["digest"]),
            created_by=str(item["created_by"]),
            image_id=None,
            size=int(item["size"]),
            added=tuple(LayerFile(p, s, k) for p, s, k in item["added"]),
            changed=tuple(LayerFile(p, s, k) for p, s, k in item["changed"]),
            removed=tuple(LayerFile(p, s, k) for p, s, k in item["removed"]),
            opaque_dirs=tuple(item["opaque_dirs"]),
            wasted=tuple(WastedFile(p, s, layer, by) for p, s, layer, by in item["wasted"]),
        )
        for item in doc["layers"]
    )
    return ImageContents(image, str(doc["layout"]), layers, tuple(bool(x) for x in doc["history_layers"]))


def _find(image_id: str) -> Path | None:
    path = _path(image_id)
    if path is None or path.exists() or len(path.stem) == 64:
        return path
    return next(iter(sorted(_folder().glob(f"{path.stem}*.json"))), None)  # a short id: its full name


def load(image_id: str, image: str) -> ImageContents | None:
    """The contents read before for ``image_id`` (full or short; named ``image`` now), or None."""
    path = _find(image_id)
    if path is None:
        return None
    try:
        text = path.read_text(encoding="utf-8")
        found = _from_json(text, image)
    except (OSError, ValueError, KeyError, TypeError):
        return None  # missing, or damaged: read the export again
    if found is not None:
        try:
            os.utime(path)  # opened now: the last to go
        except OSError:
            pass
    return found


def store(image_id: str, contents: ImageContents) -> None:
    """Keep ``contents`` for the next open; a disk that refuses only costs the next open time."""
    path = _path(image_id)
    if path is None:
        return
    try:
        atomic.write_text(path, _to_json(contents))
        _trim()
    except OSError:
        pass


def _trim() -> None:
    kept = sorted(_folder().glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    total = 0
    for n, path in enumerate(kept):
        total += path.stat().st_size
        if n >= MAX_FILES or total > MAX_BYTES:
            path.unlink(missing_ok=True)
