"""Resetting a seat between learners: export the session, then remove what it left behind.

Order matters, and each step can be repeated:

1. A marker (``seats/.<seat>.reset.json``) names the session being reset, so a
   reset that crashed is finished by the next one under the same session id.
2. The progress is exported: one JSON per session (written whole, then renamed
   into place) and one row appended to ``sessions.csv`` (under a lock, once per
   session), both in the export folder.  If that fails nothing is removed.
3. The seat's containers and images go (``io.tutor.seat=<seat>`` only; base
   images and other seats' objects stay).  An engine that does not answer is
   reported, and the next reset tries again.
4. The seat's folder (workspace, progress, build records) is renamed aside in one
   step, then deleted; an empty workspace is made.  Then the marker goes.
"""

from __future__ import annotations

import csv
import json
import os
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tutor import atomic, paths
from tutor.course.model import Course
from tutor.course.progress import PASSED, Progress, ProgressStore, lesson_state

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: one writer per export folder assumed
    fcntl = None  # type: ignore[assignment]  # no module there: the lock is skipped when None

EXPORT_FORMAT = 1
SUMMARY_CSV = "sessions.csv"
CSV_FIELDS = (
    "ended", "seat", "session", "reason", "started", "minutes", "exercises_passed", "exercises_total",
    "lessons_passed", "lessons_total", "attempts", "hints", "current_lesson", "export_file",
)
SESSION_FILE = "session.json"


class ResetError(Exception):
    """The session could not be exported, so nothing was removed; ``fix`` says what to do."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix


@dataclass(frozen=True)
class SessionExport:
    session: str
    json_path: Path
    csv_path: Path


@dataclass(frozen=True)
class EngineCleanup:
    containers_removed: int = 0
    images_removed: int = 0
    problem: str | None = None  # why the engine's objects could not (all) be removed


@dataclass(frozen=True)
class ResetResult:
    seat: str
    reason: str
    export: SessionExport
    engine: EngineCleanup
    workspace: Path

    @property
    def ok(self) -> bool:
        return self.engine.problem is None

    def summary(self) -> str:
        e = self.engine
        text = f"progress saved to {self.export.json_path.name}; removed {e.containers_removed} container(s) and {e.images_removed} image(s)"
        return text if e.problem is None else f"{text}; engine: {e.problem}"


# -- sessions ----------------------------------------------------------------------------------------


def _new_session_id(clock: Callable[[], float]) -> str:
    return time.strftime("%Y%m%d-%H%M%S", time.localtime(clock())) + "-" + secrets.token_hex(2)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_json(path: Path, data: dict[str, Any], mode: int = 0o600) -> None:
    """Whole or not at all: a temporary file beside it, then a rename."""
    atomic.write_text(path, json.dumps(data, indent=1, sort_keys=True) + "\n", mode)

def session(seat: str, clock: Callable[[], float] = time.time) -> tuple[str, float]:
    """This seat's current session (id, start time), begun now if there is none."""
    path = paths.seat_dir(seat) / SESSION_FILE
    data = _read_json(path)
    if data and isinstance(data.get("session"), str) and isinstance(data.get("started"), (int, float)):
        return data["session"], float(data["started"])
    started = clock()
    sid = _new_session_id(lambda: started)
    _write_json(path, {"session": sid, "started": started})
    return sid, started


def has_session(seat: str) -> bool:
    """True once a learner started a session at this seat (or left progress behind)."""
    return (paths.seat_dir(seat) / SESSION_FILE).exists() or paths.progress_file(seat).exists()


def _marker(seat: str) -> Path:
    return paths.data_dir() / "seats" / f".{seat}.reset.json"


def pending_reset(seat: str) -> bool:
    """True when a reset of this seat was interrupted and should be finished."""
    return _marker(seat).exists()


# -- the export --------------------------------------------------------------------------------------


def _iso(epoch: float | None) -> str | None:
    return None if epoch is None else time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(epoch))


def session_report(
    seat: str, sid: str, started: float, ended: float, reason: str, progress: Progress, course: Course | None
) -> dict[str, Any]:
    """What the instructor gets for one learner session: a summary, per-lesson detail, the raw progress."""
    lessons: list[dict[str, Any]] = []
    exercises_total = exercises_passed = lessons_passed = 0
    if course is not None:
        for lesson in course.lessons:
            state = lesson_state(lesson, progress)
            lessons_passed += state == PASSED
            rows = []
            for exercise in lesson.exercises:
                ep = progress.exercise(lesson.id, exercise.id)
                exercises_total += 1
                exercises_passed += ep.passed
                rows.append({"id": exercise.id, "title": exercise.title, **ep.to_dict()})
            lessons.append({"id": lesson.id, "title": lesson.title, "state": state, "exercises": rows})
    else:
        exercises_total = len(progress.exercises)
        exercises_passed = sum(1 for ep in progress.exercises.values() if ep.passed)
    attempts = sum(ep.attempts for ep in progress.exercises.values())
    hints = sum(ep.hints_revealed for ep in progress.exercises.values())
    spent = sum(ep.seconds for ep in progress.exercises.values())
    return {
        "format": EXPORT_FORMAT,
        "seat": seat,
        "session": sid,
        "reason": reason,
        "started": _iso(started),
        "ended": _iso(ended),
        "summary": {
            "minutes": round((ended - started) / 60, 1),
            "build_minutes": round(spent / 60, 1),
            "exercises_passed": exercises_passed,
            "exercises_total": exercises_total,
            "lessons_passed": lessons_passed,
            "lessons_total": len(course.lessons) if course else None,
            "attempts": attempts,
            "hints": hints,
            "current_lesson": progress.current[0] if progress.current else None,
        },
        "lessons": lessons,
        "progress": progress.to_dict(),
    }


def _append_summary(csv_path: Path, row: dict[str, Any]) -> None:
    """One row per session, however often the export is repeated; seats share the file under a lock."""
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    with open(csv_path, "a+", newline="", encoding="utf-8") as fh:
        if fcntl is not None:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        fh.seek(0)
        existing = list(csv.DictReader(fh)) if os.fstat(fh.fileno()).st_size else None
        if existing is not None and any(r.get("session") == row["session"] and r.get("seat") == row["seat"] for r in existing):
            return
        fh.seek(0, os.SEEK_END)
        writer = csv.DictWriter(fh, fieldnames=CSV_FIELDS, extrasaction="ignore")
        if existing is None:
            writer.writeheader()
        writer.writerow(row)
        fh.flush()
        os.fsync(fh.fileno())


def export_session(
    seat: str,
    export_dir: Path,
    course: Course | None = None,
    reason: str = "reset",
    clock: Callable[[], float] = time.time,
    sid: str | None = None,
) -> SessionExport:
    """Write the seat's session to ``export_dir``: ``<seat>_<session>.json`` and a row of sessions.csv."""
    found_sid, started = session(seat, clock)
    sid = sid or found_sid
    progress, _notice = ProgressStore(paths.progress_file(seat)).load()
    ended = clock()
    report = session_report(seat, sid, started, ended, reason, progress, course)
    export_dir = Path(export_dir)
    json_path = export_dir / f"{seat}_{sid}.json"
    csv_path = export_dir / SUMMARY_CSV
    _write_json(json_path, report, mode=0o644)  # read by the instructor, often as another user
    summary = report["summary"]
    _append_summary(
        csv_path,
        {
            "ended": report["ended"], "seat": seat, "session": sid, "reason": reason, "started": report["started"],
            **{k: summary[k] for k in ("minutes", "exercises_passed", "exercises_total", "lessons_passed",
                                       "lessons_total", "attempts", "hints", "current_lesson")},
            "export_file": json_path.name,
        },
    )
    return SessionExport(sid, json_path, csv_path)


# -- the reset -----------------------------------------------------------------------------------------


def _engine_cleanup(seat: str, engine: str | None) -> EngineCleanup:
    from tutor.engine.client import EngineUnavailable, connect
    from tutor.engine.containers import ContainerError, cleanup_seat

    try:
        api = connect(engine, timeout=30)
    except EngineUnavailable as exc:
        return EngineCleanup(problem=f"{exc.problem.reason} The next reset removes this seat's images. {exc.problem.fix}")
    try:
        result = cleanup_seat(api, seat)
    except (ContainerError, EngineUnavailable) as exc:
        message = getattr(exc, "message", None) or getattr(getattr(exc, "problem", None), "reason", str(exc))
        return EngineCleanup(problem=f"{message} The next reset tries again.")
    finally:
        api.close()
    problem = "; ".join(result.failures) or None
    return EngineCleanup(result.containers_removed, result.images_removed, problem)


def _wipe_seat_folder(seat: str, sid: str) -> None:
    folder = paths.seat_dir(seat)
    trash = folder.with_name(f".{seat}.trash-{sid}")
    if folder.exists():
        if trash.exists():
            shutil.rmtree(trash, ignore_errors=True)
        folder.rename(trash)  # one step: the learner's files are gone from the seat at once
    for leftover in folder.parent.glob(f".{seat}.trash-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    paths.workspace_dir(seat).mkdir(parents=True, exist_ok=True)


def reset_seat(
    seat: str,
    export_dir: Path,
    *,
    engine: str | None = None,
    course: Course | None = None,
    reason: str = "reset",
    clock: Callable[[], float] = time.time,
    engine_cleanup: Callable[[str, str | None], EngineCleanup] = _engine_cleanup,
) -> ResetResult:
    """Export the seat's session, then remove its containers, images and files (see the module doc)."""
    if not seat:
        raise ValueError("a seat name is needed: an empty one would select every seat's objects")
    marker = _marker(seat)
    pending = _read_json(marker) or {}
    sid = pending.get("session") if isinstance(pending.get("session"), str) else None
    if sid is None:
        sid = session(seat, clock)[0]
        pending = {"session": sid, "reason": reason, "exported": None}
        try:
            _write_json(marker, pending)
        except OSError as exc:
            raise ResetError(f"cannot start the reset of seat {seat}: {exc.strerror or exc}",
                             f"check that {marker.parent} is writable") from exc
    reason = pending.get("reason") or reason
    exported = pending.get("exported")
    if isinstance(exported, str) and Path(exported).is_file():
        # An earlier attempt exported this session already; the seat folder may be half gone now.
        export = SessionExport(sid, Path(exported), Path(export_dir) / SUMMARY_CSV)
    else:
        try:
            export = export_session(seat, export_dir, course, reason, clock, sid=sid)
        except OSError as exc:
            raise ResetError(
                f"could not save the progress of seat {seat} to {export_dir} ({exc.strerror or exc}); nothing was removed",
                f"make {export_dir} writable (or set export_dir in the kiosk config), then reset again",
            ) from exc
        _write_json(marker, {**pending, "exported": str(export.json_path)})
    cleaned = engine_cleanup(seat, engine)
    _wipe_seat_folder(seat, sid)
    marker.unlink(missing_ok=True)
    return ResetResult(seat, reason, export, cleaned, paths.workspace_dir(seat))
