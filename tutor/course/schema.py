"""The rules of a lesson's front matter, and the lesson they build.

``build_lesson`` checks every key and type (naming the line of each problem) and
returns a ``Lesson`` only when nothing is wrong.  The check kinds and how their
arguments are written live here too, so the validator, the loader and the docs
agree on one list.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from tutor.course.model import GO_APP, Check, Exercise, HadolintSpec, HttpSpec, Lesson, LessonProblem, base_path
from tutor.course.sizes import parse_size
from tutor.course.source import Key, LessonSource

ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

# What happens between two builds; checks then look at the second build.
SCENARIOS: dict[str, str] = {
    "rebuild": "build, then build again unchanged",
    "edit-main-go": "build, append a comment line to main.go, build again",
    "edit-go-mod": "build, append a comment line to go.mod, build again",
    "add-log-file": "build, write debug.log into the context, build again",
}
SCENARIO_FILES = {"edit-main-go": "main.go", "edit-go-mod": "go.mod"}

HADOLINT_LEVELS = ("error", "warning", "info", "style")  # most severe first
# Checks about the cache only make sense against a known cache: a scenario's first build.
CACHE_KINDS = frozenset({"cached", "rebuilt", "all_cached", "first_miss", "prediction"})

LESSON_FIELDS = ("id", "title", "order", "summary", "exercises")
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
    "checks",
)


# -- check arguments ---------------------------------------------------------------------------


def _text(value: Any, what: str = "a text") -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected {what}, found {_shown(value)}")
    return value


def _shown(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    return repr(value)


def _texts(value: Any, minimum: int = 1) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if len(items) < minimum:
        raise ValueError(f"expected a list of at least {minimum} texts, found {len(items)}")
    return tuple(_text(item, "a text") for item in items)


def _step_ref(value: Any) -> str | int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(
            f'expected an instruction (e.g. "RUN go mod download") or a step number, found {_shown(value)}'
        )
    if isinstance(value, int):
        if value < 1:
            raise ValueError(f"step numbers start at 1, found {value}")
        return value
    return _text(value, "an instruction")


def _step_refs(value: Any) -> tuple[str | int, ...]:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise ValueError("expected at least one instruction or step number")
    return tuple(_step_ref(item) for item in items)


def _one_of(*words: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if value not in words:
            raise ValueError(f"expected {' or '.join(words)}, found {_shown(value)}")
        return value

    return parse


def _true(value: Any) -> bool:
    if value is not True:
        raise ValueError(f"expected true, found {_shown(value)}")
    return True


def _size(value: Any) -> int:
    return parse_size(value)


def _positive_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"expected a whole number of at least 1, found {_shown(value)}")
    return value


def _mapping(value: Any, allowed: tuple[str, ...], example: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"expected a mapping such as {example}, found {_shown(value)}")
    for key in value:
        if key not in allowed:
            raise ValueError(f"unknown key `{key}`{_did_you_mean(str(key), allowed)} (known: {', '.join(allowed)})")
    return value


def _http(value: Any) -> HttpSpec:
    spec = _mapping(value, ("path", "port", "contains", "status"), '{path: /, contains: "Hello", port: 8080}')
    path = spec.get("path", "/")
    if not isinstance(path, str) or not path.startswith("/"):
        raise ValueError(f"`path` must start with /, found {_shown(path)}")
    port = spec.get("port", 8080)
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ValueError(f"`port` must be a port number (1-65535), found {_shown(port)}")
    contains = spec.get("contains")
    if contains is not None and not isinstance(contains, str):
        raise ValueError(f"`contains` must be a text, found {_shown(contains)}")
    status = spec.get("status", 200)
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise ValueError(f"`status` must be an HTTP status such as 200, found {_shown(status)}")
    return HttpSpec(path=path, port=port, contains=contains, status=status)


def _hadolint(value: Any) -> HadolintSpec:
    if value is True:
        return HadolintSpec()
    spec = _mapping(value, ("max_level", "ignore"), "{max_level: warning}")
    level = spec.get("max_level", "warning")
    if level not in HADOLINT_LEVELS:
        raise ValueError(f"`max_level` must be one of {', '.join(HADOLINT_LEVELS)}, found {_shown(level)}")
    ignore = spec.get("ignore", [])
    rules = _texts(ignore, minimum=0) if ignore else ()
    for rule in rules:
        if not re.fullmatch(r"(DL|SC)\d{4}", rule):
            raise ValueError(f"`ignore` takes hadolint rule codes such as DL3006, found {rule!r}")
    return HadolintSpec(max_level=level, ignore=rules)


def _base_image(value: Any) -> str:
    text = _text(value, "an image reference such as alpine:latest")
    if any(ch.isspace() for ch in text.strip()):
        raise ValueError(f"expected one image reference, found {text!r}")
    return text.strip()


CHECK_KINDS: dict[str, Callable[[Any], Any]] = {
    "build": _one_of("succeeds", "fails"),
    "cached": _step_refs,
    "rebuilt": _step_refs,
    "all_cached": _true,
    "first_miss": _step_ref,
    "prediction": _one_of("matches"),
    "image_smaller_than": _size,
    "image_larger_than": _size,
    "stages": _positive_int,
    "http": _http,
    "dockerfile_contains": _texts,
    "dockerfile_lacks": _texts,
    "instruction_order": lambda value: _texts(value, minimum=2),
    "base_image": _base_image,
    "hadolint": _hadolint,
    "context_excludes": _texts,
}


def parse_check(kind: str, value: Any) -> Any:
    """The normalised argument of a check; ValueError says what is wrong with it."""
    return CHECK_KINDS[kind](value)


def describe_argument(kind: str, argument: Any) -> str:
    """The argument as a short text, for check names."""
    from tutor import fmt

    if isinstance(argument, HttpSpec):
        port = f" :{argument.port}" if argument.port != 8080 else ""
        return f"{argument.path}{port}"
    if isinstance(argument, HadolintSpec):
        return f"max_level={argument.max_level}"
    if kind in ("image_smaller_than", "image_larger_than"):
        return fmt.size(argument)
    if kind in ("all_cached", "prediction"):
        return ""
    if isinstance(argument, tuple):
        return ", ".join(str(item) for item in argument)
    return str(argument)


_TITLES: dict[str, str] = {
    "build": "the build {}",
    "cached": "{} comes from the cache",
    "rebuilt": "{} is rebuilt",
    "all_cached": "every step comes from the cache",
    "first_miss": "the first step to miss the cache is {}",
    "prediction": "your prediction matches the build",
    "image_smaller_than": "the image is smaller than {}",
    "image_larger_than": "the image is larger than {}",
    "stages": "the Dockerfile has {} stages",
    "dockerfile_contains": "the Dockerfile contains {}",
    "dockerfile_lacks": "the Dockerfile has no {}",
    "instruction_order": "the instructions come in this order: {}",
    "base_image": "the image is built FROM {}",
    "context_excludes": "{} is not sent to the engine (.dockerignore)",
}

_LEVEL_WORDS = {"error": "errors", "warning": "warnings or errors", "info": "notes, warnings or errors", "style": "remarks at all"}


def describe_check(kind: str, argument: Any) -> str:
    """The check as a learner reads it, e.g. ``the Dockerfile contains EXPOSE 8080``."""
    if isinstance(argument, HttpSpec):
        where = f" at {argument.path}" if argument.path != "/" else ""
        status = f" with status {argument.status}" if argument.status != 200 else ""
        says = f' with "{argument.contains}"' if argument.contains is not None else ""
        return f"the app answers on port {argument.port}{where}{status}{says}"
    if isinstance(argument, HadolintSpec):
        return f"the Dockerfile checker (hadolint) finds no {_LEVEL_WORDS.get(argument.max_level, argument.max_level)}"
    shown = describe_argument(kind, argument)
    if kind == "instruction_order" and isinstance(argument, tuple):
        shown = " → ".join(str(item) for item in argument)
    if kind == "context_excludes" and isinstance(argument, tuple):
        shown = " and ".join(str(item) for item in argument)
    template = _TITLES.get(kind)
    return template.format(shown) if template else f"{kind} {shown}".strip()


# What the tutor does when the learner builds an exercise with a scenario, in the learner's words.
_SCENARIO_WORDS: dict[str, str] = {
    "rebuild": "builds twice, changing nothing in between",
    "edit-main-go": "builds, adds a comment line to main.go, then builds again",
    "edit-go-mod": "builds, adds a comment line to go.mod, then builds again",
    "add-log-file": "builds, writes a debug.log file into the folder, then builds again",
}


def describe_scenario(scenario: str) -> str:
    """What pressing build does for a scenario, as a sentence."""
    does = _SCENARIO_WORDS.get(scenario, SCENARIOS.get(scenario, scenario))
    return f"When you build, the tutor {does} (in a copy: your files stay as they are); the checks look at the last build."


# -- front matter --------------------------------------------------------------------------------


def _did_you_mean(word: str, choices: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean `{close[0]}`?)" if close else ""


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

    checks = _checks(rules, raw, where, predict=predict, scenario=scenario, has_scenario_key="scenario" in raw)

    if len(rules.problems) == before:
        _dockerfile_exists(rules, raw, where, lesson_dir, base, starter, solution, dockerfile)
        if scenario in SCENARIO_FILES:
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
        checks=checks,
        line=rules.source.line(*where),
    )


def _checks(
    rules: _Rules,
    raw: dict[str, Any],
    where: tuple[Key, ...],
    predict: bool,
    scenario: str | None,
    has_scenario_key: bool,
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
        if kind not in CHECK_KINDS:
            hint = _did_you_mean(str(kind), list(CHECK_KINDS))
            rules.add((*at, str(kind)), f"unknown check kind `{kind}`{hint}", at_key=True)
            continue
        try:
            argument = parse_check(kind, value)
        except ValueError as exc:
            rules.add((*at, kind), f"check `{kind}`: {exc}")
            continue
        if kind == "prediction" and not predict:
            rules.add((*at, kind), "the `prediction` check needs `predict: true` on the exercise")
            continue
        if kind in CACHE_KINDS and scenario is None and not has_scenario_key:
            rules.add(
                (*at, kind),
                f"the `{kind}` check needs a `scenario` (e.g. `scenario: rebuild`): "
                "a single build's cache depends on what was built before",
            )
            continue
        checks.append(Check(kind, argument, rules.source.line(*at)))
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
    wanted = SCENARIO_FILES[scenario]
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
