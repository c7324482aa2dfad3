"""The tar headers reader lists what Python's tarfile lists, from any chunking of the stream."""

from __future__ import annotations

import gzip
import io
import tarfile

import pytest

from tutor.engine import tar_listing
from tutor.engine.tar_listing import ChunkStream, Gunzip, TarFormatError


def _archive(fmt: int) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:

        def add(name: str, kind: bytes = tarfile.REGTYPE, data: bytes = b"", link: str = "") -> None:
            info = tarfile.TarInfo(name)
            info.type = kind
            info.linkname = link
            info.size = len(data) if kind == tarfile.REGTYPE else 0
            tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)

        add("app", tarfile.DIRTYPE)
        add("app/main", data=b"\x7fELF" + b"x" * 5000)
        add("app/" + "long-folder-name/" * 8 + "deep.txt", data=b"deep")  # past 100 characters
        add("app/link", tarfile.SYMTYPE, link="main")
        add("app/hard", tarfile.LNKTYPE, link="app/main")
        add("app/.wh.gone")
        add("app/empty")
        add("dev/null", tarfile.CHRTYPE)
        add("app/ünïcode.txt", data=b"u" * 513)
    return buf.getvalue()


def _tarfile_says(data: bytes) -> list[tuple[str, int, str, str]]:
    kinds = {"dir": "dir", "sym": "symlink", "lnk": "hardlink", "file": "file"}
    out = []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r|*") as tar:
        for m in tar:
            kind = next((k for k in kinds if getattr(m, f"is{k}")()), "other")
            out.append((m.name, m.size if m.isfile() else 0, kinds.get(kind, "other"), m.linkname))
    return out


def _chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("fmt", [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
@pytest.mark.parametrize("chunk", [1, 511, 512, 4096, 1 << 20])
def test_the_same_members_as_tarfile(fmt: int, chunk: int):
    data = _archive(fmt) if fmt != tarfile.USTAR_FORMAT else _ustar_archive()
    listed = [(m.name, m.size, m.kind, m.linkname) for m in tar_listing.members(ChunkStream(_chunks(data, chunk)))]
    assert listed == _tarfile_says(data)


def _ustar_archive() -> bytes:
    """Ustar has no long names past its 155+100 split, and no unicode guarantees: a plain set."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in (("usr/" + "sub/" * 30 + "file.txt", b"a" * 700), ("etc/hosts", b"")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_a_gzip_layer_is_listed_through_the_decompressor():
    data = _archive(tarfile.PAX_FORMAT)
    packed = gzip.compress(data)
    listed = [(m.name, m.size, m.kind, m.linkname) for m in tar_listing.members(Gunzip(_chunks(packed, 777)))]
    assert listed == _tarfile_says(data)


def test_contents_are_handed_over_and_what_is_left_is_skipped():
    data = _archive(tarfile.PAX_FORMAT)
    seen = {}

    def read(member, reader):
        seen[member.name] = reader.read(4)

    names = [m.name for m in tar_listing.members(ChunkStream(_chunks(data, 1000)), read)]
    assert seen["app/main"] == b"\x7fELF" and "app/ünïcode.txt" in names


def test_a_cut_archive_or_not_a_tar_is_refused():
    data = _archive(tarfile.PAX_FORMAT)
    with pytest.raises(TarFormatError):
        list(tar_listing.members(ChunkStream([data[:3000]])))
    with pytest.raises(TarFormatError):
        list(tar_listing.members(ChunkStream([b"{" + b"x" * 1023])))
