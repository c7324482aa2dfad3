"""The size book: sizes read from an engine, kept by image id across processes."""

from __future__ import annotations

import threading
from pathlib import Path

from tutor.engine import size_book
from tutor.engine.size_book import SizeBook, Sizes, book_for, short_id


def test_what_one_process_learnt_the_next_reads(tmp_path: Path):
    path = tmp_path / "engine.txt"
    SizeBook(path).put("sha256:0123456789abcdef0000", Sizes(layer=300_000, total=2_285_691))
    again = SizeBook(path)
    assert again.get("0123456789ab") == Sizes(300_000, 2_285_691)
    assert again.get("sha256:0123456789abffff") == Sizes(300_000, 2_285_691)  # any form of the id


def test_fields_learnt_apart_are_merged_and_a_known_fact_is_not_written_twice(tmp_path: Path):
    path = tmp_path / "engine.txt"
    book = SizeBook(path)
    book.put("aaaaaaaaaaaa", Sizes(layer=0))
    book.put("aaaaaaaaaaaa", Sizes(total=1_985_682))
    book.put("aaaaaaaaaaaa", Sizes(layer=0, total=1_985_682))
    assert book.get("aaaaaaaaaaaa") == Sizes(0, 1_985_682)
    assert path.read_text().splitlines() == ["aaaaaaaaaaaa 0 -", "aaaaaaaaaaaa 0 1985682"]
    assert SizeBook(path).get("aaaaaaaaaaaa") == Sizes(0, 1_985_682)


def test_a_line_cut_short_or_garbled_is_ignored(tmp_path: Path):
    path = tmp_path / "engine.txt"
    path.write_text("bbbbbbbbbbbb 5 10\nnot a line\ncccccccccccc x 3\ndddddddddddd 12 34")  # last: no newline
    book = SizeBook(path)
    assert book.get("bbbbbbbbbbbb") == Sizes(5, 10)
    assert book.get("cccccccccccc") == Sizes()
    assert book.get("dddddddddddd") == Sizes()  # it may have been "12 345..." when whole


def test_the_file_and_memory_stay_bounded(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(size_book, "MAX_ENTRIES", 10)
    path = tmp_path / "engine.txt"
    book = SizeBook(path)
    for n in range(25):
        book.put(f"{n:012x}", Sizes(n, n))
    assert len(path.read_text().splitlines()) <= 10
    reread = SizeBook(path)
    assert reread.get(f"{24:012x}") == Sizes(24, 24)  # the newest are kept
    assert reread.get(f"{0:012x}") == Sizes()
    assert len(book._entries) <= 10


def test_processes_appending_at_once_lose_no_line(tmp_path: Path):
    path = tmp_path / "engine.txt"
    books = [SizeBook(path) for _ in range(4)]

    def fill(index: int) -> None:
        for n in range(200):
            books[index].put(f"{index:02x}{n:010x}", Sizes(n, n + index))

    threads = [threading.Thread(target=fill, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    reread = SizeBook(path)
    assert all(reread.get(f"{i:02x}{n:010x}") == Sizes(n, n + i) for i in range(4) for n in range(200))


def test_each_engine_has_its_own_book_under_the_cache_dir(tutor_home: Path):
    size_book.forget_books()
    one, other = book_for("ABCD:EF/12", "unix:///a.sock"), book_for("other-engine", "unix:///a.sock")
    assert one is not other and one is book_for("ABCD:EF/12", "unix:///b.sock")
    assert one.path is not None and one.path.parent == tutor_home / "cache" / "image-sizes"
    assert "/" not in one.path.name and ":" not in one.path.name
    unnamed = book_for(None, "unix:///a.sock")
    assert unnamed.path is None and unnamed is not book_for(None, "unix:///b.sock")


def test_short_id():
    assert short_id("sha256:C85D1A7E4048149BD9") == "c85d1a7e4048"
    assert short_id("c85d1a7e4048") == "c85d1a7e4048"
