"""What is inside each layer: the files a step added, changed and removed, and wasted space.

Read from the engine's image export (``api.get_image``: a tar), streamed so a
300 MB image never sits in memory: only each layer's file *listing* is kept.
Two export layouts exist and both are read:

* the docker-save layout of older engines: ``manifest.json`` + ``<id>/layer.tar``;
* the OCI image layout of newer engines and the containerd image store:
  ``index.json`` + ``blobs/sha256/<digest>`` (layers possibly gzip-compressed),
  sometimes with a ``manifest.json`` beside it.

Layers map to Dockerfile steps through the image history: only steps that made
a layer (``empty_layer`` false) have one; metadata steps (ENV, CMD...) have none.

Also here: the stages of a build, grouped for the layers pane (:func:`stage_groups`).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import posixpath
import threading
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from tutor.engine import tar_listing
from tutor.engine.record import BuildRecord, StepState
from tutor.engine.tar_listing import Bounded, ChunkStream, Gunzip, TarFormatError

if TYPE_CHECKING:
    import docker

DOCKER_SAVE, OCI = "docker-save", "oci"
WHITEOUT, OPAQUE = ".wh.", ".wh..wh..opq"
_JSON_LIMIT = 16 << 20  # manifests and configs are small; anything bigger is a layer or noise
_GZIP, _ZSTD = b"\x1f\x8b", b"\x28\xb5\x2f\xfd"
# Instructions that only change the image's configuration: they never add bytes.
METADATA_KEYWORDS = frozenset(
    {"ENV", "EXPOSE", "CMD", "ENTRYPOINT", "LABEL", "ARG", "USER", "VOLUME", "STOPSIGNAL", "HEALTHCHECK",
     "SHELL", "ONBUILD", "MAINTAINER"}
)


class ExportError(Exception):
    """The image export could not be read; the message says why."""


@dataclass(frozen=True)
class LayerFile:
    path: str  # absolute: "/app/go.mod"
    size: int  # bytes; for a removed path, the bytes it hid
    kind: str  # file | dir | symlink | hardlink | other


@dataclass(frozen=True)
class WastedFile:
    path: str
    size: int
    layer: int  # the layer holding these bytes
    by_layer: int  # the later layer that overwrote or deleted them


@dataclass(frozen=True)
class LayerContents:
    index: int  # 0-based position in the image
    digest: str  # the layer's diff id (sha256 of its uncompressed tar)
    created_by: str  # the history line, e.g. "/bin/sh -c #(nop) COPY file:... in ./"
    image_id: str | None  # the step image this layer completes (12 hex), when the engine knows it
    size: int  # bytes of the files in the layer
    added: tuple[LayerFile, ...]  # biggest first; folders are left out
    changed: tuple[LayerFile, ...]  # paths a lower layer had: the whole file is stored again
    removed: tuple[LayerFile, ...]  # whiteouts; size is what they hid
    opaque_dirs: tuple[str, ...]  # folders whose lower contents this layer hides
    wasted: tuple[WastedFile, ...]  # this layer's files that later layers overwrite or delete

    @property
    def wasted_bytes(self) -> int:
        return sum(w.size for w in self.wasted)


@dataclass(frozen=True)
class ImageContents:
    image: str
    layout: str  # docker-save | oci
    layers: tuple[LayerContents, ...]
    # For each history entry of the image config, oldest first: did that step make a layer?
    history_layers: tuple[bool, ...] = ()

    @property
    def total_bytes(self) -> int:
        return sum(layer.size for layer in self.layers)

    @property
    def wasted_bytes(self) -> int:
        return sum(layer.wasted_bytes for layer in self.layers)

    def layer_for_image(self, step_image_id: str) -> LayerContents | None:
        """The layer a step made, by the step's image id (as the build stream names it)."""
        key = step_image_id.split(":", 1)[-1][:12]
        for layer in self.layers:
            if layer.image_id and layer.image_id[:12] == key:
                return layer
        return None

    def layer_for_step(self, record: BuildRecord, step: int) -> LayerContents | None:
        """The layer of a step of ``record``; None for metadata-only steps (they make none)."""
        state = record.steps.get(step)
        if state is None or not state.image_id:
            return None
        return self.layer_for_image(state.image_id)

    def find(self, path: str) -> LayerFile | None:
        """A file as the final image has it (the topmost layer that stores it)."""
        path = "/" + path.lstrip("/")
        for layer in reversed(self.layers):
            for f in layer.added + layer.changed:
                if f.path == path:
                    return f
            hidden = [r.path for r in layer.removed] + list(layer.opaque_dirs)
            if any(path == h or path.startswith(h + "/") for h in hidden):
                return None
        return None


# -- reading an export --------------------------------------------------------------------------


_Entry = tuple[str, int, str]  # (path without leading "/", size, kind)


def _clean(name: str) -> str:
    name = posixpath.normpath("/" + name).lstrip("/")
    return "" if name == "." else name


def _list_layer(stream: Bounded | Gunzip, first_block: bytes | None = None) -> list[_Entry]:
    """The entries of a layer tar, read as a stream: headers only, contents skipped."""
    entries: list[_Entry] = []
    for member in tar_listing.members(stream, first_block=first_block):
        path = _clean(member.name)
        if path:
            entries.append((path, member.size, member.kind))
    return entries


def _looks_like_tar(head: bytes) -> bool:
    return head[257:262] == b"ustar" or (len(head) >= 512 and not head.strip(b"\0"))


def read_export(source: IO[bytes] | Iterable[bytes], image: str = "") -> ImageContents:
    """Read an image export (either layout) from a file or an iterator of chunks."""
    if hasattr(source, "read"):
        fileobj = source
        chunks: Iterable[bytes] = iter(lambda: fileobj.read(1 << 20), b"")
    else:
        chunks = source
    docs: dict[str, Any] = {}
    listings: dict[str, list[_Entry]] = {}
    aliases: dict[str, str] = {}
    problems: list[str] = []

    def read_member(member: tar_listing.Member, reader: Bounded) -> None:
        name = _clean(member.name)
        head = reader.read(512)
        if head[:2] == _GZIP:
            listings[name] = _list_layer(Gunzip(itertools.chain([head], reader.chunks())))
        elif len(head) == 512 and _looks_like_tar(head):
            listings[name] = _list_layer(reader, first_block=head)
        elif head[:4] == _ZSTD:
            problems.append(f"{name}: zstd-compressed layer (not supported)")
        elif member.size <= _JSON_LIMIT and head.lstrip()[:1] in (b"{", b"["):
            try:
                docs[name] = json.loads(head + reader.read(reader.left))
            except ValueError:
                pass
        elif member.size == 0:
            listings[name] = []

    try:
        for member in tar_listing.members(ChunkStream(chunks), read_member):
            name = _clean(member.name)
            if member.kind == "symlink":
                aliases[name] = _clean(posixpath.join(posixpath.dirname(name), member.linkname))
            elif member.kind == "hardlink":
                aliases[name] = _clean(member.linkname)
    except (TarFormatError, zlib.error, ValueError, OSError, EOFError) as exc:
        raise ExportError(f"The image export of {image or 'the image'} could not be read: {exc}") from exc
    layout, config, layer_names = _manifest(docs, image)
    entries = []
    for layer_name in layer_names:
        resolved = layer_name
        for _ in range(8):  # follow links between layer files (docker save links duplicates)
            if resolved in listings or resolved not in aliases:
                break
            resolved = aliases[resolved]
        if resolved not in listings:
            extra = f" ({'; '.join(problems)})" if problems else ""
            raise ExportError(f"The image export of {image or 'the image'} lacks the layer {layer_name}{extra}.")
        entries.append(listings[resolved])
    return _analyse(image, layout, config, entries)


def _blob(digest: str) -> str:
    algorithm, _, hexa = digest.partition(":")
    return f"blobs/{algorithm}/{hexa}"


def _manifest(docs: dict[str, Any], image: str) -> tuple[str, dict[str, Any], list[str]]:
    """(layout, image config, layer file names in order) from whichever layout the export has."""
    layout = OCI if "index.json" in docs else DOCKER_SAVE
    manifest = docs.get("manifest.json")
    if isinstance(manifest, list) and manifest and isinstance(manifest[0], dict):
        entry = manifest[0]
        config = docs.get(_clean(entry.get("Config", "")))
        if isinstance(config, dict):
            return layout, config, [_clean(p) for p in entry.get("Layers", [])]
    index = docs.get("index.json")
    for _ in range(4):  # an index may point at another index (one per platform)
        if not isinstance(index, dict) or not index.get("manifests"):
            break
        target = docs.get(_blob(index["manifests"][0].get("digest", "")))
        if isinstance(target, dict) and "layers" in target:
            config = docs.get(_blob(target.get("config", {}).get("digest", "")))
            if isinstance(config, dict):
                return OCI, config, [_blob(layer["digest"]) for layer in target["layers"]]
            break
        index = target
    raise ExportError(
        f"The export of {image or 'the image'} is neither a docker-save archive (manifest.json) "
        "nor an OCI image layout (index.json)."
    )


def _analyse(image: str, layout: str, config: dict[str, Any], layers: list[list[_Entry]]) -> ImageContents:
    diff_ids = list((config.get("rootfs") or {}).get("diff_ids") or [])
    history = [h for h in config.get("history") or [] if not h.get("empty_layer")]
    created = [str(h.get("created_by") or "") for h in history] if len(history) == len(layers) else [""] * len(layers)

    # Bottom-up: what each layer added, changed and removed against the layers below it.
    visible: dict[str, tuple[int, str]] = {}
    parts: list[tuple[list[LayerFile], list[LayerFile], list[LayerFile], list[str]]] = []
    for entries in layers:
        added: list[LayerFile] = []
        changed: list[LayerFile] = []
        removed: list[LayerFile] = []
        opaque: list[str] = []
        for path, _size, _kind in entries:
            base = posixpath.basename(path)
            folder = posixpath.dirname(path)
            if base == OPAQUE:
                opaque.append("/" + folder)
                _hide(visible, folder, keep_self=True)
            elif base.startswith(WHITEOUT):
                target = posixpath.join(folder, base[len(WHITEOUT):])
                kind = visible.get(target, (0, "file"))[1]
                removed.append(LayerFile("/" + target, _hide(visible, target), kind))
        for path, size, kind in entries:
            base = posixpath.basename(path)
            if base.startswith(WHITEOUT):
                continue
            if kind != "dir":
                (changed if path in visible and visible[path][1] != "dir" else added).append(
                    LayerFile("/" + path, size, kind)
                )
            visible[path] = (size, kind)
        parts.append((added, changed, removed, opaque))

    # Top-down: bytes of a layer that a later layer overwrites or deletes are wasted.
    later_paths: dict[str, int] = {}
    later_dirs: dict[str, int] = {}
    wasted_by_layer: list[list[WastedFile]] = [[] for _ in layers]
    for i in range(len(layers) - 1, -1, -1):
        for path, size, kind in layers[i]:
            if kind == "dir" or posixpath.basename(path).startswith(WHITEOUT):
                continue
            by = later_paths.get(path)
            for ancestor in _ancestors(path):
                hit = later_dirs.get(ancestor)
                if hit is not None and (by is None or hit < by):
                    by = hit
            if by is not None and size:
                wasted_by_layer[i].append(WastedFile("/" + path, size, i, by))
        for path, _size, kind in layers[i]:
            base = posixpath.basename(path)
            if base == OPAQUE:
                later_dirs[posixpath.dirname(path)] = i
            elif base.startswith(WHITEOUT):
                target = posixpath.join(posixpath.dirname(path), base[len(WHITEOUT):])
                later_paths[target] = i
                later_dirs[target] = i
            elif kind != "dir":
                later_paths[path] = i

    result = []
    for i, (added, changed, removed, opaque) in enumerate(parts):
        result.append(
            LayerContents(
                index=i,
                digest=str(diff_ids[i]) if i < len(diff_ids) else "",
                created_by=created[i],
                image_id=None,
                size=sum(size for _p, size, _k in layers[i]),
                added=tuple(sorted(added, key=_biggest)),
                changed=tuple(sorted(changed, key=_biggest)),
                removed=tuple(sorted(removed, key=_biggest)),
                opaque_dirs=tuple(opaque),
                wasted=tuple(sorted(wasted_by_layer[i], key=lambda w: (-w.size, w.path))),
            )
        )
    made = tuple(not h.get("empty_layer") for h in config.get("history") or [])
    return ImageContents(image, layout, tuple(result), made)


def _biggest(f: LayerFile) -> tuple[int, str]:
    return (-f.size, f.path)


def _ancestors(path: str) -> Iterator[str]:
    while "/" in path:
        path = path.rsplit("/", 1)[0]
        yield path


def _hide(visible: dict[str, tuple[int, str]], target: str, keep_self: bool = False) -> int:
    """Remove ``target`` and everything under it from ``visible``; the bytes it held."""
    prefix = target + "/"
    gone = [p for p in visible if p.startswith(prefix) or (p == target and not keep_self)]
    total = 0
    for p in gone:
        total += visible.pop(p)[0]
    return total


# -- from the engine ----------------------------------------------------------------------------

_cache: dict[tuple[str, str], ImageContents] = {}
_cache_lock = threading.Lock()
_CACHE_SIZE = 4


def _engine(api: docker.APIClient) -> str:
    return str(getattr(getattr(api, "_custom_adapter", None), "socket_path", None) or getattr(api, "base_url", ""))


def image_contents(api: docker.APIClient, image: str) -> ImageContents:
    """The layers of ``image`` on the engine, each mapped to the step image that made it.

    Image ids are content addresses, so what an export said is kept by id: a few images in
    memory, more on disk (tutor.engine.contents_cache); only the first open reads the export."""
    from tutor.engine import contents_cache

    try:
        image_id = api.inspect_image(image)["Id"]
    except Exception as exc:
        raise ExportError(f"No image {image} on the engine: {exc}") from exc
    key = (_engine(api), image_id)
    with _cache_lock:
        if key in _cache:
            return dataclasses.replace(_cache[key], image=image)
    contents = contents_cache.load(image_id, image)
    try:
        if contents is None:
            contents = read_export(api.get_image(image_id, chunk_size=1 << 20), image)
            contents_cache.store(image_id, contents)
        history = api.history(image_id)
    except ExportError:
        raise
    except Exception as exc:
        raise ExportError(f"The engine could not export {image}: {exc}") from exc
    contents = _with_step_ids(contents, history)
    with _cache_lock:
        if len(_cache) >= _CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
        _cache[key] = contents
    return contents


def _with_step_ids(contents: ImageContents, history: list[dict[str, Any]]) -> ImageContents:
    """Attach to each layer the id of the step image that made it.

    The engine's history (newest first) has one entry per history entry of the config, with
    the step image's id; the config says which entries made a layer."""
    entries = list(reversed(history))
    if len(entries) != len(contents.history_layers):
        return contents
    ids = [str(e.get("Id") or "") for e, made in zip(entries, contents.history_layers) if made]
    if len(ids) != len(contents.layers):
        return contents
    layers = tuple(
        dataclasses.replace(layer, image_id=(i.split(":", 1)[-1][:12] if i and i != "<missing>" else None))
        for layer, i in zip(contents.layers, ids)
    )
    return dataclasses.replace(contents, layers=layers)


# -- stages of a build --------------------------------------------------------------------------


@dataclass(frozen=True)
class StepLayer:
    step: int
    instruction: str
    keyword: str
    status: str  # cached | built | failed | running | waiting
    size: int | None  # bytes its layer adds (FROM: the whole base image); None when unknown
    metadata_only: bool  # changes only the image config: 0 B, no layer
    image_id: str | None


@dataclass(frozen=True)
class StageGroup:
    index: int
    name: str | None  # "builder" for `FROM ... AS builder`
    steps: tuple[StepLayer, ...]
    in_final_image: bool  # only the last stage becomes the image; earlier stages are left behind
    base: str | None  # the image or stage FROM names

    @property
    def base_size(self) -> int:
        return sum(s.size or 0 for s in self.steps if s.keyword == "FROM")

    @property
    def layers_size(self) -> int:
        """Bytes the stage's own steps add on top of its base."""
        return sum(s.size or 0 for s in self.steps if s.keyword != "FROM")

    @property
    def total_size(self) -> int:
        return self.base_size + self.layers_size


@dataclass(frozen=True)
class StagesView:
    stages: tuple[StageGroup, ...]

    @property
    def final(self) -> StageGroup | None:
        return next((g for g in self.stages if g.in_final_image), None)

    @property
    def final_image_size(self) -> int:
        final = self.final
        return final.total_size if final else 0

    @property
    def left_behind_size(self) -> int:
        """Bytes of the stages that do not reach the final image (what multi-stage saves)."""
        return sum(g.total_size for g in self.stages if not g.in_final_image)


def stage_groups(record: BuildRecord) -> StagesView:
    """The build's steps grouped by stage, with each step's layer size."""
    grouped: dict[int, list[StepState]] = {}
    for state in record.ordered:
        grouped.setdefault(state.stage, []).append(state)
    with_from = [i for i, states in grouped.items() if any(s.is_from for s in states)]
    final = max(with_from) if with_from else None
    groups = []
    for index in sorted(grouped):
        states = grouped[index]
        first = next((s for s in states if s.is_from), None)
        base = first.instruction.split()[1] if first is not None and len(first.instruction.split()) > 1 else None
        steps = tuple(
            StepLayer(
                step=s.step,
                instruction=s.instruction,
                keyword=s.keyword,
                status=s.status,
                size=0 if s.keyword in METADATA_KEYWORDS else s.size,
                metadata_only=s.keyword in METADATA_KEYWORDS,
                image_id=s.image_id,
            )
            for s in states
        )
        name = next((s.stage_name for s in states if s.stage_name), None)
        groups.append(StageGroup(index, name, steps, index == final, base))
    return StagesView(tuple(groups))
