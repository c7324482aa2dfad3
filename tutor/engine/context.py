"""The build context: which files the engine receives, honouring .dockerignore."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from docker.api.build import process_dockerfile
from docker.utils.build import create_archive, exclude_paths


class ContextError(Exception):
    """The context or Dockerfile cannot be used; the message says why."""


def unreadable(exc: OSError, what: str = "the build context") -> ContextError:
    """A ContextError naming the path that could not be read, e.g. ``Cannot read /ctx/secret: Permission denied``."""
    if exc.filename is not None and exc.strerror:
        return ContextError(f"Cannot read {exc.filename}: {exc.strerror}.")
    return ContextError(f"Cannot read {what}: {exc.strerror or exc}.")


def dockerignore_patterns(context: Path) -> list[str]:
    """The patterns of ``.dockerignore``, read the way the SDK reads them; ContextError if unreadable."""
    path = context / ".dockerignore"
    try:
        if not path.is_file():
            return []
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise unreadable(exc, str(path)) from exc
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def context_files(context: Path, dockerfile: str = "Dockerfile") -> list[str]:
    """Relative paths (POSIX) of every file sent to the engine, sorted; ContextError if unreadable."""
    try:
        return sorted(exclude_paths(str(context), dockerignore_patterns(context), dockerfile=dockerfile))
    except OSError as exc:
        raise unreadable(exc) from exc


@dataclass
class PackedContext:
    archive: IO[bytes]
    dockerfile: str  # name of the Dockerfile inside the archive
    files: int
    bytes: int

    def close(self) -> None:
        self.archive.close()


class ProgressReader:
    """A file object for the upload that reports how much was read, and can be stopped."""

    def __init__(self, raw: IO[bytes], total: int, on_read: Callable[[int], None]) -> None:
        self._raw = raw
        self._total = total
        self._sent = 0
        self._on_read = on_read

    def __len__(self) -> int:
        return self._total

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        if data:
            self._sent += len(data)
            self._on_read(self._sent)  # may raise to abandon the upload
        return data

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()


def resolve(context: Path, dockerfile: str | Path | None) -> tuple[Path, Path]:
    """Absolute context folder and Dockerfile, or ContextError naming what is wrong."""
    ctx = Path(context).expanduser()
    if not ctx.exists():
        raise ContextError(f"The build context {ctx} does not exist.")
    if not ctx.is_dir():
        raise ContextError(f"The build context {ctx} is not a folder.")
    ctx = ctx.resolve()
    df = Path(dockerfile) if dockerfile else Path("Dockerfile")
    df_path = df if df.is_absolute() else ctx / df
    if not df_path.is_file():
        raise ContextError(f"No Dockerfile at {df_path}.")
    # Everything after this reads them (the tutor and the SDK, some in other threads): refuse
    # an unreadable one here, with its path, rather than fail somewhere less clear.
    for path in (df_path, ctx / ".dockerignore"):
        try:
            with path.open("rb"):
                pass
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise unreadable(exc, str(path)) from exc
    return ctx, df_path


def pack(
    context: Path, dockerfile: Path, on_file: Callable[[int, str], None] | None = None, gzip: bool = False
) -> PackedContext:
    """Tar the context the way `docker build` does (the Dockerfile may lie outside it).

    ``on_file(count, path)`` is called before each file is added (progress, and
    a place to stop: it may raise to abandon packing).  ``gzip``: BuildKit's build API reads
    a plain tar with PAX headers (Python writes one for a fractional mtime) as the Dockerfile,
    and a gzip-compressed one well.
    """
    try:
        name, outside = process_dockerfile(str(dockerfile), str(context))
    except OSError as exc:
        raise unreadable(exc, str(dockerfile)) from exc
    patterns = dockerignore_patterns(context)
    extra: list[tuple[str, str]] = []
    if outside is not None:
        extra = [(".dockerignore", "\n".join((patterns or [".dockerignore"]) + [name])), (name, outside)]
    try:
        files = sorted(exclude_paths(str(context), patterns, dockerfile=name))

        def reported():
            for count, path in enumerate(files, start=1):
                if on_file is not None:
                    on_file(count, path)
                yield path

        archive = create_archive(
            str(context), files=reported(), fileobj=tempfile.TemporaryFile(), extra_files=extra, gzip=gzip
        )
    except OSError as exc:
        raise unreadable(exc) from exc
    archive.seek(0, os.SEEK_END)
    size = archive.tell()
    archive.seek(0)
    return PackedContext(archive, name, len(files), size)
