"""The rules of a lesson's front matter, and the lesson they build.

``build_lesson`` checks every key and type (naming the line of each problem) and
returns a ``Lesson`` only when nothing is wrong.  The check kinds come from
``checks.registry`` and the scenarios from ``scenarios``: one list each, which the
validator, the runner and the docs agree on.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path, PurePosixPath
from typing import Any

from tutor.course.checks.arguments import did_you_mean as _did_you_mean
from tutor.course.checks.arguments import shown as _shown
from tutor.course.checks.registry import KINDS, new_check
from tutor.course.model import GO_APP, Check, Exercise, Lesson, LessonProblem, base_path
from tutor.course.scenarios import SCENARIOS
from tutor.course.source import Key, LessonSource

ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

# The lesson format this tutor reads; a lesson may say which it is written for (`format: 1`).
# A later format may add keys or change meanings this tutor would get wrong, so it is refused.
LESSON_FORMAT = 1

LESSON_FIELDS = ("format", "id", "title", "order", "summary", "exercises")
EXERCISE_FIELDS = (
    "id",
    "title",
    "goal",
    "base",
    "starter",
    "solution",
    "dockerfile",
    "scenario",
    "hints",
    "reveal_solution_after",
    "predict",
    "builder",
    "targets",
    "checks",
    "solution_commands",
)
EXERCISE_BUILDERS = ("buildkit", "classic")  # an exercise that needs one builder says which
# A stage name as `FROM image AS name` accepts it (Docker lowercases it; it must start with a letter).
_STAGE_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")


# -- front matter --------------------------------------------------------------------------------


class _Rules:
    """Collects the problems of one lesson.md, each at its line."""

    def __init__(self, source: LessonSource) -> None:
        self.source = source
        self.problems: list[LessonProblem] = []

    def add(self, keys: tuple[Key, ...], message: str, at_key: bool = False) -> None:
        line = self.source.key_line(*keys) if at_key else self.source.line(*keys)
        self.problems.append(LessonProblem(self.source.path, line, message))

    def unknown_keys(self, data: dict[str, Any], where: tuple[Key, ...], allowed: tuple[str, ...], what: str) -> None:
        for key in data:
            if key not in allowed:
                hint = _did_you_mean(str(key), allowed)
                self.add((*where, str(key)), f"unknown {what} key `{key}`{hint}", at_key=True)

    def text(self, data: dict[str, Any], where: tuple[Key, ...], key: str, required: bool = True) -> str | None:
        if key not in data:
            if required:
                self.add(where, f"missing `{key}`")
            return None
        value = data[key]
        if not isinstance(value, str) or not value.strip():
            self.add((*where, key), f"`{key}` must be a non-empty text, found {_shown(value)}")
            return None
        return value.strip()

    def ident(self, data: dict[str, Any], where: tuple[Key, ...]) -> str | None:
        value = self.text(data, where, "id")
        if value is not None and not ID_RE.match(value):
            self.add(
                (*where, "id"), f"`id` must be lowercase letters, digits and dashes (e.g. layer-cache), found {value!r}"
            )
            return None
        return value

    def folder(self, data: dict[str, Any], where: tuple[Key, ...], key: str) -> str | None:
        value = self.text(data, where, key, required=False)
        if value is None:
            return None
        rel = PurePosixPath(value)
        lesson_dir = self.source.path.parent
        if rel.is_absolute():
            self.add((*where, key), f"`{key}` must be a folder relative to the lesson folder, found {value!r}")
            return None
        if not _inside(lesson_dir / rel, lesson_dir.parent):
            self.add((*where, key), f"`{key}` folder {value!r} is outside the course folder: a lesson only uses its course's files")
            return None
        if not _is_dir(lesson_dir / rel):
            self.add((*where, key), f"`{key}` folder {value!r} does not exist in {lesson_dir.name}/")
            return None
        return value

    def workspace_file(self, data: dict[str, Any], where: tuple[Key, ...], key: str) -> str | None:
        """A file named relative to the workspace (``dockerfile``): it must stay inside it."""
        value = self.text(data, where, key, required=False)
        if value is None:
            return None
        rel = PurePosixPath(value)
        if rel.is_absolute() or ".." in rel.parts or "\\" in value:
            self.add(
                (*where, key),
                f"`{key}` must be a file inside the workspace (e.g. Dockerfile or docker/Dockerfile), found {value!r}",
            )
            return None
        return value


def build_lesson(source: LessonSource) -> tuple[Lesson | None, list[LessonProblem]]:
    """The lesson described by ``source``, or None and every problem found in it."""
    rules = _Rules(source)
    meta = source.meta
    rules.unknown_keys(meta, (), LESSON_FIELDS, "front matter")
    if not _format_is_known(rules, meta):
        return None, rules.problems  # the rest may mean something else in that format
    lesson_id = rules.ident(meta, ())
    title = rules.text(meta, (), "title")
    summary = rules.text(meta, (), "summary", required=False) or ""
    order = None
    if "order" not in meta:
        rules.add((), "missing `order` (a unique positive whole number)")
    elif isinstance(meta["order"], bool) or not isinstance(meta["order"], int) or meta["order"] < 1:
        rules.add(("order",), f"`order` must be a positive whole number, found {_shown(meta['order'])}")
    else:
        order = meta["order"]
    exercises: list[Exercise] = []
    raw_exercises = meta.get("exercises", [])
    if raw_exercises is None:
        raw_exercises = []
    if not isinstance(raw_exercises, list):
        rules.add(("exercises",), f"`exercises` must be a list, found {_shown(raw_exercises)}")
        raw_exercises = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(raw_exercises):
        exercise = _exercise(rules, raw, ("exercises", index))
        if exercise is None:
            continue
        if exercise.id in seen:
            rules.add(
                ("exercises", index, "id"),
                f"exercise id {exercise.id!r} is used twice in this lesson (also line {seen[exercise.id]})",
            )
            continue
        seen[exercise.id] = exercise.line
        exercises.append(exercise)
    if rules.problems or lesson_id is None or title is None or order is None:
        return None, rules.problems
    lesson = Lesson(
        id=lesson_id,
        title=title,
        order=order,
        path=source.path,
        summary=summary,
        body=source.body,
        exercises=tuple(exercises),
    )
    return lesson, []


def _format_is_known(rules: _Rules, meta: dict[str, Any]) -> bool:
    if "format" not in meta:
        return True  # written for the current format
    value = meta["format"]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        rules.add(("format",), f"`format` must be a whole number such as {LESSON_FORMAT}, found {_shown(value)}")
        return False
    if value > LESSON_FORMAT:
        rules.add(
            ("format",),
            f"this lesson is written for lesson format {value}; this tutor reads format {LESSON_FORMAT}: "
            "update the tutor (pip install -U tutor) to use it",
        )
        return False
    return True


def _exercise(rules: _Rules, raw: Any, where: tuple[Key, ...]) -> Exercise | None:
    if not isinstance(raw, dict):
        rules.add(where, f"each exercise must be a mapping (id, title, goal, checks ...), found {_shown(raw)}")
        return None
    before = len(rules.problems)
    rules.unknown_keys(raw, where, EXERCISE_FIELDS, "exercise")
    ex_id = rules.ident(raw, where)
    title = rules.text(raw, where, "title")
    goal = rules.text(raw, where, "goal")
    lesson_dir = rules.source.path.parent

    base = GO_APP
    if "base" in raw:
        if raw["base"] == GO_APP:
            base = GO_APP
        else:
            base = rules.folder(raw, where, "base") or GO_APP
    starter = rules.folder(raw, where, "starter")
    solution = rules.folder(raw, where, "solution")
    dockerfile = rules.workspace_file(raw, where, "dockerfile") or "Dockerfile"

    scenario = None
    if "scenario" in raw:
        value = raw["scenario"]
        if value not in SCENARIOS:
            known = ", ".join(SCENARIOS)
            hint = _did_you_mean(str(value), list(SCENARIOS))
            rules.add((*where, "scenario"), f"unknown scenario {_shown(value)}{hint} (known: {known})")
        else:
            scenario = value

    hints: tuple[str, ...] = ()
    if "hints" in raw:
        value = raw["hints"]
        if not isinstance(value, list) or not all(isinstance(h, str) and h.strip() for h in value):
            rules.add((*where, "hints"), "`hints` must be a list of texts")
        else:
            hints = tuple(h.strip() for h in value)

    reveal = 3
    if "reveal_solution_after" in raw:
        value = raw["reveal_solution_after"]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            rules.add(
                (*where, "reveal_solution_after"),
                f"`reveal_solution_after` must be a whole number of attempts, found {_shown(value)}",
            )
        else:
            reveal = value

    predict = False
    if "predict" in raw:
        if not isinstance(raw["predict"], bool):
            rules.add((*where, "predict"), f"`predict` must be true or false, found {_shown(raw['predict'])}")
        else:
            predict = raw["predict"]

    builder = None
    if "builder" in raw:
        value = raw["builder"]
        if value not in EXERCISE_BUILDERS:
            hint = _did_you_mean(str(value), list(EXERCISE_BUILDERS))
            rules.add(
                (*where, "builder"),
                f"unknown builder {_shown(value)}{hint}: an exercise may ask for {' or '.join(EXERCISE_BUILDERS)}",
            )
        else:
            builder = value

    targets = _targets(rules, raw, where, has_scenario_key="scenario" in raw, predict=predict)

    checks = _checks(
        rules, raw, where, predict=predict, scenario=scenario, has_scenario_key="scenario" in raw, targets=targets
    )

    engine = _engine_mode(rules, raw, where, checks)
    solution_commands = _solution_commands(rules, raw, where, engine)

    if len(rules.problems) == before:
        _dockerfile_exists(rules, raw, where, lesson_dir, base, starter, solution, dockerfile)
        if scenario is not None and SCENARIOS[scenario].needs_file:
            _scenario_file_exists(rules, where, lesson_dir, base, starter, solution, scenario)
    if len(rules.problems) > before or ex_id is None or title is None or goal is None:
        return None
    return Exercise(
        id=ex_id,
        title=title,
        goal=goal,
        lesson_dir=lesson_dir,
        base=base,
        starter=starter,
        solution=solution,
        dockerfile=dockerfile,
        scenario=scenario,
        hints=hints,
        reveal_solution_after=reveal,
        predict=predict,
        builder=builder,
        targets=targets,
        targets_line=rules.source.line(*where, "targets") if targets else 0,
        checks=checks,
        line=rules.source.line(*where),
        watches_engine=engine,
        solution_commands=solution_commands,
    )


_BUILD_ONLY = ("scenario", "predict", "targets", "builder")


def _engine_mode(rules: _Rules, raw: dict[str, Any], where: tuple[Key, ...], checks: tuple[Check, ...]) -> bool:
    """An exercise whose checks all look at the engine is done with the learner's own docker
    commands: the tutor builds nothing. Mixing both kinds of check is refused."""
    engine = [c for c in checks if KINDS[c.kind].watches_engine]
    if not engine:
        return False
    if len(engine) < len(checks):
        build = next(c for c in checks if not KINDS[c.kind].watches_engine)
        rules.add(
            (*where, "checks"),
            f"`{engine[0].kind}` looks at the engine after the learner's own docker commands and `{build.kind}` "
            "at the tutor's build: an exercise's checks are all of one sort",
        )
        return False
    for key in _BUILD_ONLY:
        if key in raw:
            rules.add((*where, key), f"`{key}` is about the tutor's build; this exercise's checks look at the engine (the learner builds)")
    return True


def _solution_commands(rules: _Rules, raw: dict[str, Any], where: tuple[Key, ...], engine: bool) -> tuple[str, ...]:
    """`solution_commands: ["docker build -t myapp ."]`: what `tutor lessons check --run` types."""
    at = (*where, "solution_commands")
    if "solution_commands" not in raw:
        if engine:
            rules.add(where, "missing `solution_commands`: the docker commands that do this exercise, for `tutor lessons check --run`")
        return ()
    if not engine:
        rules.add(at, "`solution_commands` goes with checks that look at the engine (image_exists, container_running ...)")
        return ()
    value = raw["solution_commands"]
    if not isinstance(value, list) or not value:
        rules.add(at, f"`solution_commands` must be a list of docker commands, found {_shown(value)}")
        return ()
    commands: list[str] = []
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            rules.add((*at, index), f"each solution command is a text such as `docker ps`, found {_shown(item)}")
            return ()
        try:
            words = shlex.split(item)
        except ValueError as exc:
            rules.add((*at, index), f"{item!r} cannot be split into words: {exc}")
            return ()
        if not words or words[0] != "docker" or len(words) < 2:
            rules.add((*at, index), f"{item!r}: a solution command is a docker command (`docker ...`), run without a shell")
            return ()
        commands.append(item.strip())
    return tuple(commands)


def _targets(
    rules: _Rules, raw: dict[str, Any], where: tuple[Key, ...], has_scenario_key: bool, predict: bool
) -> tuple[str, ...]:
    """`targets: [local, production]`: the stages built one after another, each its own image."""
    if "targets" not in raw:
        return ()
    at = (*where, "targets")
    value = raw["targets"]
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        rules.add(at, f"`targets` must be a list of stage names (`FROM ... AS name`), e.g. [local, production]; found {_shown(value)}")
        return ()
    names: list[str] = []
    for index, item in enumerate(items):
        if not isinstance(item, str) or not _STAGE_NAME_RE.match(item):
            spot = (*at, index) if isinstance(value, list) else at
            rules.add(spot, f"`targets`: {_shown(item)} is not a stage name (a letter, then letters, digits, `_`, `.` or `-`)")
            return ()
        if item.lower() in names:
            rules.add(at, f"`targets`: {item} is named twice; each target is built once")
            return ()
        names.append(item.lower())
    if has_scenario_key:
        rules.add(at, "`targets` and `scenario` do not go together: with targets, the builds before the last one make its cache")
        return ()
    if predict:
        rules.add(at, "`targets` and `predict` do not go together: a prediction is made for one build")
        return ()
    return tuple(names)


def _checks(
    rules: _Rules,
    raw: dict[str, Any],
    where: tuple[Key, ...],
    predict: bool,
    scenario: str | None,
    has_scenario_key: bool,
    targets: tuple[str, ...] = (),
) -> tuple[Check, ...]:
    if "checks" not in raw:
        rules.add(where, "missing `checks`: an exercise needs at least one check")
        return ()
    items = raw["checks"]
    if not isinstance(items, list) or not items:
        rules.add((*where, "checks"), "`checks` must be a non-empty list, e.g. `- build: succeeds`")
        return ()
    checks: list[Check] = []
    for index, item in enumerate(items):
        at = (*where, "checks", index)
        if not isinstance(item, dict) or len(item) != 1:
            rules.add(at, "each check is a mapping with ONE key, the check kind (e.g. `- build: succeeds`)")
            continue
        ((kind, value),) = item.items()
        spec = KINDS.get(kind)
        if spec is None:
            hint = _did_you_mean(str(kind), list(KINDS))
            rules.add((*at, str(kind)), f"unknown check kind `{kind}`{hint}", at_key=True)
            continue
        try:
            check = new_check(kind, value, rules.source.line(*at))
        except ValueError as exc:
            rules.add((*at, kind), f"check `{kind}`: {exc}")
            continue
        if spec.needs_predict and not predict:
            rules.add((*at, kind), f"the `{kind}` check needs `predict: true` on the exercise")
            continue
        if spec.needs_scenario and scenario is None and not has_scenario_key and len(targets) < 2:
            rules.add(
                (*at, kind),
                f"the `{kind}` check needs a `scenario` (e.g. `scenario: rebuild`) or two `targets` or more: "
                "a single build's cache depends on what was built before",
            )
            continue
        checks.append(check)
    return tuple(checks)


def _variants(base_dir: Path | None, overlays: list[tuple[str, Path | None]]) -> list[tuple[str, list[Path]]]:
    """The folders each variant of the workspace is made of, top overlay first."""
    layers = [base_dir] if base_dir is not None else []
    variants = [(name, ([folder] if folder else []) + layers) for name, folder in overlays if folder]
    return variants or [("base", layers)]


def _dockerfile_exists(
    rules: _Rules,
    raw: dict[str, Any],
    where: tuple[Key, ...],
    lesson_dir: Path,
    base: str,
    starter: str | None,
    solution: str | None,
    dockerfile: str,
) -> None:
    overlays = [
        ("starter", lesson_dir / starter if starter else None),
        ("solution", lesson_dir / solution if solution else None),
    ]
    at = (*where, "dockerfile") if "dockerfile" in raw else where
    for name, folders in _variants(base_path(lesson_dir, base), overlays):
        found = _top_entry(folders, dockerfile)
        if found is None:
            rules.add(
                at, f"no {dockerfile} in the {name} workspace ({' + '.join(_rel(f, lesson_dir) for f in folders)})"
            )
            return
        if not _is_file(found) or found.is_symlink():
            what = "a symbolic link" if found.is_symlink() else "not a file"
            rules.add(at, f"{_rel(found.parent, lesson_dir)}{found.name} is {what}: the {name} workspace needs {dockerfile} as a file")
            return
    for key, overlay in (("starter", starter), ("solution", solution)):
        clash = _type_clash(base_path(lesson_dir, base), lesson_dir / overlay) if overlay else None
        if clash is not None:
            rules.add((*where, key), clash)
            return


def _scenario_file_exists(
    rules: _Rules,
    where: tuple[Key, ...],
    lesson_dir: Path,
    base: str,
    starter: str | None,
    solution: str | None,
    scenario: str,
) -> None:
    wanted = SCENARIOS[scenario].edits or ""
    overlays = [
        ("starter", lesson_dir / starter if starter else None),
        ("solution", lesson_dir / solution if solution else None),
    ]
    for name, folders in _variants(base_path(lesson_dir, base), overlays):
        if not any(_is_file(folder / wanted) for folder in folders):
            rules.add((*where, "scenario"), f"scenario {scenario} edits {wanted}, but the {name} workspace has none")
            return


def _top_entry(folders: list[Path], name: str) -> Path | None:
    """What the workspace holds at ``name``: the entry of the top-most folder that has one."""
    for folder in folders:
        entry = folder / name
        if entry.is_symlink() or _exists(entry):
            return entry
    return None


def _type_clash(base: Path, overlay: Path, limit: int = 10_000) -> str | None:
    """A file of the overlay where the base has a folder, or the reverse: laying it over fails."""
    seen = 0
    for dirpath, dirnames, filenames in os.walk(overlay):
        for name in dirnames + filenames:
            seen += 1
            if seen > limit:
                return None
            mine = Path(dirpath, name)
            rel = mine.relative_to(overlay)
            theirs = base / rel
            if mine.is_symlink() or theirs.is_symlink() or not _exists(theirs):
                continue
            if _is_dir(mine) != _is_dir(theirs):
                kinds = ("a folder", "a file") if _is_dir(mine) else ("a file", "a folder")
                return (
                    f"{overlay.name}/{rel.as_posix()} is {kinds[0]} but the base has {kinds[1]} there: "
                    "the workspace cannot be laid out"
                )
    return None


def _inside(path: Path, root: Path) -> bool:
    try:
        return path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):  # a link loop
        return False


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:
        return False


def _rel(folder: Path, lesson_dir: Path) -> str:
    try:
        return folder.relative_to(lesson_dir).as_posix() + "/"
    except ValueError:
        return GO_APP if folder.name == GO_APP else str(folder)


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:  # e.g. a name too long for the file system: no such folder
        return False


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:
        return False
