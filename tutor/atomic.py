"""Write a file whole or not at all: a crash mid-write leaves the old file (or none), never half."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


@contextmanager
def replacing(path: Path, mode: int | None = None, suffix: str = ".tmp") -> Iterator[BinaryIO]:
    """A binary file beside ``path`` that, flushed to disk, is renamed over it when the block ends;
    removed instead when the block raises (or a generator writing it is closed early)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    try:
        if mode is not None:
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_text(path: Path, text: str, mode: int | None = None) -> None:
    """``text`` (UTF-8, newlines as given) in place of ``path``'s content (OSError says why not)."""
    with replacing(path, mode) as fh:
        fh.write(text.encode("utf-8"))
