"""The progress store: atomic writes, damaged files, concurrent processes, course order."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, ROOT
from tutor import cli, paths
from tutor.course.loader import load_course
from tutor.course.model import Course, Exercise, Lesson
from tutor.course.progress import (
    ATTEMPTED,
    NEW,
    PASSED,
    ProgressError,
    ProgressStore,
    lesson_state,
    next_exercise,
    next_unpassed,
    resume_point,
)

GOOD_COURSE = FIXTURES / "courses" / "good"


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_store_lives_at_the_seat_progress_file() -> None:
    assert ProgressStore().path == paths.progress_file()
    assert paths.progress_file().parent.name == "pytest"


def test_empty_store_loads_without_a_file(tmp_path: Path) -> None:
    progress, notice = ProgressStore(tmp_path / "none" / "progress.json").load()
    assert notice is None
    assert progress.current is None and not progress.exercises
    assert progress.exercise("a", "b").state == NEW
    assert not (tmp_path / "none").exists()  # reading creates nothing


def test_attempts_times_and_passed_state(tmp_path: Path) -> None:
    clock = Clock()
    store = ProgressStore(tmp_path / "progress.json", clock=clock)
    first = store.record_attempt("cache", "reorder", passed=False, seconds=12.5)
    assert (first.state, first.attempts, first.seconds) == (ATTEMPTED, 1, 12.5)
    assert first.first_attempt == first.last_attempt == clock.now
    assert first.last_passed is False and first.passed_at is None

    clock.now += 60
    second = store.record_attempt("cache", "reorder", passed=True, seconds=30)
    assert (second.state, second.attempts, second.seconds) == (PASSED, 2, 42.5)
    assert second.first_attempt == clock.now - 60 and second.last_attempt == clock.now
    assert second.passed_at == clock.now

    clock.now += 60
    third = store.record_attempt("cache", "reorder", passed=False, seconds=-5)  # nonsense time adds nothing
    assert third.state == PASSED, "a passed exercise stays passed"
    assert third.last_passed is False and third.attempts == 3 and third.seconds == 42.5
    assert third.passed_at == clock.now - 60

    # A second store (another process) sees the same thing from the file.
    progress, notice = ProgressStore(store.path).load()
    assert notice is None
    assert progress.exercise("cache", "reorder") == third
    saved = json.loads(store.path.read_text())
    assert saved["format"] == 1 and saved["lessons"]["cache"]["reorder"]["attempts"] == 3


def test_hints_solution_time_and_current(tmp_path: Path) -> None:
    store = ProgressStore(tmp_path / "progress.json")
    assert store.reveal_hint("l", "e", available=2) == 1
    assert store.reveal_hint("l", "e", available=2) == 2
    assert store.reveal_hint("l", "e", available=2) == 2, "never more than there are"
    assert store.reveal_solution("l", "e").solution_revealed
    assert store.add_time("l", "e", 90).seconds == 90
    store.set_current("l", "e")
    progress, _ = store.load()
    entry = progress.exercise("l", "e")
    assert (entry.hints_revealed, entry.solution_revealed, entry.state, entry.attempts) == (2, True, NEW, 0)
    assert progress.current == ("l", "e") and progress.visited == {"l"}


def test_reset_one_exercise_one_lesson_or_everything(tmp_path: Path) -> None:
    store = ProgressStore(tmp_path / "progress.json")
    for lesson, exercise in [("a", "1"), ("a", "2"), ("b", "1")]:
        store.record_attempt(lesson, exercise, passed=True)
    store.set_current("b", "1")
    assert store.reset("a", "1") == 1
    assert set(store.load()[0].exercises) == {("a", "2"), ("b", "1")}
    assert store.reset("a") == 1
    assert set(store.load()[0].exercises) == {("b", "1")}
    assert store.reset() == 1
    progress, _ = store.load()
    assert not progress.exercises and progress.current is None and not progress.visited
    with pytest.raises(ValueError, match="lesson id"):
        store.reset(exercise_id="1")


# -- atomic writes ------------------------------------------------------------------------------------


def test_failed_replace_leaves_the_previous_file_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = ProgressStore(tmp_path / "progress.json", strict=True)
    store.record_attempt("l", "e", passed=False, seconds=1)
    before = store.path.read_bytes()

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(ProgressError, match="No space left"):
        store.record_attempt("l", "e", passed=True, seconds=1)
    monkeypatch.undo()
    assert store.path.read_bytes() == before
    assert not list(tmp_path.glob("*.tmp")), "the half-written copy is removed"
    assert store.load()[0].exercise("l", "e").attempts == 1


def test_interrupt_between_write_and_replace_loses_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = ProgressStore(tmp_path / "progress.json")
    store.record_attempt("l", "e", passed=True)
    before = store.path.read_bytes()

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        store.reveal_hint("l", "e")
    monkeypatch.undo()
    assert store.path.read_bytes() == before
    assert not list(tmp_path.glob(".progress.json.*"))


_KILLED_WRITER = textwrap.dedent(
    """
    import os, sys, time
    from tutor.course.progress import ProgressStore
    store = ProgressStore(sys.argv[1])
    store.record_attempt("l", "e", passed=False, seconds=3)
    def stalled(src, dst):
        print("WRITTEN", src, flush=True)  # the new copy is complete and synced; the rename has not happened
        time.sleep(60)
    os.replace = stalled
    store.record_attempt("l", "e", passed=True, seconds=4)
    """
)


def test_process_killed_mid_write_leaves_the_previous_file(tmp_path: Path) -> None:
    path = tmp_path / "progress.json"
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, str(path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("WRITTEN"), line
        tmp = Path(line.split()[1])
        assert tmp.exists() and json.loads(tmp.read_text())["lessons"]["l"]["e"]["attempts"] == 2
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
    store = ProgressStore(path)
    progress, notice = store.load()
    assert notice is None
    entry = progress.exercise("l", "e")
    assert (entry.attempts, entry.state, entry.seconds) == (1, ATTEMPTED, 3.0)
    # The next writer (holding the lock) clears the dead writer's leftover.
    store.record_attempt("l", "e", passed=True, seconds=1)
    assert not tmp.exists()
    assert store.load()[0].exercise("l", "e").attempts == 2


# -- damaged files ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content, why",
    [
        (b'{"format": 1, "lessons": {"l": {"e": {"attempts": ', "not valid JSON"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "not text"),
        (b'{"format": 1, "lessons": {"l": {"e": {"attempts": "three"}}}}', "lessons.l.e.attempts"),
        (b'{"format": 1, "lessons": {"l": {"e": {"state": "done"}}}}', "lessons.l.e.state"),
        (b'{"format": 1, "lessons": [], "current": null}', "lessons should be an object"),
        (b'{"format": 1, "current": {"lesson": 3}}', "current"),
        (b"[1, 2, 3]", "JSON object"),
        (b"", "not valid JSON"),
    ],
)
def test_damaged_file_is_moved_aside_with_a_notice(tmp_path: Path, content: bytes, why: str) -> None:
    path = tmp_path / "progress.json"
    path.write_bytes(content)
    progress, notice = ProgressStore(path).load()
    assert notice is not None and why in notice and "damaged" in notice
    assert not progress.exercises
    kept = list(tmp_path.glob("progress.json.damaged-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == content
    assert kept[0].name in notice
    assert not path.exists()
    # Afterwards all is well again, and nothing more is moved.
    assert ProgressStore(path).load() == (progress, None)
    ProgressStore(path).record_attempt("l", "e", passed=True)
    assert ProgressStore(path).load()[0].exercise("l", "e").passed


def test_damage_found_while_updating_is_reported_by_the_next_load(tmp_path: Path) -> None:
    path = tmp_path / "progress.json"
    path.write_text("not json at all")
    store = ProgressStore(path)
    assert store.reveal_hint("l", "e") == 1
    progress, notice = store.load()
    assert notice is not None and "damaged" in notice
    assert progress.exercise("l", "e").hints_revealed == 1
    assert len(list(tmp_path.glob("progress.json.damaged-*"))) == 1
    assert store.load()[1] is None, "the notice is given once"


def test_two_damaged_files_in_one_second_are_both_kept(tmp_path: Path) -> None:
    path = tmp_path / "progress.json"
    clock = Clock()
    for junk in (b"junk one", b"junk two"):
        path.write_bytes(junk)
        ProgressStore(path, clock=clock).load()
    kept = sorted(p.read_bytes() for p in tmp_path.glob("progress.json.damaged-*"))
    assert kept == [b"junk one", b"junk two"]


# -- several processes --------------------------------------------------------------------------------

_HAMMER = textwrap.dedent(
    """
    import sys
    from tutor.course.progress import ProgressStore
    path, exercise, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    store = ProgressStore(path)
    print("READY", flush=True)
    sys.stdin.readline()  # start together
    for i in range(count):
        store.record_attempt("race", exercise, passed=(i == count - 1), seconds=0.5)
        if i % 10 == 0:
            store.set_current("race", exercise)
    """
)


def test_two_processes_updating_at_once_keep_every_update(tmp_path: Path) -> None:
    path = tmp_path / "progress.json"
    count = 200
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _HAMMER, str(path), name, str(count)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for name in ("one", "two")
    ]
    for proc in procs:
        assert proc.stdout.readline().strip() == "READY"
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in procs:
        assert proc.wait(timeout=120) == 0
        proc.stdin.close()
        proc.stdout.close()
    progress, notice = ProgressStore(path).load()
    assert notice is None
    for name in ("one", "two"):
        entry = progress.exercise("race", name)
        assert entry.attempts == count, f"{name}: {entry.attempts} of {count} updates kept"
        assert entry.state == PASSED and entry.seconds == pytest.approx(count * 0.5)
    assert sum(e.attempts for e in progress.exercises.values()) == 2 * count
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".progress.json.*"))


# -- course order -------------------------------------------------------------------------------------


def _course() -> Course:
    course = load_course(GOOD_COURSE)
    assert [lesson.id for lesson in course.lessons] == ["serve", "cache-order"], course.problems
    return course


def test_lesson_state(tmp_path: Path) -> None:
    course = _course()
    cache = course.lesson("cache-order")
    store = ProgressStore(tmp_path / "progress.json")
    assert lesson_state(cache, store.load()[0]) == NEW
    store.reveal_hint("cache-order", "reorder")
    assert lesson_state(cache, store.load()[0]) == ATTEMPTED
    store.record_attempt("cache-order", "reorder", passed=True)
    assert lesson_state(cache, store.load()[0]) == ATTEMPTED, "one of two exercises passed"
    store.record_attempt("cache-order", "ignore-logs", passed=True)
    assert lesson_state(cache, store.load()[0]) == PASSED


def test_resume_point_follows_course_order(tmp_path: Path) -> None:
    course = _course()
    store = ProgressStore(tmp_path / "progress.json")
    assert resume_point(course, store.load()[0]) == ("serve", "answer-http"), "a new learner starts at the beginning"
    store.set_current("cache-order", "ignore-logs")
    assert resume_point(course, store.load()[0]) == ("cache-order", "ignore-logs"), "current, not passed"
    store.record_attempt("cache-order", "ignore-logs", passed=True)
    assert resume_point(course, store.load()[0]) == ("serve", "answer-http"), "wraps to the first unpassed"
    store.record_attempt("serve", "answer-http", passed=True)
    assert resume_point(course, store.load()[0]) == ("cache-order", "reorder")
    store.record_attempt("cache-order", "reorder", passed=True)
    assert resume_point(course, store.load()[0]) == ("cache-order", "ignore-logs"), "all passed: stay"
    store.set_current("gone-lesson", "gone")
    assert resume_point(course, store.load()[0]) == ("cache-order", "ignore-logs")
    assert resume_point(Course(GOOD_COURSE), store.load()[0]) == (None, None)


def test_resume_point_and_state_of_reading_only_lessons(tmp_path: Path) -> None:
    def lesson(lesson_id: str, order: int, *exercise_ids: str) -> Lesson:
        exercises = tuple(Exercise(e, e, "goal", tmp_path) for e in exercise_ids)
        return Lesson(lesson_id, lesson_id, order, tmp_path / lesson_id / "lesson.md", exercises=exercises)

    course = Course(tmp_path, (lesson("intro", 1), lesson("build", 2, "first"), lesson("outro", 3)))
    store = ProgressStore(tmp_path / "progress.json")
    assert resume_point(course, store.load()[0]) == ("intro", None)
    assert lesson_state(course.lessons[0], store.load()[0]) == NEW
    store.set_current("intro")
    progress = store.load()[0]
    assert lesson_state(course.lessons[0], progress) == PASSED, "reading it is all it asks"
    assert resume_point(course, progress) == ("intro", None), "reopens where the learner was reading"
    store.set_current("build", "first")
    store.record_attempt("build", "first", passed=True)
    assert resume_point(course, store.load()[0]) == ("outro", None)
    assert next_exercise(course, "build", "first") is None
    assert next_unpassed(course, store.load()[0], "build", "first") is None


def test_next_exercise_and_next_unpassed(tmp_path: Path) -> None:
    course = _course()
    lesson, exercise = next_exercise(course, "serve", "answer-http")
    assert (lesson.id, exercise.id) == ("cache-order", "reorder")
    store = ProgressStore(tmp_path / "progress.json")
    store.record_attempt("cache-order", "reorder", passed=True)
    lesson, exercise = next_unpassed(course, store.load()[0], "serve", "answer-http")
    assert (lesson.id, exercise.id) == ("cache-order", "ignore-logs")


# -- the command --------------------------------------------------------------------------------------


def _tutor(*argv: str, stdin: io.StringIO | None = None) -> tuple[int, str]:
    from tutor.commands import progress as command

    args = cli.build_parser().parse_args(["--lessons", str(GOOD_COURSE), *argv])
    out = io.StringIO()
    code = command.run(args, out=out, stdin=stdin or io.StringIO())
    return code, out.getvalue()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_command_prints_and_json(tmp_path: Path) -> None:
    store = ProgressStore()
    store.record_attempt("serve", "answer-http", passed=False, seconds=65)
    store.record_attempt("serve", "answer-http", passed=True, seconds=10)
    store.reveal_hint("cache-order", "reorder")
    code, text = _tutor("progress")
    assert code == 0
    assert "1/3 exercises passed" in text
    line = next(line for line in text.splitlines() if "answer-http" in line)
    assert "passed" in line and "2 attempts" in line and "1m15.0s" in line
    assert "1 hint" in next(line for line in text.splitlines() if "reorder" in line)
    assert "next: cache-order / reorder" in text

    code, text = _tutor("progress", "--json")
    data = json.loads(text)
    assert code == 0 and data["passed"] == 1 and data["exercises"] == 3
    assert data["file"] == str(paths.progress_file())
    serve = data["lessons"][0]
    assert serve["state"] == PASSED and serve["exercises"][0]["attempts"] == 2
    assert data["lessons"][1]["state"] == ATTEMPTED
    assert data["resume"] == {"lesson": "cache-order", "exercise": "reorder"}


def test_progress_reset_needs_confirmation(tmp_path: Path) -> None:
    store = ProgressStore()
    store.record_attempt("serve", "answer-http", passed=True)
    store.record_attempt("cache-order", "reorder", passed=True)

    code, text = _tutor("progress", "reset", "--all")  # no terminal, no --yes
    assert code == 1 and "--yes" in text
    assert len(store.load()[0].exercises) == 2

    code, text = _tutor("progress", "reset", "--lesson", "serve", stdin=_Terminal("n\n"))
    assert code == 0 and "nothing was reset" in text
    assert len(store.load()[0].exercises) == 2

    code, text = _tutor("progress", "reset", "--lesson", "serve", stdin=_Terminal("y\n"))
    assert code == 0 and "1 exercise record forgotten" in text
    assert set(store.load()[0].exercises) == {("cache-order", "reorder")}

    code, text = _tutor("progress", "reset", "--exercise", "reorder", "--yes")  # the lesson is found
    assert code == 0 and "cache-order/reorder" in text
    assert not store.load()[0].exercises


@pytest.mark.parametrize(
    "argv, message",
    [
        (["progress", "reset", "--yes"], "say what to reset"),
        (["progress", "reset", "--lesson", "nope", "--yes"], "no lesson 'nope'"),
        (["progress", "reset", "--lesson", "serve", "--exercise", "nope", "--yes"], "no exercise 'nope' in lesson serve"),
        (["progress", "reset", "--exercise", "nope", "--yes"], "no exercise 'nope'"),
        (["progress", "reset", "--all", "--lesson", "serve", "--yes"], "leave out --lesson"),
    ],
)
def test_progress_reset_bad_input_gets_a_message(argv: list[str], message: str) -> None:
    code, text = _tutor(*argv)
    assert code == 1 and message in text


def test_progress_command_reports_a_damaged_file() -> None:
    paths.progress_file().parent.mkdir(parents=True, exist_ok=True)
    paths.progress_file().write_bytes(b"\x00\x01garbage")
    code, text = _tutor("progress")
    assert code == 0 and text.startswith("note: the progress file was damaged")
    assert "0/3 exercises passed" in text


def test_progress_command_runs_as_a_program(tmp_path: Path) -> None:
    env = {**os.environ, "TUTOR_HOME": str(tmp_path), "TUTOR_SEAT": "pytest"}
    done = subprocess.run(
        [sys.executable, "-m", "tutor", "--lessons", str(GOOD_COURSE), "progress", "reset", "--all"],
        cwd=ROOT, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60,
    )
    assert done.returncode == 1 and "without confirmation" in done.stdout and not done.stderr
    done = subprocess.run(
        [sys.executable, "-m", "tutor", "--lessons", str(GOOD_COURSE), "progress"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0 and "0/3 exercises passed" in done.stdout, done.stdout + done.stderr
