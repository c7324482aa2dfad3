"""The learner's progress: every exercise's state and where to pick up again.

Saved as JSON at ``paths.progress_file()`` (one file per seat).  Three promises:

- A write is atomic: a temporary file in the same folder, fsync, ``os.replace``,
  fsync of the folder.  A process killed mid-write leaves the previous file whole.
- A damaged file (bad JSON, wrong types, binary junk, numbers of thousands of digits,
  nesting beyond reason, more than ``MAX_FILE_BYTES``) never crashes the tutor: it
  is moved aside to ``progress.json.damaged-<timestamp>`` and a notice says so.
- A folder the tutor cannot write (read-only, immutable, not a folder) never stops
  it: the store keeps the session's progress in memory and says once why it cannot
  be saved (``strict=True``, for commands whose whole point is a change, raises
  ``ProgressError`` instead).
- Several tutor processes may share one file: every change takes an advisory lock
  (``flock`` on ``progress.json.lock``), re-reads the file under it and applies the
  change to what it finds, so concurrent updates are all kept.

``Progress`` and ``ExerciseProgress`` are frozen snapshots; only ``ProgressStore``
writes.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from tutor import paths
from tutor.course.model import Course, Exercise, Lesson

try:  # advisory locks: POSIX only; elsewhere a single process per seat is assumed
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]  # no module there: the lock is skipped when None

FORMAT = 1
NEW, ATTEMPTED, PASSED = "new", "attempted", "passed"
STATES = (NEW, ATTEMPTED, PASSED)
DAMAGED_SUFFIX = ".damaged-"

T = TypeVar("T")
Key = tuple[str, str]  # (lesson id, exercise id)


class DamagedProgress(ValueError):
    """The progress file cannot be trusted; the message says why."""


class ProgressError(Exception):
    """Progress could not be saved (e.g. the folder is read-only); the message says why."""


@dataclass(frozen=True)
class ExerciseProgress:
    state: str = NEW  # new | attempted | passed (passed stays passed)
    attempts: int = 0
    first_attempt: float | None = None  # epoch seconds
    last_attempt: float | None = None
    seconds: float = 0.0  # time spent on it
    hints_revealed: int = 0
    solution_revealed: bool = False
    last_passed: bool | None = None  # outcome of the latest attempt
    passed_at: float | None = None  # when it first passed

    @property
    def passed(self) -> bool:
        return self.state == PASSED

    @property
    def started(self) -> bool:
        return self.state != NEW

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_EMPTY = ExerciseProgress()


@dataclass(frozen=True)
class Progress:
    """A snapshot of the file: exercises by (lesson id, exercise id), the current place, visited lessons."""

    exercises: Mapping[Key, ExerciseProgress] = field(default_factory=lambda: MappingProxyType({}))
    current: tuple[str, str | None] | None = None  # (lesson id, exercise id or None for a reading-only lesson)
    visited: frozenset[str] = frozenset()  # lessons the learner has opened
    updated: float | None = None

    def exercise(self, lesson_id: str, exercise_id: str) -> ExerciseProgress:
        return self.exercises.get((lesson_id, exercise_id), _EMPTY)

    def lesson(self, lesson_id: str) -> dict[str, ExerciseProgress]:
        """The recorded exercises of one lesson (exercise id -> progress)."""
        return {e: p for (lesson, e), p in self.exercises.items() if lesson == lesson_id}

    def to_dict(self) -> dict[str, Any]:
        lessons: dict[str, dict[str, Any]] = {}
        for (lesson_id, exercise_id), progress in sorted(self.exercises.items()):
            lessons.setdefault(lesson_id, {})[exercise_id] = progress.to_dict()
        current = None if self.current is None else {"lesson": self.current[0], "exercise": self.current[1]}
        return {
            "format": FORMAT,
            "updated": self.updated,
            "current": current,
            "visited": sorted(self.visited),
            "lessons": lessons,
        }


# -- reading and checking the file ------------------------------------------------------------------


MAX_FILE_BYTES = 8 * 1024 * 1024  # a course's progress takes a few kB; beyond this it is not ours
MAX_NUMBER = 1e12  # seconds, timestamps (the year 33658) and counts stay far below it
_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")  # lesson and exercise ids (see schema.ID_RE)


def _shown(value: Any) -> str:
    """A value for a message: short, whatever it is."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_NUMBER:
        return "a number too big to be a count"
    text = repr(value) if not isinstance(value, (dict, list)) else ("an object" if isinstance(value, dict) else "a list")
    return text if len(text) <= 60 else text[:57] + "..."


def _in_range(value: Any) -> bool:
    return (
        not isinstance(value, bool)
        and isinstance(value, (int, float))
        and (isinstance(value, int) or math.isfinite(value))
        and 0 <= value <= MAX_NUMBER
    )


def _number(value: Any, what: str, optional: bool = False) -> float | None:
    if value is None and optional:
        return None
    if not _in_range(value):
        raise DamagedProgress(f"{what} should be a number from 0 to {MAX_NUMBER:.0e}, found {_shown(value)}")
    return float(value)


def _count(value: Any, what: str) -> int:
    if not _in_range(value) or not isinstance(value, int):
        raise DamagedProgress(f"{what} should be a whole number from 0 to {MAX_NUMBER:.0e}, found {_shown(value)}")
    return value


def _ident(value: Any, what: str) -> str:
    """Lesson and exercise ids: the tutor prints them, so nothing but what the schema allows."""
    if not isinstance(value, str) or not _ID_RE.match(value):
        raise DamagedProgress(f"{what} should be an id (lowercase letters, digits, dashes), found {_shown(value)}")
    return value


def _exercise_from(data: Any, where: str) -> ExerciseProgress:
    if not isinstance(data, dict):
        raise DamagedProgress(f"{where} should be an object")
    state = data.get("state", NEW)
    if state not in STATES:
        raise DamagedProgress(f"{where}.state should be one of {', '.join(STATES)}, found {state!r}")
    solution = data.get("solution_revealed", False)
    last_passed = data.get("last_passed")
    if not isinstance(solution, bool):
        raise DamagedProgress(f"{where}.solution_revealed should be true or false, found {solution!r}")
    if last_passed is not None and not isinstance(last_passed, bool):
        raise DamagedProgress(f"{where}.last_passed should be true, false or null, found {last_passed!r}")
    return ExerciseProgress(
        state=state,
        attempts=_count(data.get("attempts", 0), f"{where}.attempts"),
        first_attempt=_number(data.get("first_attempt"), f"{where}.first_attempt", optional=True),
        last_attempt=_number(data.get("last_attempt"), f"{where}.last_attempt", optional=True),
        seconds=_number(data.get("seconds", 0.0), f"{where}.seconds") or 0.0,
        hints_revealed=_count(data.get("hints_revealed", 0), f"{where}.hints_revealed"),
        solution_revealed=solution,
        last_passed=last_passed,
        passed_at=_number(data.get("passed_at"), f"{where}.passed_at", optional=True),
    )


def parse(data: Any) -> Progress:
    """The progress a decoded JSON document holds; ``DamagedProgress`` when it is not one."""
    if not isinstance(data, dict):
        raise DamagedProgress("the file does not hold a JSON object")
    if data.get("format") != FORMAT:
        raise DamagedProgress(f"unknown format {data.get('format')!r} (expected {FORMAT})")
    lessons = data.get("lessons", {})
    if not isinstance(lessons, dict):
        raise DamagedProgress("lessons should be an object")
    exercises: dict[Key, ExerciseProgress] = {}
    for lesson_id, entries in lessons.items():
        _ident(lesson_id, "a lesson id")
        if not isinstance(entries, dict):
            raise DamagedProgress(f"lessons.{lesson_id} should be an object")
        for exercise_id, entry in entries.items():
            _ident(exercise_id, f"an exercise id in lessons.{lesson_id}")
            exercises[(lesson_id, exercise_id)] = _exercise_from(entry, f"lessons.{lesson_id}.{exercise_id}")
    current_data = data.get("current")
    current: tuple[str, str | None] | None = None
    if current_data is not None:
        if not isinstance(current_data, dict) or not isinstance(current_data.get("lesson"), str):
            raise DamagedProgress("current should be an object with a lesson id")
        exercise_id = current_data.get("exercise")
        if exercise_id is not None:
            _ident(exercise_id, "current.exercise")
        current = (_ident(current_data["lesson"], "current.lesson"), exercise_id)
    visited = data.get("visited", [])
    if not isinstance(visited, list) or not all(isinstance(v, str) and _ID_RE.match(v) for v in visited):
        raise DamagedProgress("visited should be a list of lesson ids")
    return Progress(
        MappingProxyType(exercises),
        current,
        frozenset(visited),
        _number(data.get("updated"), "updated", optional=True),
    )


def decode(raw: bytes) -> Progress:
    """The progress in a file's bytes; ``DamagedProgress`` for anything else, whatever it holds."""
    if len(raw) > MAX_FILE_BYTES:
        raise DamagedProgress(f"it is too big to be a progress file ({len(raw):,} bytes)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DamagedProgress(f"it is not text (byte {exc.start} is not UTF-8)") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DamagedProgress(f"it is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise DamagedProgress("it nests lists or objects too deeply") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise DamagedProgress(f"it holds a value that cannot be read ({str(exc).split(':')[0][:80]})") from None
    try:
        return parse(data)
    except DamagedProgress:
        raise
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise DamagedProgress(f"it holds values that cannot be read ({type(exc).__name__})") from None


# -- the store --------------------------------------------------------------------------------------


@dataclass
class _Draft:
    """A mutable copy of the progress, changed under the lock and written back."""

    exercises: dict[Key, ExerciseProgress]
    current: tuple[str, str | None] | None
    visited: set[str]

    @classmethod
    def of(cls, progress: Progress) -> _Draft:
        return cls(dict(progress.exercises), progress.current, set(progress.visited))

    def freeze(self, updated: float | None) -> Progress:
        return Progress(MappingProxyType(dict(self.exercises)), self.current, frozenset(self.visited), updated)

    def get(self, lesson_id: str, exercise_id: str) -> ExerciseProgress:
        return self.exercises.get((lesson_id, exercise_id), _EMPTY)


class ProgressStore:
    """Reads and changes one progress file; safe across threads and processes."""

    def __init__(
        self, path: Path | str | None = None, clock: Callable[[], float] = time.time, strict: bool = False
    ) -> None:
        self.path = Path(path) if path is not None else paths.progress_file()
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self._clock = clock
        self._strict = strict
        self._thread_lock = threading.Lock()  # flock is per open file; this keeps threads orderly too
        self._notice: str | None = None  # a damage found during a change, for the next load()
        self._probed = False
        # Set when progress cannot be saved: the session's progress lives here from then on.
        self._memory: Progress | None = None
        self.unsaved: str | None = None  # why progress cannot be saved

    # -- reading -----------------------------------------------------------------------------------

    def load(self) -> tuple[Progress, str | None]:
        """The saved progress, and a notice when a damaged file had to be moved aside or progress
        cannot be saved (each said once)."""
        if self._memory is not None:
            return self._memory, self._take_notice()
        progress, notice = self._load_file()
        self._remember(notice)
        if not self._strict and not self._probed:
            self._probed = True
            why = self._cannot_save()
            if why is not None:
                self._keep_in_memory(progress, why)
        return progress, self._take_notice()

    def _load_file(self) -> tuple[Progress, str | None]:
        try:
            return self._read(), None
        except DamagedProgress as damage:
            # Look again under the lock: another process may be replacing it right now.
            try:
                with self._locked():
                    return self._read_or_set_aside()
            except (ProgressError, OSError) as exc:
                return Progress(), f"the progress file {self.path} is damaged ({damage}) and could not be moved aside ({_why(exc)})"
        except OSError as exc:
            return Progress(), f"the progress file {self.path} could not be read ({_why(exc)}); progress starts empty"

    def _take_notice(self) -> str | None:
        notice, self._notice = self._notice, None
        return notice

    def _cannot_save(self) -> str | None:
        """Why nothing could be saved here now, or None; leaves nothing behind.

        An existing folder is tried with a file made and removed at once (as root, only
        that tells an immutable folder); a missing one needs an ancestor it can be made in.
        """
        folder = self.path.parent
        try:
            if folder.is_dir():
                fd, trial = tempfile.mkstemp(prefix=".tutor-write-test-", dir=folder)
                os.close(fd)
                os.unlink(trial)
                return None
            ancestor = folder
            while not ancestor.exists() and ancestor != ancestor.parent:
                ancestor = ancestor.parent
            if not ancestor.is_dir():
                return f"{ancestor} is not a folder"
            if not os.access(ancestor, os.W_OK | os.X_OK):
                return f"{ancestor} cannot be written"
        except OSError as exc:
            return _why(exc)
        return None

    def _keep_in_memory(self, progress: Progress, why: str) -> None:
        """From now on, changes live in memory only; the next load() says so, once."""
        self._memory = progress
        self.unsaved = why
        self._remember(
            f"progress cannot be saved in {self.path.parent} ({why}); what you do now is kept "
            "until the tutor closes, and the saved progress stays as it was"
        )

    def _read(self) -> Progress:
        try:
            mode = self.path.stat().st_mode
            if stat.S_ISDIR(mode):
                raise IsADirectoryError
            if not stat.S_ISREG(mode):  # a pipe would block the read for ever
                raise DamagedProgress("it is not a regular file")
            with self.path.open("rb") as fh:
                raw = fh.read(MAX_FILE_BYTES + 1)  # never more: decode() refuses a bigger file
        except FileNotFoundError:
            return Progress()
        except IsADirectoryError:
            raise DamagedProgress("it is a folder, not a file") from None
        return decode(raw)

    def _read_or_set_aside(self) -> tuple[Progress, str | None]:
        """Under the lock: the progress, or an empty one after moving a damaged file aside."""
        try:
            return self._read(), None
        except DamagedProgress as exc:
            kept = self._set_aside()
            return Progress(), (
                f"the progress file was damaged ({exc}); it was kept as {kept.name} beside it and progress starts over"
            )

    def _set_aside(self) -> Path:
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(self._clock()))
        target = self.path.with_name(f"{self.path.name}{DAMAGED_SUFFIX}{stamp}")
        n = 1
        while target.exists():
            n += 1
            target = self.path.with_name(f"{self.path.name}{DAMAGED_SUFFIX}{stamp}-{n}")
        os.replace(self.path, target)
        _fsync_dir(self.path.parent)
        return target

    def _remember(self, notice: str | None) -> None:
        if notice is not None:
            self._notice = notice if self._notice is None else f"{self._notice}; {notice}"

    # -- changing ------------------------------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._thread_lock:
            folder = self.path.parent
            if folder.exists() and not folder.is_dir():  # mkdir would only say "File exists"
                raise ProgressError(f"cannot save progress in {folder}: it is a file, not a folder")
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise ProgressError(f"cannot save progress in {self.path.parent}: {exc.strerror or exc}") from exc
            try:
                if fcntl is not None:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)  # closing releases the lock

    def _update(self, change: Callable[[_Draft], T]) -> T:
        """Re-read under the lock, apply ``change`` to what is there now, write it back.

        When that fails, a strict store raises ProgressError; the others keep the change
        (and every later one) in memory.
        """
        if self._memory is None:
            try:
                return self._update_file(change)
            except ProgressError as exc:
                if self._strict:
                    raise
                self._keep_in_memory(self._last_known(), _why(exc))
        with self._thread_lock:
            assert self._memory is not None
            draft = _Draft.of(self._memory)
            result = change(draft)
            self._memory = draft.freeze(self._clock())
            return result

    def _last_known(self) -> Progress:
        """What the file holds, when it can still be read; else nothing."""
        try:
            return self._read()
        except (DamagedProgress, OSError):
            return Progress()

    def _update_file(self, change: Callable[[_Draft], T]) -> T:
        with self._locked():
            self._remove_orphans()
            try:
                current, notice = self._read_or_set_aside()
            except OSError as exc:
                raise ProgressError(f"cannot read the progress file {self.path}: {_why(exc)}") from exc
            self._remember(notice)
            draft = _Draft.of(current)
            result = change(draft)
            self._write(draft.freeze(self._clock()))
            return result

    def _write(self, progress: Progress) -> None:
        data = json.dumps(progress.to_dict(), indent=1, sort_keys=True).encode("utf-8") + b"\n"
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        except OSError as exc:
            raise ProgressError(f"cannot save progress in {self.path.parent}: {exc.strerror or exc}") from exc
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException as exc:
            # Whatever stopped us, the previous file is untouched: drop the half-done copy.
            try:
                os.unlink(tmp)
            except OSError:
                pass
            if isinstance(exc, OSError):
                raise ProgressError(f"cannot save progress to {self.path}: {exc.strerror or exc}") from exc
            raise
        _fsync_dir(self.path.parent)

    def _remove_orphans(self) -> None:
        """Temporary files of writers that were killed (only a writer holding the lock makes one)."""
        for orphan in self.path.parent.glob(f".{self.path.name}.*.tmp"):
            try:
                orphan.unlink()
            except OSError:
                pass

    # -- the operations ------------------------------------------------------------------------------

    def record_attempt(self, lesson_id: str, exercise_id: str, passed: bool, seconds: float = 0.0) -> ExerciseProgress:
        """One run of the exercise's checks; a passed exercise stays passed."""
        spent = seconds if isinstance(seconds, (int, float)) and math.isfinite(seconds) and seconds > 0 else 0.0

        def change(d: _Draft) -> ExerciseProgress:
            now = self._clock()
            old = d.get(lesson_id, exercise_id)
            new = dataclasses.replace(
                old,
                state=PASSED if passed or old.passed else ATTEMPTED,
                attempts=old.attempts + 1,
                first_attempt=old.first_attempt if old.first_attempt is not None else now,
                last_attempt=now,
                seconds=round(old.seconds + spent, 3),
                last_passed=bool(passed),
                passed_at=old.passed_at if old.passed_at is not None else (now if passed else None),
            )
            d.exercises[(lesson_id, exercise_id)] = new
            return new

        return self._update(change)

    def add_time(self, lesson_id: str, exercise_id: str, seconds: float) -> ExerciseProgress:
        """Time spent on an exercise outside an attempt (reading, editing)."""
        spent = seconds if isinstance(seconds, (int, float)) and math.isfinite(seconds) and seconds > 0 else 0.0

        def change(d: _Draft) -> ExerciseProgress:
            old = d.get(lesson_id, exercise_id)
            new = dataclasses.replace(old, seconds=round(old.seconds + spent, 3))
            d.exercises[(lesson_id, exercise_id)] = new
            return new

        return self._update(change)

    def reveal_hint(self, lesson_id: str, exercise_id: str, available: int | None = None) -> int:
        """Count one more hint as shown; returns how many are shown now (at most ``available``)."""

        def change(d: _Draft) -> int:
            old = d.get(lesson_id, exercise_id)
            count = old.hints_revealed + 1
            if available is not None:
                count = min(count, max(0, available))
            d.exercises[(lesson_id, exercise_id)] = dataclasses.replace(old, hints_revealed=count)
            return count

        return self._update(change)

    def reveal_solution(self, lesson_id: str, exercise_id: str) -> ExerciseProgress:
        def change(d: _Draft) -> ExerciseProgress:
            new = dataclasses.replace(d.get(lesson_id, exercise_id), solution_revealed=True)
            d.exercises[(lesson_id, exercise_id)] = new
            return new

        return self._update(change)

    def set_current(self, lesson_id: str, exercise_id: str | None = None) -> None:
        """Where the learner is now (``exercise_id`` None: a lesson without exercises)."""

        def change(d: _Draft) -> None:
            d.current = (lesson_id, exercise_id)
            d.visited.add(lesson_id)

        self._update(change)

    def reset(self, lesson_id: str | None = None, exercise_id: str | None = None) -> int:
        """Forget one exercise, one lesson, or (no arguments) everything; returns exercises forgotten."""
        if exercise_id is not None and lesson_id is None:
            raise ValueError("an exercise is reset within its lesson: give the lesson id too")

        def change(d: _Draft) -> int:
            if lesson_id is None:
                count = len(d.exercises)
                d.exercises.clear()
                d.current = None
                d.visited.clear()
                return count
            doomed = [
                key for key in d.exercises if key[0] == lesson_id and (exercise_id is None or key[1] == exercise_id)
            ]
            for key in doomed:
                del d.exercises[key]
            if exercise_id is None:
                d.visited.discard(lesson_id)
            return len(doomed)

        return self._update(change)


def _why(exc: BaseException) -> str:
    """An OSError's reason without its errno, e.g. ``Read-only file system`` (a ProgressError's cause's)."""
    if isinstance(exc, ProgressError) and isinstance(exc.__cause__, OSError):
        exc = exc.__cause__
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)


def _fsync_dir(folder: Path) -> None:
    """Make a rename durable: flush the folder's entry (not possible on every system)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- course order -----------------------------------------------------------------------------------

Place = tuple[str, str | None]  # (lesson id, exercise id or None for a lesson without exercises)


def places(course: Course) -> list[Place]:
    """Every place in course order: each exercise, and each lesson that has none."""
    found: list[Place] = []
    for lesson in course.lessons:
        if lesson.exercises:
            found.extend((lesson.id, exercise.id) for exercise in lesson.exercises)
        else:
            found.append((lesson.id, None))
    return found


def is_done(place: Place, progress: Progress) -> bool:
    lesson_id, exercise_id = place
    if exercise_id is None:
        return lesson_id in progress.visited  # reading is all a lesson without exercises asks
    return progress.exercise(lesson_id, exercise_id).passed


def lesson_state(lesson: Lesson, progress: Progress) -> str:
    """``new``, ``attempted`` (something started) or ``passed`` (every exercise passed)."""
    if not lesson.exercises:
        return PASSED if lesson.id in progress.visited else NEW
    states = [progress.exercise(lesson.id, e.id) for e in lesson.exercises]
    if all(s.passed for s in states):
        return PASSED
    if any(s.started or s.hints_revealed or s.solution_revealed for s in states):
        return ATTEMPTED
    return NEW


def resume_point(course: Course, progress: Progress) -> tuple[str | None, str | None]:
    """Where the course reopens: the current exercise if not passed, else the next unpassed one.

    ``(None, None)`` for a course without lessons; when everything is passed, the
    current place (or the last one).
    """
    order = places(course)
    if not order:
        return None, None
    current = progress.current
    start = 0
    if current is not None:
        if current in order:
            if current[1] is None or not is_done(current, progress):
                return current
            start = order.index(current) + 1
        elif course.lesson(current[0]) is not None:
            # The exercise is gone from the course: carry on from the start of its lesson.
            start = next(i for i, place in enumerate(order) if place[0] == current[0])
    for place in order[start:] + order[:start]:
        if not is_done(place, progress):
            return place
    return current if current in order else order[-1]


def next_exercise(course: Course, lesson_id: str, exercise_id: str) -> tuple[Lesson, Exercise] | None:
    """The exercise after this one in course order (skipping lessons without exercises)."""
    found = False
    for lesson in course.lessons:
        for exercise in lesson.exercises:
            if found:
                return lesson, exercise
            found = lesson.id == lesson_id and exercise.id == exercise_id
    return None


def next_unpassed(course: Course, progress: Progress, lesson_id: str, exercise_id: str) -> tuple[Lesson, Exercise] | None:
    """The first exercise after this one (then from the start) that is not passed yet."""
    pairs = [(lesson, exercise) for lesson in course.lessons for exercise in lesson.exercises]
    keys = [(lesson.id, exercise.id) for lesson, exercise in pairs]
    start = keys.index((lesson_id, exercise_id)) + 1 if (lesson_id, exercise_id) in keys else 0
    for lesson, exercise in pairs[start:] + pairs[:start]:
        if (lesson.id, exercise.id) != (lesson_id, exercise_id) and not progress.exercise(lesson.id, exercise.id).passed:
            return lesson, exercise
    return None
