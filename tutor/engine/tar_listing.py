"""The members of a tar read from a stream: names, sizes and kinds, never the contents.

The layer viewer lists every file of every layer of an image export (330 MB and 14,000 files
for go_app). Python's ``tarfile`` in stream mode copies every byte of every member through
several buffers and builds a TarInfo per header: two thirds of the time of a first open. This
reads the 512-byte headers itself (ustar, GNU long names, pax records, as tarfile reads them)
and skips the contents chunk by chunk, so the cost is the engine's export, not Python.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

BLOCK = 512
_REGULAR = frozenset(b"0\x007S")  # regular, old regular, contiguous, GNU sparse: tarfile's isfile()
_KINDS = {ord("1"): "hardlink", ord("2"): "symlink", ord("5"): "dir"}
_GNU = frozenset(b"LKS")


class TarFormatError(Exception):
    """Not a tar, or one cut short."""


class ChunkStream:
    """Bytes from an iterator of chunks, read or skipped without copying what is skipped."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._buf = b""
        self._pos = 0

    def read(self, n: int) -> bytes:
        """Up to ``n`` bytes; fewer only at the end of the stream."""
        if self._pos + n <= len(self._buf):
            self._pos += n
            return self._buf[self._pos - n : self._pos]
        parts = [self._buf[self._pos :]]
        have = len(parts[0])
        self._buf, self._pos = b"", 0
        while have < n:
            chunk = next(self._chunks, None)
            if chunk is None:
                return b"".join(parts)
            take = min(n - have, len(chunk))
            parts.append(chunk[:take] if take < len(chunk) else chunk)
            have += take
            if take < len(chunk):
                self._buf, self._pos = chunk, take
        return b"".join(parts)

    def skip(self, n: int) -> int:
        """Skip up to ``n`` bytes; how many were skipped."""
        skipped = 0
        while skipped < n:
            left = len(self._buf) - self._pos
            if left == 0:
                chunk = next(self._chunks, None)
                if chunk is None:
                    return skipped
                self._buf, self._pos = chunk, 0
                continue
            step = min(left, n - skipped)
            self._pos += step
            skipped += step
        return skipped


class Bounded:
    """At most ``size`` bytes of another stream (one member's contents)."""

    def __init__(self, source: ChunkStream | Bounded | Gunzip, size: int) -> None:
        self._source, self.left = source, size

    def read(self, n: int) -> bytes:
        data = self._source.read(min(n, self.left))
        self.left -= len(data)
        return data

    def skip(self, n: int) -> int:
        done = self._source.skip(min(n, self.left))
        self.left -= done
        return done

    def chunks(self, size: int = 1 << 20) -> Iterator[bytes]:
        while self.left > 0:
            data = self.read(size)
            if not data:
                return
            yield data


class Gunzip:
    """A gzip-compressed stream, decompressed as it is read."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._inner = ChunkStream(self._decompressed(iter(chunks)))

    @staticmethod
    def _decompressed(chunks: Iterator[bytes]) -> Iterator[bytes]:
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        for chunk in chunks:
            while chunk:
                out = inflate.decompress(chunk, 1 << 20)
                if out:
                    yield out
                chunk = inflate.unconsumed_tail
                if inflate.eof:  # a member ends; concatenated gzip members go on
                    rest = inflate.unused_data
                    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
                    chunk = rest + chunk
        tail = inflate.flush()
        if tail:
            yield tail

    def read(self, n: int) -> bytes:
        return self._inner.read(n)

    def skip(self, n: int) -> int:
        return self._inner.skip(n)


@dataclass(frozen=True)
class Member:
    name: str  # as stored (pax and GNU long names applied), not normalised
    size: int  # bytes of contents (0 for links and folders)
    kind: str  # file | dir | symlink | hardlink | other
    linkname: str


def _text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _number(raw: bytes) -> int:
    if raw[:1] and raw[0] & 0x80:  # base-256, for sizes past 8 GB
        value = int.from_bytes(raw[1:], "big")
        return -value if raw[0] & 0x40 else value
    text = raw.split(b"\0", 1)[0].strip(b" \0")
    return int(text, 8) if text else 0


def _pax(data: bytes) -> dict[str, str]:
    records: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos)
        if space < 0:
            break
        try:
            length = int(data[pos:space])
        except ValueError:
            break
        if length <= 0:
            break
        key, _, value = data[space + 1 : pos + length - 1].partition(b"=")
        records[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return records


def members(
    stream: ChunkStream | Bounded | Gunzip,
    contents: Callable[[Member, Bounded], None] | None = None,
    first_block: bytes | None = None,
) -> Iterator[Member]:
    """Each member of the tar on ``stream``, in order.

    ``contents(member, reader)``, if given, is called for each regular file and may read its
    contents from ``reader`` before the next member is read; what it leaves is skipped.
    ``first_block``: the first header, when it was already read to recognise the tar.
    """
    global_pax: dict[str, str] = {}
    pending: dict[str, str] = {}
    first = True
    while True:
        block = first_block if first_block is not None else stream.read(BLOCK)
        first_block = None
        if not block or block.count(0) == BLOCK:
            return  # the end: a zero block, or the end of the stream
        if len(block) < BLOCK:
            raise TarFormatError("the archive is cut short")
        if not _checksum_ok(block):
            if first:
                raise TarFormatError("not a tar archive (bad header checksum)")
            return  # as tarfile does: a broken header after the first ends the archive
        first = False
        type_flag = block[156]
        size = _number(block[124:136])
        if type_flag in (ord("x"), ord("g"), ord("L"), ord("K")):
            data = stream.read(size)
            if len(data) < size or stream.skip(-size % BLOCK) < -size % BLOCK:
                raise TarFormatError("the archive is cut short")
            if type_flag == ord("x"):
                pending.update(_pax(data))
            elif type_flag == ord("g"):
                global_pax.update(_pax(data))
            else:
                pending["path" if type_flag == ord("L") else "linkpath"] = _text(data)
            continue
        name = _text(block[0:100])
        prefix = _text(block[345:500]) if block[257:263] == b"ustar\x00" else ""
        if prefix and type_flag not in _GNU:
            name = prefix + "/" + name
        fields = {**global_pax, **pending}
        pending = {}
        name = fields.get("path", name)
        linkname = fields.get("linkpath", _text(block[157:257]))
        if "size" in fields:
            try:
                size = int(fields["size"])
            except ValueError:
                pass
        if type_flag in _REGULAR and not (type_flag == 0 and name.endswith("/")):
            kind = "file"
        elif type_flag == 0:  # an old-style regular entry whose name ends in "/": a folder
            kind = "dir"
        else:
            kind = _KINDS.get(type_flag, "other")
        if kind == "dir":
            name = name.rstrip("/")
        member = Member(name, size if kind == "file" else 0, kind, linkname)
        # Links and folders have no contents, whatever their size field says (tarfile reads it so).
        stored = size if type_flag not in (ord("1"), ord("2"), ord("3"), ord("4"), ord("5"), ord("6")) else 0
        if contents is not None and kind == "file":
            reader = Bounded(stream, stored)
            contents(member, reader)
            left = reader.left
        else:
            left = stored
        if stream.skip(left + -stored % BLOCK) < left + -stored % BLOCK:
            raise TarFormatError("the archive is cut short")
        yield member


def _checksum_ok(block: bytes) -> bool:
    try:
        stored = _number(block[148:156])
    except ValueError:
        return False
    unsigned = sum(block[:148]) + 256 + sum(block[156:])  # the checksum field counts as eight spaces
    signed = unsigned - 2 * (sum(b for b in block[:148] if b > 127) + sum(b for b in block[156:] if b > 127))
    return stored in (unsigned, signed)
