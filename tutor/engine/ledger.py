"""The images a seat's builds made (not those they took from the cache), step images included.

Labels mark only a build's final image: the classic builder's step images (and the last image of
a multi-stage build's earlier stages) carry none of the seat's labels, and on the containerd image
store the engine does not delete them with the final image. Each build appends the ids it saw
produced to the seat's ledger, so `tutor clean` and a seat reset can remove them too, once no image
they keep still builds on them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from tutor import atomic, paths

_ID_RE = re.compile(r"^[0-9a-f]{12,64}$")


def ledger_file(seat: str) -> Path:
    return paths.seat_dir(seat) / "built-images"


def record(seat: str, image_ids: Iterable[str]) -> None:
    """Append ids (short or full, with or without "sha256:"); never fails a build over bookkeeping."""
    _append(ledger_file(seat), (_short(i) for i in image_ids if i))


def recorded(seat: str) -> set[str]:
    """The 12-hex ids the seat's builds produced (an unreadable ledger reads as empty)."""
    return _read(ledger_file(seat))


def seats() -> list[str]:
    """Every seat with a folder under this data folder."""
    try:
        return sorted(p.name for p in paths.seat_dir("x").parent.iterdir() if p.is_dir())
    except OSError:
        return []


def forget(seat: str, image_ids: Iterable[str]) -> None:
    _keep_only(ledger_file(seat), recorded(seat) - {i[:12] for i in image_ids})


# The classic builder's step containers carry the labels of the image they run, never the seat's:
# when the engine dies mid-build they stay behind, exited, and no label says whose they are. Each
# build appends the "Running in <id>" containers it saw, so cleanup can find them.


def containers_file(seat: str) -> Path:
    return paths.seat_dir(seat) / "build-containers"


def _append(path: Path, ids: Iterable[str]) -> None:
    # One write with O_APPEND: concurrent builds of a seat interleave whole lines.
    lines = "".join(f"{i}\n" for i in ids if i and _ID_RE.match(i))
    if not lines:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, lines.encode())
        finally:
            os.close(fd)
    except OSError:
        pass


def _read(path: Path) -> set[str]:
    try:
        text = path.read_text(encoding="ascii", errors="replace")
    except OSError:
        return set()
    return {line.strip() for line in text.splitlines() if _ID_RE.match(line.strip())}


def record_containers(seat: str, container_ids: Iterable[str]) -> None:
    """Append the step containers a build ran (12-hex or full ids); never fails a build."""
    _append(containers_file(seat), (_short(c) for c in container_ids if c))


def recorded_containers(seat: str) -> set[str]:
    return _read(containers_file(seat))


def forget_containers(seat: str, container_ids: Iterable[str]) -> None:
    _keep_only(containers_file(seat), recorded_containers(seat) - {c[:12] for c in container_ids})


def _short(any_id: str) -> str:
    return any_id.split(":", 1)[-1][:12]


def _keep_only(path: Path, ids: set[str]) -> None:
    try:
        if ids:
            atomic.write_text(path, "".join(f"{i}\n" for i in sorted(ids)))
        else:
            path.unlink(missing_ok=True)
    except OSError:
        pass
