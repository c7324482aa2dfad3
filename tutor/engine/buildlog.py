"""What a build used and what came of it, kept on disk to explain the next build.

A :class:`BuildSnapshot` is taken *before* a build (the inputs: every step's
instruction text, the digests of the context files each COPY/ADD takes, the
nocache flag) and completed *after* it (each step's status and image id, the
image id every FROM resolved to).  One snapshot per workspace + Dockerfile is
saved under ``paths.build_records_dir()``, written atomically so a crash or a
second tutor process never leaves half a file behind.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import json
import os
import posixpath
import re
import stat
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docker.api.build import process_dockerfile
from docker.errors import DockerException
from docker.utils.build import PatternMatcher, exclude_paths
from dockerfile_parse.util import WordSplitter

from tutor import atomic, paths
from tutor.engine.context import ContextError, dockerignore_patterns, resolve
from tutor.engine.dockerfile import instructions, long_line

if TYPE_CHECKING:
    import docker

    from tutor.engine.record import BuildRecord

FORMAT_VERSION = 1
_FLAG_RE = re.compile(r"^((?:--\S+\s+)*)(.*)$", re.DOTALL)


def _flags_and_rest(value: str) -> tuple[str, str]:
    """An instruction's leading --flags and the rest (the pattern matches any text)."""
    m = _FLAG_RE.match(value)
    assert m is not None
    return m.group(1), m.group(2)
_FROM_AS_RE = re.compile(r"^(\S+)(?:\s+AS\s+(\S+))?\s*$", re.IGNORECASE)
_GLOB_CHARS = set("*?[")


@dataclass(frozen=True)
class StepInput:
    """One Dockerfile instruction as the builder numbers it."""

    step: int  # the builder's step number (1-based, every instruction counts)
    stage: int  # 0-based stage index; -1 for ARGs before the first FROM
    stage_name: str | None
    keyword: str  # "COPY"
    text: str  # "COPY . ." with continuation lines joined, as the builder prints it
    line: int  # 1-based Dockerfile line where it starts
    # COPY/ADD from the build context: every file (and folder, ending in "/") it takes, with a digest.
    sources: tuple[tuple[str, str], ...] | None = None
    copy_from: str | None = None  # COPY --from=<stage or image>
    base: str | None = None  # FROM: the image (or stage) named
    source_words: tuple[str, ...] = ()  # COPY/ADD sources as written, variables substituted


def stage_named(steps: Iterable[StepInput], ref: str, before: int | None = None) -> int | None:
    """The stage a ``FROM``/``--from``/``--target`` reference names (by name or index), if any;
    ``before``: only stages before that one (a ``FROM`` can only name an earlier stage)."""
    steps = list(steps)
    indexes = {s.stage for s in steps if s.stage >= 0 and (before is None or s.stage < before)}
    for s in steps:
        if s.keyword == "FROM" and s.stage in indexes and s.stage_name and s.stage_name.lower() == ref.lower():
            return s.stage
    if ref.isdigit() and int(ref) in indexes:
        return int(ref)
    return None


def from_stage(steps: Iterable[StepInput], step: StepInput) -> int | None:
    """The earlier stage a ``FROM`` step starts from (``FROM builder AS test``), None for an image."""
    if step.keyword != "FROM" or not step.base:
        return None
    return stage_named(steps, step.base, before=step.stage)


def target_stage(steps: Iterable[StepInput], target: str | None) -> int | None:
    """The stage a build makes its image from: the one ``--target`` names, else the last."""
    steps = list(steps)
    if target:
        return stage_named(steps, target)
    return max((s.stage for s in steps if s.stage >= 0), default=None)


def needed_stages(steps: Iterable[StepInput], target: str | None = None) -> set[int]:
    """The stages BuildKit builds for ``target``: it and every stage it starts ``FROM`` or copies
    ``--from``, followed through; the others it skips (the classic builder builds every stage
    up to the target)."""
    steps = list(steps)
    final = target_stage(steps, target)
    if final is None:
        return set()
    needed: set[int] = set()
    todo = [final]
    while todo:
        stage = todo.pop()
        if stage in needed:
            continue
        needed.add(stage)
        for s in steps:
            if s.stage != stage:
                continue
            ref = s.base if s.keyword == "FROM" else s.copy_from
            found = stage_named(steps, ref, before=stage) if ref else None
            if found is not None:
                todo.append(found)
    return needed


@dataclass(frozen=True)
class StepResult:
    step: int
    status: str  # cached | built | failed | running | waiting
    image_id: str | None


@dataclass(frozen=True)
class BuildSnapshot:
    key: str  # which workspace + Dockerfile (the file name under build_records_dir)
    context: str
    dockerfile: str
    steps: tuple[StepInput, ...]
    nocache: bool = False
    taken_at: float = 0.0
    # (stage index, image id) for every FROM: resolved before the build when an engine was
    # at hand, then replaced by the id the build really used.
    base_ids: tuple[tuple[int, str], ...] = ()
    results: tuple[StepResult, ...] = ()
    image_id: str | None = None
    failed_step: int | None = None
    builder: str = "classic"  # which builder made the results: the classic builder and BuildKit cache apart
    target: str | None = None  # the stage built (`--target`); None: the last one

    @property
    def total(self) -> int:
        return len(self.steps)

    def stage_steps(self, stage: int) -> list[StepInput]:
        return [s for s in self.steps if s.stage == stage]

    @property
    def stage_indexes(self) -> list[int]:
        return sorted({s.stage for s in self.steps if s.stage >= 0})

    def stage_index(self, ref: str) -> int | None:
        """The stage a ``--from``/``FROM`` reference names (by name or number), if any."""
        return stage_named(self.steps, ref)

    def base_id(self, stage: int) -> str | None:
        return dict(self.base_ids).get(stage)

    def result(self, step: int) -> StepResult | None:
        for r in self.results:
            if r.step == step:
                return r
        return None

    def completed(self, record: BuildRecord) -> BuildSnapshot:
        """This snapshot with what the build did: statuses, image ids, the FROM images used."""
        results = tuple(StepResult(s.step, s.status, s.image_id) for s in record.ordered)
        bases = dict(self.base_ids)
        for s in self.steps:
            state = record.steps.get(s.step)
            if s.keyword == "FROM" and state is not None and state.image_id:
                bases[s.stage] = state.image_id
        failed = record.failure.step if record.failure is not None else None
        image = record.result.image_id if record.result is not None else None
        return dataclasses.replace(
            self,
            results=results,
            base_ids=tuple(sorted(bases.items())),
            image_id=image,
            failed_step=failed,
            builder=record.builder,
        )

    # -- JSON ---------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["version"] = FORMAT_VERSION
        for step in data["steps"]:
            if step["sources"] is not None:
                step["sources"] = dict(step["sources"])
        data["base_ids"] = {str(k): v for k, v in self.base_ids}
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BuildSnapshot:
        if data.get("version") != FORMAT_VERSION:
            raise ValueError(f"unknown build record version {data.get('version')!r}")
        steps = []
        for raw in data["steps"]:
            raw = dict(raw)
            if raw.get("sources") is not None:
                raw["sources"] = tuple(sorted(raw["sources"].items()))
            raw["source_words"] = tuple(raw.get("source_words") or ())
            steps.append(StepInput(**raw))
        return cls(
            key=data["key"],
            context=data["context"],
            dockerfile=data["dockerfile"],
            steps=tuple(steps),
            nocache=bool(data.get("nocache")),
            taken_at=float(data.get("taken_at") or 0.0),
            base_ids=tuple(sorted((int(k), v) for k, v in (data.get("base_ids") or {}).items())),
            results=tuple(StepResult(**r) for r in data.get("results") or ()),
            image_id=data.get("image_id"),
            failed_step=data.get("failed_step"),
            builder=str(data.get("builder") or "classic"),
            target=data.get("target") or None,
        )


# -- taking a snapshot -------------------------------------------------------------------------


def record_key(context: Path, dockerfile: Path, target: str | None = None) -> str:
    """A stable name for one workspace + Dockerfile pair (+ the target stage: each target is
    compared with its own previous build)."""
    raw = f"{Path(context).resolve()}\n{Path(dockerfile).resolve()}" + (f"\n{target.lower()}" if target else "")
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:24]


def take_snapshot(
    context: Path,
    dockerfile: str | Path | None = None,
    nocache: bool = False,
    api: docker.APIClient | None = None,
    target: str | None = None,
) -> BuildSnapshot:
    """The inputs of a build about to start; ContextError when context or Dockerfile is unusable."""
    ctx, df = resolve(context, dockerfile)
    try:
        text = df.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ContextError(f"Cannot read {df}: {exc}") from exc
    # The engine refuses such a file; parsing a megabyte-long ENV/LABEL/COPY line takes minutes.
    too_long = long_line(text)
    if too_long is not None:
        raise ContextError(f"Line {too_long} of {df} is longer than the engine accepts.")
    available = _copyable_paths(ctx, df)
    steps = []
    for step in parse_steps(text):
        if step.keyword in ("COPY", "ADD") and step.copy_from is None:
            step = dataclasses.replace(step, sources=_digests(ctx, available, step.source_words))
        steps.append(step)
    snapshot = BuildSnapshot(
        key=record_key(ctx, df, target),
        context=str(ctx),
        dockerfile=str(df),
        steps=tuple(steps),
        nocache=nocache,
        taken_at=time.time(),
        target=target,
    )
    if api is not None:
        snapshot = dataclasses.replace(snapshot, base_ids=_resolve_bases(api, snapshot))
    return snapshot


def parse_steps(text: str) -> list[StepInput]:
    """Every instruction of a Dockerfile, numbered as the classic builder numbers them."""
    steps: list[StepInput] = []
    stage, stage_name = -1, None
    for item, ctx in instructions(text, env_replace=False):
        keyword = item["instruction"].upper()
        if keyword == "COMMENT":
            continue
        value = item["value"]
        base = copy_from = None
        if keyword == "FROM":
            stage += 1
            m = _FROM_AS_RE.match(_flags_and_rest(value)[1].strip())
            base, stage_name = (m.group(1), m.group(2)) if m else (value, None)
        elif keyword == "COPY":
            for flag in _flags_and_rest(value)[0].split():
                if flag.lower().startswith("--from="):
                    copy_from = flag.split("=", 1)[1]
        # Words of COPY/ADD are resolved with the variables in scope at that line.
        scope_args, scope_envs = (ctx.args, ctx.envs) if ctx is not None else ({}, {})  # type: ignore[attr-defined]  # dockerfile-parse's context
        words = _split_words(value, scope_args, scope_envs) if keyword in ("COPY", "ADD") else ()
        steps.append(
            StepInput(
                step=len(steps) + 1,
                stage=stage,
                stage_name=stage_name if stage >= 0 else None,
                keyword=keyword,
                text=f"{keyword} {value}".strip(),
                line=int(item["startline"]) + 1,
                source_words=words,
                copy_from=copy_from,
                base=base,
            )
        )
    return steps


def _split_words(value: str, args: Mapping[str, str], envs: Mapping[str, str]) -> tuple[str, ...]:
    """The sources of a COPY/ADD (flags and destination dropped), variables substituted."""
    rest = _flags_and_rest(value)[1].strip()
    words: list[str]
    if rest.startswith("["):
        try:
            words = [WordSplitter(str(w), args=dict(args), envs=dict(envs)).dequote() for w in json.loads(rest)]
        except (ValueError, TypeError):
            words = rest.split()
    else:
        words = list(WordSplitter(rest, args=dict(args), envs=dict(envs)).split())
    return tuple(words[:-1])  # the last word is the destination


def _copyable_paths(ctx: Path, dockerfile: Path) -> dict[str, bool]:
    """Context paths a COPY can take -> is it a folder.  As the engine sees the context:
    .dockerignore honoured, and the Dockerfile and .dockerignore dropped when they are ignored."""
    patterns = dockerignore_patterns(ctx)
    name, outside = process_dockerfile(str(dockerfile), str(ctx))
    try:
        found = exclude_paths(str(ctx), patterns, dockerfile=name)
    except OSError as exc:
        raise ContextError(f"Cannot read the build context: {exc}") from exc
    matcher = PatternMatcher(patterns) if patterns else None
    if matcher is not None:
        for special in (".dockerignore", name if outside is None else None):
            # The stubs ask a PathLike; docker-py splits the path with a regex, so it needs the str.
            if special and special in found and matcher.matches(special):  # type: ignore[arg-type]
                found.discard(special)
    result = {}
    for rel in found:
        full = ctx / rel
        try:
            st = full.lstat()
        except OSError:
            continue
        result[rel.replace(os.sep, "/")] = stat.S_ISDIR(st.st_mode)
    return result


def _glob_match(pattern: str, path: str) -> bool:
    """Go's filepath.Match, as the builder uses it: ``*`` never crosses a ``/``."""
    pat_parts, path_parts = pattern.split("/"), path.split("/")
    return len(pat_parts) == len(path_parts) and all(
        fnmatch.fnmatchcase(part, pat) for part, pat in zip(path_parts, pat_parts)
    )


def copied_paths(available: Mapping[str, bool], sources: Iterable[str]) -> list[str]:
    """The context paths (folders end in "/") that COPY/ADD ``sources`` take."""
    chosen: set[str] = set()
    for src in sources:
        if re.match(r"^[a-z][a-z0-9+.-]*://", src, re.IGNORECASE) or src.startswith("git@"):
            continue  # a URL: not from the context
        norm = posixpath.normpath(src.lstrip("/")) if src.strip("/") else "."
        if norm == ".":
            roots = [""]
        elif norm.split("/")[0] == "..":
            continue  # outside the context: the builder refuses it
        elif _GLOB_CHARS & set(norm):
            roots = [p for p in available if _glob_match(norm, p)]
        else:
            roots = [norm] if norm in available else []
        for root in roots:
            if root and not available[root]:
                chosen.add(root)
                continue
            prefix = f"{root}/" if root else ""
            if root:
                chosen.add(prefix)
            for path, is_dir in available.items():
                if path.startswith(prefix) and path != root:
                    chosen.add(f"{path}/" if is_dir else path)
    return sorted(chosen)


def file_digest(path: Path) -> str:
    """Content and permission bits (both part of the builder's cache key; mtime is not)."""
    st = path.lstat()
    h = hashlib.sha256(f"mode:{stat.S_IMODE(st.st_mode):o}\n".encode())
    if stat.S_ISLNK(st.st_mode):
        h.update(b"link:" + os.readlink(path).encode("utf-8", "surrogateescape"))
    else:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()[:32]


def _digests(ctx: Path, available: Mapping[str, bool], sources: Iterable[str]) -> tuple[tuple[str, str], ...]:
    out = []
    for rel in copied_paths(available, sources):
        if rel.endswith("/"):
            out.append((rel, "dir"))
            continue
        try:
            out.append((rel, file_digest(ctx / rel)))
        except OSError:
            out.append((rel, "unreadable"))
    return tuple(out)


def _resolve_bases(api: docker.APIClient, snapshot: BuildSnapshot) -> tuple[tuple[int, str], ...]:
    found = []
    for s in snapshot.steps:
        if s.keyword != "FROM" or not s.base or snapshot.stage_index(s.base) is not None:
            continue
        try:
            found.append((s.stage, api.inspect_image(s.base)["Id"].split(":", 1)[-1][:12]))
        except (DockerException, OSError):  # not here yet (the build pulls it) or no engine: the build tells
            continue
    return tuple(found)


# -- persisting --------------------------------------------------------------------------------


def record_path(key: str, seat: str | None = None) -> Path:
    return paths.build_records_dir(seat) / f"{key}.json"


def load(key: str, seat: str | None = None) -> BuildSnapshot | None:
    """The saved snapshot of the previous build, or None (none yet, or unreadable)."""
    try:
        data = json.loads(record_path(key, seat).read_text(encoding="utf-8"))
        return BuildSnapshot.from_json(data)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save(snapshot: BuildSnapshot, seat: str | None = None) -> Path:
    """Write atomically: a temp file in the same folder, then ``os.replace``."""
    target = record_path(snapshot.key, seat)
    atomic.write_text(target, json.dumps(snapshot.to_json(), indent=1))
    return target
