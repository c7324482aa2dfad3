"""Offline image bundles: the course's base images in one file, for rooms without a registry.

``tutor images save FILE`` streams each image out of the engine (``docker save``,
one ``get_image`` per image) and merges the archives into ONE archive in the
``docker save`` format, so ``tutor images load FILE`` and plain
``docker load -i FILE`` both read it.  Layers the images share are stored once.
A small ``tutor-bundle.json`` comes first in the archive: which images, their
ids, and whether they are offline stand-ins, so a seat can tell what a bundle
holds without reading 240 MB.

Nothing is held in memory: archives stream from the engine to the disk and from
the disk to the engine.  A bundle is written beside its destination and renamed
into place when complete, so a half-written bundle never looks like one.
"""

from __future__ import annotations

import io
import json
import shutil
import sys
import tarfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

from docker.errors import APIError, DockerException, ImageNotFound
from requests.exceptions import RequestException

from tutor import __version__, atomic
from tutor.engine import baseimages
from tutor.engine import labels as tl

META_NAME = "tutor-bundle.json"
FORMAT = 1
# Files of a `docker save` archive that describe every image: merged, not copied.
_MERGED = ("manifest.json", "repositories", "index.json")
TRANSFER_TIMEOUT = 900  # seconds without data before giving up (a slow USB stick, a busy engine)
CHUNK = 1 << 20


class BundleError(Exception):
    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix


@dataclass(frozen=True)
class BundleImage:
    name: str  # "golang:1.24-alpine"
    id: str | None  # "sha256:..."
    size: int | None
    standin: str | None  # the stand-in's note, None for a pulled image (or unknown)
    # What identifies an image on any store: its layers' content digests (RootFS.Layers). The id
    # does not: the classic store names an image by its config, the containerd store by its manifest.
    layers: tuple[str, ...] = ()


@dataclass(frozen=True)
class BundleInfo:
    images: tuple[BundleImage, ...]
    created: str | None = None
    tutor_version: str | None = None
    from_tutor: bool = True  # False: a plain `docker save` archive

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(image.name for image in self.images)


def _mb(size: int | None) -> str:
    return f"{(size or 0) / 1e6:.1f} MB"


def _api_text(exc: Exception) -> str:
    explanation = getattr(exc, "explanation", None)
    if isinstance(explanation, bytes):
        explanation = explanation.decode("utf-8", "replace")
    return str(explanation or exc).strip()


class _ChunkReader(io.RawIOBase):
    """A file-like view of the engine's chunk generator (memoryview slices: no copying per read)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._view = memoryview(b"")
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._view:
            try:
                self._view = memoryview(next(self._chunks))
            except StopIteration:
                return 0
        n = min(len(buffer), len(self._view))
        buffer[:n] = self._view[:n]
        self._view = self._view[n:]
        self.bytes_read += n
        return n


class _TransferTimeout:
    """Lift the client's per-read timeout while an archive streams."""

    def __init__(self, api, seconds: int) -> None:
        self.api, self.seconds = api, seconds

    def __enter__(self) -> None:
        self.previous = self.api.timeout
        self.api.timeout = self.seconds

    def __exit__(self, *exc: object) -> None:
        self.api.timeout = self.previous


def _json_member(name: str, data: Any) -> tuple[tarfile.TarInfo, io.BytesIO]:
    raw = json.dumps(data, indent=1).encode("utf-8")
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(raw), 0o644, int(time.time())
    return info, io.BytesIO(raw)


def _merge(kind: str, into: dict[str, Any], data: Any) -> None:
    if kind == "manifest.json" and isinstance(data, list):
        into.setdefault(kind, []).extend(data)
    elif kind == "repositories" and isinstance(data, dict):
        repos = into.setdefault(kind, {})
        for repo, tags in data.items():
            repos.setdefault(repo, {}).update(tags if isinstance(tags, dict) else {})
    elif kind == "index.json" and isinstance(data, dict):
        if kind not in into:
            into[kind] = {**data, "manifests": list(data.get("manifests") or [])}
        else:
            into[kind]["manifests"].extend(data.get("manifests") or [])


def _describe(api, name: str) -> BundleImage:
    try:
        data = api.inspect_image(name)
    except ImageNotFound:
        raise BundleError(
            f"{name} is not on the engine, so it cannot go into the bundle",
            "make it first: `tutor images pull` (with a registry) or `tutor images stand-in` (offline)",
        ) from None
    image_labels = (data.get("Config") or {}).get("Labels") or {}
    standin = image_labels.get(tl.STANDIN_NOTE) or ("offline stand-in" if tl.STANDIN in image_labels else None)
    return BundleImage(name, data.get("Id"), data.get("Size"), standin, _layers_of(data))


def _layers_of(inspect: dict[str, Any]) -> tuple[str, ...]:
    return tuple(str(d) for d in (inspect.get("RootFS") or {}).get("Layers") or ())


def _on_engine(api, image: BundleImage) -> bool:
    """Whether the engine holds this very image under its name (same layers; same id for old bundles)."""
    try:
        data = api.inspect_image(image.name)
    except (APIError, DockerException, RequestException):
        return False
    if image.layers:
        return _layers_of(data) == image.layers
    return bool(image.id) and data.get("Id") == image.id


def save_bundle(api, dest: Path, names: Iterable[str] = baseimages.COURSE_BASE_IMAGES) -> Iterator[str]:
    """Write ``names`` into one archive at ``dest``, yielding progress lines; BundleError on failure."""
    dest = Path(dest).expanduser()
    names = tuple(dict.fromkeys(names))
    if not dest.parent.is_dir():
        raise BundleError(f"no folder {dest.parent} to write the bundle into", "create it, or give another path")
    images = [_describe(api, name) for name in names]
    need = sum(image.size or 0 for image in images)
    free = shutil.disk_usage(dest.parent).free
    if free < need * 1.05:
        raise BundleError(f"the bundle needs about {_mb(need)} but {dest.parent} has {_mb(free)} free", "free some space or write it elsewhere")
    meta = {
        "format": FORMAT,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "tutor_version": __version__,
        "images": [asdict(image) for image in images],
    }
    merged: dict[str, Any] = {}
    written: set[str] = set()
    with atomic.replacing(dest, suffix=".part") as fh:  # a bundle is there whole, or not at all
        with tarfile.open(fileobj=fh, mode="w", format=tarfile.PAX_FORMAT) as out:
            out.addfile(*_json_member(META_NAME, meta))
            for image in images:
                kind = image.standin if image.standin else "pulled image"
                yield f"{image.name}: saving {_mb(image.size)} ({kind}) ..."
                started = time.monotonic()
                with _TransferTimeout(api, TRANSFER_TIMEOUT):
                    try:
                        reader = _ChunkReader(api.get_image(image.name, chunk_size=CHUNK))
                        _copy_archive(io.BufferedReader(reader, CHUNK), out, merged, written)
                    except (APIError, DockerException, RequestException) as exc:
                        raise BundleError(f"the engine could not export {image.name}: {_api_text(exc)}") from exc
                    except tarfile.TarError as exc:
                        raise BundleError(f"the engine's archive of {image.name} is damaged: {exc}") from exc
                yield f"{image.name}: {_mb(reader.bytes_read)} streamed in {time.monotonic() - started:.1f} s"
            for kind in _MERGED:
                if kind in merged:
                    out.addfile(*_json_member(kind, merged[kind]))
            if "manifest.json" not in merged:
                raise BundleError("the engine's archives have no manifest.json: not a `docker save` archive")
    yield (
        f"bundle written: {dest} ({_mb(dest.stat().st_size)}, {len(images)} images). On each seat: "
        f"`tutor images load {dest.name}` (or `docker load -i {dest.name}`)"
    )


def _copy_archive(stream, out: tarfile.TarFile, merged: dict[str, Any], written: set[str]) -> None:
    with tarfile.open(fileobj=stream, mode="r|") as archive:
        for member in archive:
            name = member.name.removeprefix("./")
            if name in _MERGED:
                handle = archive.extractfile(member)
                _merge(name, merged, json.load(handle) if handle else None)
            elif name in written:
                continue  # a layer (or blob) the images share: content-addressed, stored once
            elif member.isfile():
                out.addfile(member, archive.extractfile(member))
                written.add(name)
            else:
                out.addfile(member)
                written.add(name)


# -- loading ------------------------------------------------------------------------------------------


def _not_a_bundle(path: Path, why: str) -> BundleError:
    return BundleError(f"{path} is not an image bundle ({why})", "make one with `tutor images save FILE` (or `docker save`)")


def read_bundle_info(path: Path) -> BundleInfo:
    """What a bundle holds: read from its first member, or from manifest.json of a plain `docker save`."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise BundleError(f"no bundle at {path}", "check the path (is the USB stick mounted?)")
    try:
        with tarfile.open(path, mode="r|") as archive:
            for index, member in enumerate(archive):
                if index == 0 and member.name == META_NAME:
                    return _info_from_meta(path, _member_json(archive, member))
                if member.name == "manifest.json":
                    return _info_from_manifest(path, _member_json(archive, member))
    except (tarfile.TarError, EOFError) as exc:
        raise _not_a_bundle(path, f"not a complete tar archive: {exc}") from None
    except (ValueError, TypeError, KeyError) as exc:
        raise _not_a_bundle(path, f"its description is damaged: {exc}") from None
    except OSError as exc:
        raise BundleError(f"cannot read {path}: {exc.strerror or exc}") from None
    raise _not_a_bundle(path, "it has no manifest.json")


def _member_json(archive: tarfile.TarFile, member: tarfile.TarInfo) -> Any:
    data = archive.extractfile(member)
    if data is None:  # a directory or a link where a file belongs
        raise tarfile.TarError(f"{member.name} is not a file")
    return json.load(data)


def _info_from_meta(path: Path, data: dict[str, Any]) -> BundleInfo:
    if data.get("format") != FORMAT:
        raise _not_a_bundle(path, f"bundle format {data.get('format')!r}; this tutor reads format {FORMAT}")
    images = tuple(
        BundleImage(i["name"], i.get("id"), i.get("size"), i.get("standin"), tuple(i.get("layers") or ()))
        for i in data["images"]
    )
    return BundleInfo(images, data.get("created"), data.get("tutor_version"), True)


def _info_from_manifest(path: Path, data: list[dict[str, Any]]) -> BundleInfo:
    names = [tag for entry in data for tag in entry.get("RepoTags") or ()]
    if not names:
        raise _not_a_bundle(path, "its images have no names (saved by id?)")
    return BundleInfo(tuple(BundleImage(n, None, None, None) for n in names), from_tutor=False)


def load_bundle(api, src: Path) -> Iterator[str]:
    """Load a bundle into the engine, yielding progress lines; BundleError on failure.

    A real (pulled) image on the engine is never replaced by a bundle's stand-in;
    images already there with the same id are not loaded again.
    """
    src = Path(src).expanduser()
    info = read_bundle_info(src)
    made = f", made {info.created}" if info.created else ""
    kind = "bundle" if info.from_tutor else "docker save archive"
    yield f"{kind} {src.name}: {', '.join(info.names)} ({_mb(src.stat().st_size)}{made})"
    before = {s.name: s for s in baseimages.status(api, info.names)}
    for image in info.images:
        here = before[image.name]
        if image.standin and here.state == "present":
            raise BundleError(
                f"the engine has the real {image.name}; the bundle holds an offline stand-in, and loading it "
                "would replace the real image: nothing was loaded",
                "keep the real images (nothing to do), or load a bundle saved from pulled images",
            )
    if info.from_tutor and all(_on_engine(api, image) for image in info.images):
        yield "every image of the bundle is on the engine already: nothing to load"
        return
    started = time.monotonic()
    yield "loading into the engine ..."
    try:
        with open(src, "rb") as fh, _TransferTimeout(api, TRANSFER_TIMEOUT):
            for item in api.load_image(fh):
                if not isinstance(item, dict):
                    continue
                error = item.get("error") or (item.get("errorDetail") or {}).get("message")
                if error or ("message" in item and "stream" not in item):
                    raise BundleError(f"the engine refused the bundle: {error or item['message']}")
                text = str(item.get("stream") or "").strip()
                if text:
                    yield text
    except (APIError, DockerException, RequestException) as exc:
        raise BundleError(f"the engine refused the bundle: {_api_text(exc)}") from exc
    except OSError as exc:
        raise BundleError(f"cannot read {src}: {exc.strerror or exc}") from exc
    after = baseimages.status(api, info.names)
    for status, image in zip(after, info.images):
        if status.state == "missing" or (info.from_tutor and not _on_engine(api, image)):
            raise BundleError(f"{image.name} is not on the engine after the load", "run `tutor doctor`, then try again")
        note = f" ({status.note})" if status.note else ""
        yield f"{status.name}: {status.state}{note}"
    yield f"loaded in {time.monotonic() - started:.1f} s"


# -- the command ------------------------------------------------------------------------------------------


def run_command(action: str, file: str, engine: str | None = None, out: TextIO = sys.stdout) -> int:
    """`tutor images save FILE` / `tutor images load FILE`."""
    from tutor.engine.client import EngineUnavailable, connect

    try:
        api = connect(engine)
    except EngineUnavailable as exc:
        print(f"error: {exc.problem.reason}\nfix: {exc.problem.fix}", file=out)
        return 2
    try:
        steps = save_bundle(api, Path(file)) if action == "save" else load_bundle(api, Path(file))
        for line in steps:
            print(line, file=out, flush=True)
    except BundleError as exc:
        print(f"error: {exc.message}", file=out)
        if exc.fix:
            print(f"fix: {exc.fix}", file=out)
        return 1
    finally:
        api.close()
    return 0
