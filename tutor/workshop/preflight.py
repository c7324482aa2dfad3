"""Is this seat ready for a learner?  Checked when the kiosk starts, before anyone sits down.

Each problem comes with its fix, so the welcome screen can say "seat not ready:
..." to the instructor instead of a build failing in the middle of a lesson.
The engine, base image and disk checks are ``tutor doctor``'s; the seat adds the
course's own base images, the lessons the config names, the export folder and
the port range.
"""

from __future__ import annotations

import functools
import re
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tutor.course.model import Course
from tutor.engine import baseimages, ports
from tutor.engine.baseimages import BaseImageStatus
from tutor.engine.doctor import DoctorReport
from tutor.workshop.config import KioskConfig, unknown_lessons, verify_pin

_FROM_RE = re.compile(r"^\s*FROM\s+(?:--platform=\S+\s+)?(?P<image>\S+)(?:\s+AS\s+(?P<name>\S+))?", re.IGNORECASE)
_MAX_PROBES = 20  # ports of the range tried before saying none is free
EXAMPLE_PIN = "2468"  # the PIN of docs/kiosk-example.toml: printed in the guide, so never good enough


@dataclass(frozen=True)
class SeatProblem:
    what: str
    fix: str


@dataclass(frozen=True)
class PreflightResult:
    problems: tuple[SeatProblem, ...]
    needed_images: tuple[str, ...]
    report: DoctorReport | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def headline(self) -> str:
        if self.ok:
            return "seat ready"
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        return f"seat not ready: {self.problems[0].what}{more}"


def dockerfile_images(text: str) -> list[str]:
    """The images a Dockerfile starts FROM, without ``scratch``, its own stages and ARG-made names."""
    stages: set[str] = set()
    found: list[str] = []
    for line in text.splitlines():
        match = _FROM_RE.match(line)
        if not match:
            continue
        image = match.group("image")
        if image.lower() != "scratch" and image.lower() not in stages and "$" not in image and image not in found:
            found.append(image)
        if match.group("name"):
            stages.add(match.group("name").lower())
    return found


def needed_images(course: Course | None, always: Iterable[str] = baseimages.COURSE_BASE_IMAGES) -> tuple[str, ...]:
    """Every base image the course's exercises build FROM (starters, solutions and their base)."""
    found: list[str] = list(always)
    for lesson in course.lessons if course else ():
        for exercise in lesson.exercises:
            for folder in (exercise.base_dir, exercise.starter_dir, exercise.solution_dir):
                if folder is None:
                    continue
                try:
                    text = (folder / exercise.dockerfile).read_text(encoding="utf-8", errors="replace")
                except OSError:
                    continue
                found.extend(i for i in dockerfile_images(text) if i not in found)
    return tuple(found)


@functools.lru_cache(maxsize=8)
def _is_example_pin(pin_hash: str) -> bool:
    return verify_pin(EXAMPLE_PIN, pin_hash)  # ~50 ms of scrypt: once per hash, not every check


def _export_problem(folder: Path) -> SeatProblem | None:
    fix = f"create {folder} and let the user running the kiosk write to it, or set export_dir in the config"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".tutor-write-test-"):
            pass
    except OSError as exc:
        return SeatProblem(f"cannot save progress exports in {folder} ({exc.strerror or exc})", fix)
    return None


def _ports_problem(port_range: tuple[int, int]) -> SeatProblem | None:
    low, high = port_range
    for port in list(range(low, high + 1))[:_MAX_PROBES]:
        if ports.is_port_free(port, "127.0.0.1"):
            return None
    return SeatProblem(
        f"no free port among the first {min(_MAX_PROBES, high - low + 1)} of the seat's range {low}-{high}",
        "stop what holds them, or give this seat another port_range in the config",
    )


def _engine_statuses(url: str, names: Sequence[str]) -> list[BaseImageStatus]:
    from tutor.engine.client import connect

    api = connect(url, timeout=10)
    try:
        return baseimages.status(api, names)
    finally:
        api.close()


def preflight(
    config: KioskConfig,
    course: Course,
    report: DoctorReport,
    image_status: Callable[[str, Sequence[str]], list[BaseImageStatus]] = _engine_statuses,
) -> PreflightResult:
    """Everything that would stop a learner at this seat, each with its fix.

    ``report`` is the doctor's (engine, the shipped course's base images, disk);
    images the course needs beyond those are asked of the same engine with
    ``image_status(url, names)``.
    """
    problems = [SeatProblem(p.what, p.fix) for p in report.problems if p.blocking]
    needed = needed_images(course)
    known = {image.name: image for image in report.images}
    extra = [name for name in needed if name not in known]
    if extra and report.engine.reachable:
        try:
            known.update({s.name: s for s in image_status(report.engine.url, extra)})
        except Exception as exc:  # noqa: BLE001 - the engine went away between two checks
            problems.append(SeatProblem(f"could not ask the engine about {', '.join(extra)} ({exc})", "run `tutor doctor`"))
        for name in extra:
            if name in known and known[name].state == "missing":
                problems.append(
                    SeatProblem(
                        f"base image {name} is missing: the course's Dockerfiles start FROM it",
                        f"load a bundle that has it (`tutor images load FILE`), or `docker pull {name}` where a "
                        "registry is reachable",
                    )
                )
    if _is_example_pin(config.pin_hash):
        problems.append(
            SeatProblem(
                f"the instructor PIN is still the example's ({EXAMPLE_PIN}): anyone who read the guide knows it",
                "run `tutor kiosk hash-pin` and put the line it prints into the config instead",
            )
        )
    missing_lessons = unknown_lessons(course, config.lessons)
    if missing_lessons:
        where = f" in {config.source}" if config.source else ""
        problems.append(
            SeatProblem(
                f"the config names lessons the course does not have: {', '.join(missing_lessons)}",
                f"correct `lessons`{where}; `tutor lessons list` shows the course's lesson ids",
            )
        )
    elif not course.lessons:
        problems.append(
            SeatProblem(
                f"the course at {course.root} has no lessons that load",
                "point `course` in the config at a lessons folder; `tutor lessons check` lists what is wrong",
            )
        )
    export = _export_problem(config.export_dir)
    if export:
        problems.append(export)
    if report.engine.url.startswith("unix://") or report.engine.url.startswith("npipe://"):
        # Ports are published on the engine's host: only a local engine's can be checked from here.
        busy = _ports_problem(config.port_range)
        if busy:
            problems.append(busy)
    return PreflightResult(tuple(problems), needed, report)
