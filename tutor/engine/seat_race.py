"""The size race of one seat: the images the learner built, named readably, against the binary.

The exercise runner tags each exercise's image ``tutor/<seat>/<lesson>-<exercise>:latest``
and labels it with the lesson; ``tutor build`` tags ``tutor/<seat>/<folder>:latest``.
The floor is the static binary itself, measured inside the images (``sizerace``).
The course is not imported here: callers pass what it calls each exercise
(:class:`ExerciseName`) and which exercises passed.
"""

from __future__ import annotations

import json
import posixpath
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tutor import atomic, fmt, paths
from tutor.engine import labels
from tutor.engine.image_size import image_size, image_store
from tutor.engine.sizerace import DEFAULT_BINARY, MeasureError, RaceRow, binary_size, race_rows

if TYPE_CHECKING:
    import docker

RACE_KINDS = ("exercise", "build")  # images a learner made (not fixtures, not stand-ins)
FLOOR_LABEL = "the binary alone"
MAX_FLOOR_TRIES = 4  # each try creates (never starts) a container
SINGLE_STAGE_LESSON, MULTI_STAGE_LESSON = "meet-the-app", "multi-stage"
_DEFAULT_ORDER = {SINGLE_STAGE_LESSON: 1, MULTI_STAGE_LESSON: 6}


@dataclass(frozen=True)
class SeatImage:
    tag: str  # tutor/<seat>/<name>:latest
    image_id: str  # 12 hex
    size: int
    name: str  # the part of the tag between the seat and ":"
    kind: str  # exercise | build
    lesson_id: str | None  # from the image's label (exercise images)


@dataclass(frozen=True)
class ExerciseName:
    """What the course calls an exercise: enough to name an image readably."""

    lesson_id: str
    lesson_order: int
    exercise_id: str
    title: str


@dataclass(frozen=True)
class Floor:
    bytes: int
    image: str  # where it was measured
    path: str  # the binary's path in that image


@dataclass(frozen=True)
class SeatRace:
    seat: str
    images: tuple[SeatImage, ...]
    rows: tuple[RaceRow, ...]  # biggest first, the floor last (when measured)
    floor: Floor | None
    champion: RaceRow | None  # the smallest image whose exercise passes its checks
    hint: str | None  # what to build to fill the race
    problem: str | None = None  # why the floor could not be measured

    @property
    def labels(self) -> dict[str, str]:
        return {row.ref: row.label for row in self.rows if row.ref}


def course_names(course: Any) -> list[ExerciseName]:
    """What a course (anything with ``lessons``, each with ``exercises``) calls its exercises."""
    lessons = getattr(course, "lessons", None) or []
    return [ExerciseName(lesson.id, lesson.order, ex.id, ex.title) for lesson in lessons for ex in lesson.exercises]


def passed_exercises(progress: Any, names: Sequence[ExerciseName]) -> set[tuple[str, str]]:
    """The (lesson id, exercise id) pairs a progress record (``exercise(l, e).passed``) marks passed."""
    if progress is None:
        return set()
    return {(n.lesson_id, n.exercise_id) for n in names if progress.exercise(n.lesson_id, n.exercise_id).passed}


def _slug(text: str) -> str:
    # The slug the tags are made with (labels.seat_tag).
    return labels.seat_tag(text, "x").split("/")[1]


def seat_images(api: docker.APIClient, seat: str) -> list[SeatImage]:
    """The seat's tagged images the learner made, biggest first."""
    prefix = f"tutor/{_slug(seat)}/"
    found: list[SeatImage] = []
    # The list's Size is the tutor's size on the classic store; the containerd store lists its disk usage.
    listed_size_is_ours = image_store(api) != "containerd"
    for image in api.images(filters=labels.seat_filter(seat)):
        image_labels = image.get("Labels") or {}
        kind = image_labels.get(labels.KIND, "")
        if kind not in RACE_KINDS:
            continue
        for tag in image.get("RepoTags") or []:
            if not tag.startswith(prefix):
                continue
            name = tag[len(prefix):].rsplit(":", 1)[0]
            found.append(
                SeatImage(
                    tag=tag,
                    image_id=str(image["Id"]).split(":", 1)[-1][:12],
                    size=int(image.get("Size") or 0) if listed_size_is_ours else image_size(api, str(image["Id"])),
                    name=name,
                    kind=kind,
                    lesson_id=image_labels.get(labels.LESSON),
                )
            )
    found.sort(key=lambda i: (-i.size, i.tag))
    return found


def exercise_of(image: SeatImage, names: Sequence[ExerciseName]) -> tuple[ExerciseName | None, str]:
    """The exercise an image was built for, and what follows its id in the tag (a variant)."""
    if image.lesson_id is None:
        return None, ""
    rest = image.name
    lesson_slug = _slug(image.lesson_id)
    if rest.startswith(lesson_slug + "-"):
        rest = rest[len(lesson_slug) + 1:]
    best: tuple[ExerciseName | None, str] = (None, rest)
    for name in names:
        if name.lesson_id != image.lesson_id:
            continue
        ex = _slug(name.exercise_id)
        if rest == ex or rest.startswith(ex + "-"):
            if best[0] is None or len(ex) > len(_slug(best[0].exercise_id)):
                best = (name, rest[len(ex) + 1:])
    return best


def readable_label(image: SeatImage, names: Sequence[ExerciseName]) -> str:
    """"L6 Split the build in two" for an exercise image; the tag's name for the rest."""
    exercise, variant = exercise_of(image, names)
    if exercise is None:
        return image.name if image.kind == "exercise" else f"{image.name} (tutor build)"
    return f"L{exercise.lesson_order} {exercise.title}" + (f" ({variant})" if variant else "")


def _entry_path(api: docker.APIClient, ref: str) -> str | None:
    """The program an image runs (``CMD ["./main"]`` in ``WORKDIR /root/`` -> /root/main)."""
    try:
        config = api.inspect_image(ref).get("Config") or {}
    except Exception:  # noqa: BLE001 - gone since the listing: not a candidate
        return None
    words = list(config.get("Entrypoint") or []) or list(config.get("Cmd") or [])
    if not words or words[0] in ("/bin/sh", "/bin/bash") or not words[0].startswith(("/", "./")):
        return None  # a shell, or a command looked up in PATH: not the app's own binary
    return posixpath.normpath(posixpath.join(config.get("WorkingDir") or "/", words[0]))


_floor_cache: dict[tuple[str, str], int] = {}
_floor_lock = threading.Lock()
_FLOORS_KEPT = 2000


def _floors_file() -> Path:
    return paths.cache_dir() / "binary-sizes.json"


def _known_floor(image_id: str, path: str) -> int | None:
    """The binary's size in an image measured before, in this process or an earlier one.

    An image id is a content address: the size of a file in it never changes."""
    key = (image_id, path)
    with _floor_lock:
        if key in _floor_cache:
            return _floor_cache[key]
        try:
            saved = json.loads(_floors_file().read_text(encoding="utf-8"))
            for line_key, size in saved.items():
                saved_id, _, saved_path = line_key.partition(" ")
                _floor_cache.setdefault((saved_id, saved_path), int(size))
        except (OSError, ValueError, AttributeError, TypeError):
            pass
        return _floor_cache.get(key)


def _remember_floor(image_id: str, path: str, size: int) -> None:
    with _floor_lock:
        _floor_cache[(image_id, path)] = size
        kept = list(_floor_cache.items())[-_FLOORS_KEPT:]
        try:
            atomic.write_text(_floors_file(), json.dumps({f"{i} {p}": n for (i, p), n in kept}))
        except OSError:
            pass  # measured again next time


def _size_from_read_layers(image_id: str, path: str) -> int | None:
    """The binary's size from the layer viewer's reading of the image, when it read it before."""
    from tutor.engine import contents_cache

    contents = contents_cache.load(image_id, image_id)
    found = contents.find(path) if contents is not None else None
    return found.size if found is not None and found.kind == "file" else None


def measure_floor(api: docker.APIClient, images: Sequence[SeatImage], seat: str, binary: str = DEFAULT_BINARY) -> Floor:
    """The binary's size: ``binary`` in a single-stage image first, else whatever an image runs."""
    entries = {image.image_id: _entry_path(api, image.image_id) for image in images}
    candidates: list[tuple[SeatImage, str]] = [(i, binary) for i in images if entries[i.image_id] == binary]
    candidates += [(i, p) for i in images if (p := entries[i.image_id]) and p != binary]
    candidates += [(i, binary) for i in images if (i, binary) not in candidates]
    tried: list[str] = []
    for image, path in candidates[:MAX_FLOOR_TRIES]:
        known = _known_floor(image.image_id, path)
        if known is None:
            known = _size_from_read_layers(image.image_id, path)
        if known is None:
            try:
                known = binary_size(api, image.image_id, path, seat=seat)
            except MeasureError:
                tried.append(f"{path} in {image.name}")
                continue
        _remember_floor(image.image_id, path, known)
        if known > 0:
            return Floor(known, image.tag, path)
    looked = f" (looked for {', '.join(tried)})" if tried else ""
    raise MeasureError(f"No Go binary to measure in the seat's images{looked}.")


def champion(rows: Sequence[RaceRow], counting: Collection[str]) -> RaceRow | None:
    """The smallest image (not the floor) whose ref is in ``counting``."""
    eligible = [r for r in rows if not r.is_floor and r.ref in counting]
    return min(eligible, key=lambda r: r.bytes) if eligible else None


def fill_hint(images: Sequence[SeatImage], names: Sequence[ExerciseName]) -> str | None:
    """What to build so the race compares a single-stage and a multi-stage image."""
    order = dict(_DEFAULT_ORDER)
    order.update({n.lesson_id: n.lesson_order for n in names if n.lesson_id in _DEFAULT_ORDER})
    single, multi = order[SINGLE_STAGE_LESSON], order[MULTI_STAGE_LESSON]
    have = {i.lesson_id for i in images}
    if not images:
        return f"No images yet: build lessons {single} and {multi} to compare single-stage and multi-stage."
    if len(images) == 1:
        if MULTI_STAGE_LESSON in have:
            return f"Only one image so far: build lesson {single} to race the single-stage image against it."
        return f"Only one image so far: build lesson {multi} (multi-stage) to race it."
    if MULTI_STAGE_LESSON not in have:
        return f"Build lesson {multi} to see how small a multi-stage image gets."
    return None


def assemble_race(
    seat: str,
    images: Sequence[SeatImage],
    floor: Floor | None,
    names: Sequence[ExerciseName] = (),
    passed: Collection[tuple[str, str]] = (),
    problem: str | None = None,
) -> SeatRace:
    """The race from measured sizes (pure); without a floor, multiples are of the smallest image."""
    hint = fill_hint(images, names)
    if not images:
        return SeatRace(seat, (), (), floor, None, hint, problem)
    sizes = [(readable_label(i, names), i.size) for i in images]
    refs = [i.tag for i in images]
    counting = set()
    for image in images:
        exercise, _variant = exercise_of(image, names)
        if exercise is not None and (exercise.lesson_id, exercise.exercise_id) in passed:
            counting.add(image.tag)
    if floor is None:
        smallest = min(i.size for i in images) or 1
        rows = sorted(
            (RaceRow(label, n, n / 1e6, n / smallest, False, ref) for (label, n), ref in zip(sizes, refs)),
            key=lambda r: -r.bytes,
        )
    else:
        rows = race_rows(sizes, (FLOOR_LABEL, floor.bytes), refs)
    return SeatRace(seat, tuple(images), tuple(rows), floor, champion(rows, counting), hint, problem)


def seat_race(
    api: docker.APIClient,
    seat: str,
    names: Sequence[ExerciseName] = (),
    passed: Collection[tuple[str, str]] = (),
    binary: str = DEFAULT_BINARY,
) -> SeatRace:
    """List and measure the seat's images; ``passed`` holds (lesson id, exercise id) pairs."""
    images = seat_images(api, seat)
    if not images:
        return assemble_race(seat, images, None, names, passed)
    try:
        floor = measure_floor(api, images, seat, binary)
    except MeasureError as exc:
        return assemble_race(seat, images, None, names, passed, str(exc))
    return assemble_race(seat, images, floor, names, passed)


@dataclass(frozen=True)
class RaceNote:
    kind: str  # champion | none-passed | floor | problem | hint
    text: str


def race_notes(race: SeatRace) -> list[RaceNote]:
    """What the bars do not say: the smallest image that counts, where the floor comes from, what to build."""
    notes = []
    if race.champion is not None:
        times = f", {race.champion.multiple:.1f}× the binary" if race.floor is not None else ""
        notes.append(RaceNote("champion", f"smallest image that passes its checks: {race.champion.label}: "
                                          f"{fmt.size(race.champion.bytes)}{times}."))
    elif race.images:
        notes.append(RaceNote("none-passed", "No image here passes its exercise's checks yet: "
                                             "an image counts once its exercise passes."))
    if race.floor is not None:
        where = race.labels.get(race.floor.image, race.floor.image)
        notes.append(RaceNote("floor", f"Floor: the Go binary {race.floor.path}, {fmt.size(race.floor.bytes)}, "
                                       f"measured in {where}."))
    if race.problem:
        notes.append(RaceNote("problem", f"{race.problem} Multiples are of the smallest image instead."))
    if race.hint:
        notes.append(RaceNote("hint", race.hint))
    return notes
