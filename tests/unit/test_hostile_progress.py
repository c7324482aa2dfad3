"""Hostile progress files and folders: any content is set aside with a notice; a folder the tutor
cannot write never stops it, and nothing it had is lost."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tutor import paths
from tutor.cli import main
from tutor.course import progress as progress_module
from tutor.course.progress import MAX_FILE_BYTES, DamagedProgress, ProgressError, ProgressStore, decode

HUGE = "9" * 5000

HOSTILE: dict[str, bytes] = {
    "5000-digit number": f'{{"format": 1, "updated": {HUGE}}}'.encode(),
    "5000-digit count": f'{{"format": 1, "lessons": {{"a": {{"b": {{"attempts": {HUGE}}}}}}}}}'.encode(),
    "4000-digit count": ('{"format": 1, "lessons": {"a": {"b": {"attempts": 1' + "0" * 4000 + "}}}}").encode(),
    "100000 nested arrays": b"[" * 100_000 + b"]" * 100_000,
    "100000 nested objects": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    "huge float": b'{"format": 1, "updated": 1e400}',
    "NaN": b'{"format": 1, "updated": NaN}',
    "terminal escapes in an id": b'{"format": 1, "lessons": {"\\u001b[2J": {}}}',
    "lone surrogate in an id": b'{"format": 1, "visited": ["\\ud800"]}',
    "id of another type": b'{"format": 1, "current": {"lesson": "a", "exercise": 7}}',
    "too big": b'{"format": 1, "pad": "' + b"x" * (MAX_FILE_BYTES + 10) + b'"}',
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_decode_says_damaged_whatever_the_file_holds(case: str) -> None:
    with pytest.raises(DamagedProgress):
        decode(HOSTILE[case])


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_file_is_set_aside_with_the_usual_notice(tmp_path: Path, case: str) -> None:
    path = tmp_path / "progress.json"
    path.write_bytes(HOSTILE[case])
    progress, notice = ProgressStore(path).load()
    assert not progress.exercises
    assert notice is not None and "was damaged" in notice and "kept as progress.json.damaged-" in notice
    (kept,) = tmp_path.glob("progress.json.damaged-*")
    assert kept.read_bytes() == HOSTILE[case]


def test_a_fifo_is_not_read_for_ever(tmp_path: Path) -> None:
    import os

    path = tmp_path / "progress.json"
    os.mkfifo(path)
    progress, notice = ProgressStore(path).load()
    assert notice is not None and "not a regular file" in notice


def test_tutor_progress_survives_every_hostile_file(capsys: pytest.CaptureFixture[str]) -> None:
    path = paths.progress_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    lessons = FIXTURES / "courses" / "good"
    for case, data in HOSTILE.items():
        path.write_bytes(data)
        code = main(["--lessons", str(lessons), "progress"])
        out = capsys.readouterr().out
        assert code == 0, (case, out)
        assert out.startswith("note: the progress file was damaged"), (case, out)


# -- a folder the tutor cannot write ------------------------------------------------------------


def _saved(path: Path) -> bytes:
    store = ProgressStore(path)
    store.record_attempt("serve", "answer-http", passed=True, seconds=3)
    store.set_current("serve", "answer-http")
    return path.read_bytes()


def _immutable(folder: Path) -> bool:
    return subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode == 0


def test_an_immutable_folder_keeps_progress_in_memory_and_says_so_once(tmp_path: Path) -> None:
    folder = tmp_path / "seat"
    before = _saved(folder / "progress.json")
    if not _immutable(folder):
        pytest.fail("chattr +i is needed to test an immutable folder (run the tests as root on ext4/xfs/btrfs)")
    try:
        store = ProgressStore(folder / "progress.json")
        progress, notice = store.load()
        assert progress.exercise("serve", "answer-http").passed  # what it had
        assert notice is not None and "progress cannot be saved" in notice and "Operation not permitted" in notice
        store.record_attempt("cache", "keep-cached", passed=False)
        store.reveal_hint("cache", "keep-cached")
        progress, again = store.load()
        assert again is None  # said once
        assert progress.exercise("serve", "answer-http").passed
        assert progress.exercise("cache", "keep-cached").attempts == 1
        assert progress.exercise("cache", "keep-cached").hints_revealed == 1
        assert (folder / "progress.json").read_bytes() == before
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_a_progress_folder_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "seat").write_text("not a folder")
    store = ProgressStore(tmp_path / "seat" / "progress.json")
    progress, notice = store.load()
    assert notice is not None and "progress cannot be saved" in notice and "is not a folder" in notice
    store.set_current("a", "b")  # no exception
    assert store.load() == (progress.__class__(current=("a", "b"), visited=frozenset({"a"}), updated=store.load()[0].updated), None)


def test_a_write_failing_later_keeps_the_change_and_everything_before_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "progress.json"
    before = _saved(path)
    store = ProgressStore(path)
    assert store.load()[1] is None

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(progress_module.tempfile, "mkstemp", refuse)
    store.record_attempt("cache", "keep-cached", passed=True)
    progress, notice = store.load()
    assert notice is not None and "Permission denied" in notice
    assert progress.exercise("serve", "answer-http").passed and progress.exercise("cache", "keep-cached").passed
    assert path.read_bytes() == before


def test_a_strict_store_raises_instead(tmp_path: Path) -> None:
    (tmp_path / "seat").write_text("not a folder")
    with pytest.raises(ProgressError, match="it is a file, not a folder"):
        ProgressStore(tmp_path / "seat" / "progress.json", strict=True).reset()


def test_reading_an_unwritable_store_creates_nothing(tmp_path: Path) -> None:
    ProgressStore(tmp_path / "a" / "b" / "progress.json").load()
    assert list(tmp_path.iterdir()) == []


def test_progress_reset_in_an_unwritable_folder_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    path = paths.progress_file()
    path.parent.parent.mkdir(parents=True, exist_ok=True)
    path.parent.write_text("a file where the seat's folder should be")
    code = main(["--lessons", str(FIXTURES / "courses" / "good"), "progress", "reset", "--all", "--yes"])
    out = capsys.readouterr().out
    assert code == 1
    assert out.splitlines()[-1].startswith("error: cannot save progress in ")
    assert "Traceback" not in out


async def test_the_app_starts_on_an_immutable_progress_folder_and_says_why_once(tmp_path: Path) -> None:
    from tests.conftest import STREAMS
    from tests.ui.conftest import connected_report
    from tutor.ui.app import TutorApp
    from tutor.ui.backend import ReplayBackend
    from tutor.ui.screens.lesson import LessonScreen

    path = paths.progress_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"format": 1, "current": {"lesson": "serve", "exercise": "answer-http"}, "visited": ["serve"]}))
    before = path.read_bytes()
    if not _immutable(path.parent):
        pytest.fail("chattr +i is needed to test an immutable folder")
    try:
        backend = ReplayBackend([STREAMS / "cold.jsonl"], connected_report())
        app = TutorApp(lessons_dir=FIXTURES / "courses" / "good", backend=backend, engine_check_seconds=0)
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause(0.3)
            assert isinstance(app.screen, LessonScreen)  # it reopened where the learner was
            shown = [n.message for n in app._notifications]
            assert sum("progress cannot be saved" in m for m in shown) == 1, shown
        assert app.return_code in (0, None)
        assert path.read_bytes() == before
    finally:
        subprocess.run(["chattr", "-i", str(path.parent)], check=True)
