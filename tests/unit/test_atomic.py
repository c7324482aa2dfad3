"""atomic.py: a file is replaced whole or left as it was."""

from __future__ import annotations

import pytest

from tutor import atomic


def test_a_finished_block_replaces_the_file(tmp_path):
    target = tmp_path / "sub" / "out.bin"
    with atomic.replacing(target, suffix=".part") as fh:
        fh.write(b"new")
        assert not target.exists()  # nothing shows before the block ends
    assert target.read_bytes() == b"new"
    assert [p.name for p in target.parent.iterdir()] == ["out.bin"]


def test_a_failing_block_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic.replacing(target) as fh:
            fh.write(b"half")
            raise RuntimeError("crash mid-write")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_a_writer_closed_early_leaves_nothing_behind(tmp_path):
    target = tmp_path / "bundle.tar"

    def writer():
        with atomic.replacing(target, suffix=".part") as fh:
            fh.write(b"part one")
            yield "one"
            fh.write(b"part two")
            yield "two"

    steps = writer()
    assert next(steps) == "one"
    steps.close()  # the caller stopped reading: the bundle must not appear half written
    assert list(tmp_path.iterdir()) == []


def test_write_text_keeps_newlines_and_sets_the_mode(tmp_path):
    target = tmp_path / "a.txt"
    atomic.write_text(target, "a\r\nb\n", mode=0o600)
    assert target.read_bytes() == b"a\r\nb\n"
    assert target.stat().st_mode & 0o777 == 0o600
