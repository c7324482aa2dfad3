"""Sizes already read from an engine, kept by image id in memory and on disk.

An image id is a content address: on one engine, the size of the layer an image adds and the size
of the whole image never change. So what one build read is what every later build of the same
steps would read, even in another process: a cached rebuild finds every step's size here and asks
the engine nothing. Each engine (its `docker info` ID) has its own book, because the same image
can have other sizes on another image store.

On disk a book is a text file of lines ``<short id> <layer> <total>`` (``-`` for unknown), only
ever appended to: a small append is one write, so processes that build at the same time never
mix their lines. A line without its newline (cut by a crash, or read while being written) is
ignored. Past ``MAX_ENTRIES`` lines the file is rewritten with its newest half.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from tutor import atomic, paths

MAX_ENTRIES = 40_000  # about 1.2 MB of lines, read in a few milliseconds
_ID_RE = re.compile(r"^[0-9a-f]{12}$")
_UNSAFE_RE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class Sizes:
    layer: int | None = None  # bytes the image's own (last) step adds on top of its parent
    total: int | None = None  # the whole image: its layers unpacked (tutor.engine.image_size)

    def merged(self, newer: Sizes) -> Sizes:
        return Sizes(
            newer.layer if newer.layer is not None else self.layer,
            newer.total if newer.total is not None else self.total,
        )


def _field(value: int | None) -> str:
    return "-" if value is None else str(value)


def _parse(value: str) -> int | None:
    return None if value == "-" else int(value)


class SizeBook:
    """The sizes of one engine's images. Thread-safe; the file is read on first use."""

    def __init__(self, path: Path | None) -> None:
        self.path = path  # None: kept in memory only
        self._entries: dict[str, Sizes] = {}
        self._lines = 0
        self._loaded = path is None
        self._lock = threading.Lock()

    def get(self, image_id: str) -> Sizes:
        key = short_id(image_id)
        with self._lock:
            self._load()
            return self._entries.get(key, Sizes())

    def put(self, image_id: str, sizes: Sizes) -> None:
        """Record what was learnt; a field already known and the same is not written again."""
        key = short_id(image_id)
        with self._lock:
            self._load()
            known = self._entries.get(key, Sizes())
            merged = known.merged(sizes)
            if merged == known:
                return
            self._entries[key] = merged
            if len(self._entries) > MAX_ENTRIES:  # memory stays bounded too: drop the oldest half
                for old in list(self._entries)[: MAX_ENTRIES // 2]:
                    del self._entries[old]
            self._append(f"{key} {_field(merged.layer)} {_field(merged.total)}\n")

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        assert self.path is not None
        try:
            text = self.path.read_text(encoding="ascii", errors="replace")
        except OSError:
            return
        lines = text.split("\n")[:-1]  # the last piece has no newline: empty, or cut short
        self._lines = len(lines)
        for line in lines:
            parts = line.split(" ")
            if len(parts) != 3 or not _ID_RE.match(parts[0]):
                continue
            try:
                sizes = Sizes(_parse(parts[1]), _parse(parts[2]))
            except ValueError:
                continue
            self._entries.pop(parts[0], None)  # re-inserted: the dict's order is the order last seen
            self._entries[parts[0]] = sizes
        if self._lines > MAX_ENTRIES:
            self._compact()

    def _append(self, line: str) -> None:
        if self.path is None:
            return
        self._lines += 1
        if self._lines > MAX_ENTRIES:
            self._compact()
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line.encode("ascii"))
            finally:
                os.close(fd)
        except OSError:  # a read-only or full disk: the sizes are still known in memory
            pass

    def _compact(self) -> None:
        assert self.path is not None
        keep = list(self._entries.items())[-(MAX_ENTRIES // 2) :]
        self._entries = dict(keep)
        text = "".join(f"{key} {_field(s.layer)} {_field(s.total)}\n" for key, s in keep)
        try:
            atomic.write_text(self.path, text)
        except OSError:
            pass
        self._lines = len(keep)


def short_id(image_id: str) -> str:
    """The 12 hex digits the classic builder prints, from any form of an image id."""
    return image_id.split(":", 1)[-1][:12].lower()


_books: dict[str, SizeBook] = {}
_quick: dict[tuple[str, str, str], SizeBook] = {}
_books_lock = threading.Lock()


def book_for(engine_id: str | None, fallback_key: str) -> SizeBook:
    """The book of one engine: on disk under the cache dir when the engine has an ID, else in memory.

    ``fallback_key`` (the engine's address) keeps engines without an ID apart in memory.
    """
    # Asked once per build step: the path is worked out only the first time (TUTOR_HOME may move it).
    quick = (engine_id or "", "" if engine_id else fallback_key, os.environ.get("TUTOR_HOME", ""))
    book = _quick.get(quick)
    if book is not None:
        return book
    name = _UNSAFE_RE.sub("_", engine_id).strip("_.") if engine_id else ""
    path = paths.cache_dir() / "image-sizes" / f"{name}.txt" if name else None
    key = str(path) if path else f"url:{fallback_key}"
    with _books_lock:
        book = _books.get(key)
        if book is None:
            book = _books[key] = SizeBook(path)
        _quick[quick] = book
        return book


def forget_books() -> None:
    """Drop every book read into memory (the next use reads the files again)."""
    with _books_lock:
        _books.clear()
        _quick.clear()
