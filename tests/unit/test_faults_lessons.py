"""Malformed lessons: the broken corpus, and seeded random mutations of the shipped lessons.

Whatever an author saves, ``load_course`` and ``validate`` never raise; a lesson
either loads or is reported (its file, a line, a message); and the TUI opens on a
folder of mutated lessons, and on every lesson that still loads, without crashing.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.conftest import FIXTURES, ROOT, STREAMS
from tests.ui.conftest import connected_report, wait_for
from tutor.course.loader import LESSON_FILE, load_course
from tutor.course.model import LessonProblem
from tutor.course.validator import validate
from tutor.ui.app import TutorApp
from tutor.ui.backend import ReplayBackend
from tutor.ui.screens.course_map import CourseMapScreen
from tutor.ui.screens.lesson import LessonScreen

SEED = 20240611
BROKEN = FIXTURES / "courses" / "broken"
LESSONS = ROOT / "lessons"
MUTATIONS_PER_LESSON = 30

# -- mutations -----------------------------------------------------------------------------------

Mutation = Callable[[bytes, random.Random], bytes]


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def delete_lines(data: bytes, rng: random.Random) -> bytes:
    lines = _lines(data) or [b""]
    start = rng.randrange(len(lines))
    del lines[start : start + rng.randint(1, 3)]
    return b"".join(lines)


def duplicate_lines(data: bytes, rng: random.Random) -> bytes:
    lines = _lines(data) or [b""]
    start = rng.randrange(len(lines))
    chunk = lines[start : start + rng.randint(1, 4)]
    at = rng.randrange(len(lines) + 1)
    return b"".join(lines[:at] + chunk + lines[at:])


_OTHER_TYPES = ("[1, 2]", "{a: 1}", "42", "-7", "true", "null", "''", "3.5", '"x"', "|\n  block", "[]", "~")


def swap_yaml_type(data: bytes, rng: random.Random) -> bytes:
    """Give one `key: value` line of the front matter a value of another type."""
    lines = _lines(data)
    end = next((i for i, line in enumerate(lines[1:], start=1) if line.strip() == b"---"), len(lines))
    candidates = [i for i in range(1, end) if b": " in lines[i] or lines[i].rstrip().endswith(b":")]
    if not candidates:
        return data
    i = rng.choice(candidates)
    key = lines[i].split(b":", 1)[0]
    lines[i] = key + b": " + rng.choice(_OTHER_TYPES).encode() + b"\n"
    return b"".join(lines)


def inject_binary(data: bytes, rng: random.Random) -> bytes:
    at = rng.randrange(len(data) + 1)
    if rng.random() < 0.5:  # not UTF-8 at all
        junk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    else:  # valid UTF-8, but control characters and escapes
        junk = "".join(rng.choice("\x00\x07\x08\x1b[2J\x1bc\t\r\x7f\u202e\ufeff") for _ in range(16)).encode()
    return data[:at] + junk + data[at:]


def break_indentation(data: bytes, rng: random.Random) -> bytes:
    lines = _lines(data)
    indented = [i for i, line in enumerate(lines) if line.startswith(b"  ")]
    if not indented:
        return data
    i = rng.choice(indented)
    lines[i] = rng.choice([b"\t", b" ", b"      "]) + lines[i].lstrip(b" ")
    return b"".join(lines)


def drop_delimiter(data: bytes, rng: random.Random) -> bytes:
    lines = _lines(data)
    delimiters = [i for i, line in enumerate(lines) if line.strip() == b"---"]
    if not delimiters:
        return data
    i = rng.choice(delimiters)
    lines[i] = rng.choice([b"", b"--\n", b"----\n", b"... \n"])
    return b"".join(lines)


MUTATIONS: tuple[Mutation, ...] = (
    truncate,
    delete_lines,
    duplicate_lines,
    swap_yaml_type,
    inject_binary,
    break_indentation,
    drop_delimiter,
)


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One to three mutations in a row."""
    for _ in range(rng.choice((1, 1, 2, 3))):
        data = rng.choice(MUTATIONS)(data, rng) or b""
        if not data:
            break
    return data


# -- the mutated courses -----------------------------------------------------------------------


def _mutated_lessons(root: Path) -> list[Path]:
    """Every shipped lesson folder copied MUTATIONS_PER_LESSON times with a mutated lesson.md."""
    rng = random.Random(SEED)
    made: list[Path] = []
    for lesson_dir in sorted(p for p in LESSONS.iterdir() if (p / LESSON_FILE).is_file()):
        original = (lesson_dir / LESSON_FILE).read_bytes()
        for n in range(MUTATIONS_PER_LESSON):
            dest = root / f"{lesson_dir.name}-m{n:02d}" / lesson_dir.name
            shutil.copytree(lesson_dir, dest)
            (dest / LESSON_FILE).write_bytes(mutate(original, rng))
            made.append(dest)
    return made


@pytest.fixture(scope="module")
def mutated(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """One course folder per mutated lesson (so one lesson's id cannot hide another's problem)."""
    return [path.parent for path in _mutated_lessons(tmp_path_factory.mktemp("mutated"))]


def _check_problem(problem: LessonProblem, root: Path) -> None:
    assert isinstance(problem, LessonProblem)
    assert problem.message.strip() and "Traceback" not in problem.message
    assert problem.line >= 0
    assert problem.file == root or root in problem.file.parents, problem
    assert str(problem).startswith(str(problem.file))


def test_mutations_are_reproducible_and_mostly_break_something(mutated: list[Path]) -> None:
    rng_a, rng_b = random.Random(SEED), random.Random(SEED)
    data = (LESSONS / "03-layer-cache" / LESSON_FILE).read_bytes()
    assert [mutate(data, rng_a) for _ in range(5)] == [mutate(data, rng_b) for _ in range(5)]
    broken = sum(1 for root in mutated if load_course(root).problems)
    # most mutations break a lesson; the rest (e.g. a line deleted from the body) are harmless
    assert broken >= len(mutated) // 2, f"only {broken} of {len(mutated)} mutated lessons were broken"


def test_every_mutated_lesson_loads_or_is_reported(mutated: list[Path]) -> None:
    for root in mutated:
        course = load_course(root)
        lesson_md = next(root.glob(f"*/{LESSON_FILE}"))
        if not course.lessons:
            assert any(p.file == lesson_md for p in course.problems), (lesson_md, course.problems)
        for problem in course.problems:
            _check_problem(problem, root)


def test_validate_never_raises_on_mutated_lessons(mutated: list[Path]) -> None:
    for root in mutated:
        problems = validate(root)
        for problem in problems:
            _check_problem(problem, root)
        if not load_course(root).lessons:
            assert problems, root


def test_a_folder_of_all_mutated_lessons_loads(mutated: list[Path], tmp_path: Path) -> None:
    """All of them side by side: duplicated ids and orders are reported too, never raised."""
    together = tmp_path / "together"
    for root in mutated:
        (lesson_dir,) = [p for p in root.iterdir() if p.is_dir()]
        shutil.copytree(lesson_dir, together / root.name)  # e.g. together/03-layer-cache-m07/lesson.md
    course = load_course(together)
    problems = validate(together)
    assert problems
    for problem in problems:
        _check_problem(problem, together)
    ids = [lesson.id for lesson in course.lessons]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("case", sorted(p.name for p in BROKEN.iterdir() if p.is_dir()))
def test_every_broken_corpus_course_is_reported(case: str) -> None:
    root = BROKEN / case
    course = load_course(root)
    problems = validate(root)
    assert problems, case
    for problem in problems:
        _check_problem(problem, root)
    assert "01-fine" in {lesson.path.parent.name for lesson in course.lessons}
    for lesson_md in root.glob(f"*/{LESSON_FILE}"):
        loaded = any(lesson.path == lesson_md for lesson in course.lessons)
        assert loaded or any(p.file == lesson_md for p in course.problems), lesson_md


def test_the_yaml_swaps_really_change_types() -> None:
    """A guard on the mutation itself: the swapped value is no longer the original type."""
    rng = random.Random(SEED)
    data = (LESSONS / "01-meet-the-app" / LESSON_FILE).read_bytes()
    changed = 0
    for _ in range(20):
        swapped = swap_yaml_type(data, rng)
        try:
            meta = yaml.safe_load(swapped.split(b"---")[1])
        except yaml.YAMLError:
            changed += 1
            continue
        original = yaml.safe_load(data.split(b"---")[1])
        changed += meta != original
    assert changed >= 15


# -- the TUI on mutated lessons ------------------------------------------------------------------


async def test_tui_opens_on_a_folder_of_mutated_lessons(mutated: list[Path], tmp_path: Path) -> None:
    course_dir = tmp_path / "course"
    rng = random.Random(SEED)
    for root in rng.sample(mutated, 24):
        (lesson_dir,) = [p for p in root.iterdir() if p.is_dir()]
        shutil.copytree(lesson_dir, course_dir / root.name)
    backend = ReplayBackend([STREAMS / "cold.jsonl"], connected_report())
    app = TutorApp(lessons_dir=course_dir, backend=backend, engine_check_seconds=0)
    assert app.course.problems  # some of them are broken
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, CourseMapScreen))
        await wait_for(pilot, lambda: any(n.title == "Lesson skipped" for n in app._notifications))
        for lesson in app.course.lessons:
            app.open_lesson(lesson.id)
            await wait_for(
                pilot, lambda lesson=lesson: isinstance(app.screen, LessonScreen) and app.screen.lesson.id == lesson.id
            )
            await pilot.press("2", "3", "1")
        if app.course.lessons:
            screen = app.screen
            assert isinstance(screen, LessonScreen)
            if screen.exercise is not None and not screen.exercise.predict:
                await pilot.press("b")
                await wait_for(pilot, lambda: screen.builds_started == 1 and not screen.building)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, CourseMapScreen))
        await pilot.press("down", "down", "enter")
        await pilot.pause(0.2)
    assert app.return_code in (None, 0)
