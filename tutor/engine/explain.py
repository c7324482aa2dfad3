"""Why did a build miss the cache?  No Docker tool says; the tutor does.

The engine only tells *that* a step was rebuilt.  Comparing this build's
snapshot (see :mod:`tutor.engine.buildlog`) with the previous build of the same
workspace + Dockerfile names the first step that missed and its cause: the
instruction's text changed, files it copies from the context changed, the base
image changed, a stage it copies from changed, there was no earlier build, or
the cache was disabled.  Every step rebuilt after it is the cascade: its parent
layer changed, so its cache key did too.
"""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

from tutor import fmt
from tutor.engine import buildlog
from tutor.engine.buildlog import BuildSnapshot, StepInput
from tutor.engine.record import BUILT, CACHED, FAILED, BuildRecord, StepState

if TYPE_CHECKING:
    import docker

    from tutor.engine.build import BuildRequest

FIRST_BUILD = "first-build"  # no earlier build of this Dockerfile to compare with
NO_CACHE = "no-cache"  # --no-cache
INSTRUCTION = "instruction"  # the instruction's text changed (or one was added/removed)
FILES = "files"  # files a COPY/ADD takes from the context changed
BASE_IMAGE = "base-image"  # FROM names the same image, which now is another image
STAGE = "stage"  # COPY --from / FROM an earlier stage, and that stage changed
NOT_BUILT_BEFORE = "not-built-before"  # the previous build never completed that step
CACHE_GONE = "cache-gone"  # no input changed: the engine no longer had the layer
NONE = "none"  # every step came from the cache
NO_STEPS = "no-steps"  # the build stopped before any step
UNKNOWN = "unknown"  # the Dockerfile read does not match the steps the engine ran

_MISSED = (BUILT, FAILED)
_MAX_NAMES = 3
_MAX_DETAIL_FILES = 20


@dataclass(frozen=True)
class FileChange:
    path: str
    change: str  # added | changed | removed


@dataclass(frozen=True)
class CacheExplanation:
    first_miss_step: int | None
    cause_kind: str
    summary: str  # one or two plain sentences
    details: tuple[str, ...] = ()
    changed_files: tuple[FileChange, ...] = ()
    cascade: tuple[int, ...] = ()  # steps rebuilt only because an earlier step changed
    cause_step: int | None = None  # the step whose input changed (may precede the first miss)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["changed_files"] = [asdict(c) for c in self.changed_files]
        data["details"] = list(self.details)
        data["cascade"] = list(self.cascade)
        return data


@dataclass(frozen=True)
class _Cause:
    kind: str
    clause: str  # completes "Step 6/9 COPY . . <clause>"
    step: int | None = None
    details: tuple[str, ...] = ()
    changes: tuple[FileChange, ...] = ()
    reason: str = ""  # the change alone, e.g. "main.go changed": used when a later stage cites it


@dataclass
class _Context:
    previous: BuildSnapshot | None
    current: BuildSnapshot
    record: BuildRecord
    total: int
    changed_stages: set[int] = field(default_factory=set)

    @property
    def buildkit(self) -> bool:
        return self.record.builder != "classic"

    def head(self, step: int) -> str:
        state = self.record.steps.get(step)
        text = state.instruction if state is not None else self._text(step)
        if self.buildkit:
            return f"{state.label} {fmt.ellipsize(text, 60)}" if state is not None and state.label else f"`{fmt.ellipsize(text, 60)}`"
        return f"step {step}/{self.total} {fmt.ellipsize(text, 60)}"

    def name(self, step: int) -> str:
        """A step as its builder names it: "step 6/9" (classic), "[5/6]" or `ENV ...` (BuildKit, no step)."""
        if self.buildkit:
            state = self.record.steps.get(step)
            if state is not None and state.label:
                return state.label
            return f"`{fmt.ellipsize(state.instruction if state is not None else self._text(step), 40)}`"
        return f"step {step}/{self.total}"

    def short(self, step: int) -> str:
        """"step 6" (classic) or "[5/6]" (BuildKit)."""
        return self.name(step) if self.buildkit else f"step {step}"

    def several(self, steps: tuple[int, ...] | list[int]) -> str:
        """"steps 7-9" (classic) or "[4/6], [5/6] and [6/6]" (BuildKit); one step as ``short``."""
        if len(steps) == 1:
            return self.short(steps[0])
        if self.buildkit:
            return _join([self.name(n) for n in sorted(steps)])
        return f"steps {step_ranges(tuple(steps))}"

    def _text(self, step: int) -> str:
        for s in self.current.steps:
            if s.step == step:
                return s.text
        return "?"


# -- the public entry points --------------------------------------------------------------------


def explain(previous: BuildSnapshot | None, current: BuildSnapshot, record: BuildRecord) -> CacheExplanation:
    """Why ``record``'s build missed the cache where it did, compared with ``previous``."""
    explanation = _explain(previous, current, record)
    skipped = skipped_stages(current, record)
    if not skipped:
        return explanation
    named = _join([f"stage {_stage_label(current, st)}" for st in skipped])
    one = len(skipped) == 1
    verb = "was" if one else "were"
    target = f"the target {current.target}" if current.target else "the image built"
    if record.builder == "classic":  # it builds every stage in order, up to the target
        note = f" {named[0].upper()}{named[1:]} {verb} not built: the classic builder stops at {target}."
    else:
        note = f" {named[0].upper()}{named[1:]} {verb} skipped: {target} does not need {'it' if one else 'them'}."
    return replace(explanation, summary=explanation.summary + note)


def skipped_stages(current: BuildSnapshot, record: BuildRecord) -> list[int]:
    """Stages a successful build did not build: BuildKit skips those the target stage does not
    need; the classic builder builds every stage up to the target and stops there."""
    if record.result is None:
        return []
    final = buildlog.target_stage(current.steps, current.target)
    if final is None:
        return []
    if record.builder == "classic":
        return [st for st in current.stage_indexes if st > final]
    needed = buildlog.needed_stages(current.steps, current.target)
    return [st for st in current.stage_indexes if st not in needed]


def _explain(previous: BuildSnapshot | None, current: BuildSnapshot, record: BuildRecord) -> CacheExplanation:
    if not record.steps:
        return CacheExplanation(None, NO_STEPS, "The build stopped before its first step: nothing was built.")
    total = record.total or current.total
    if not _aligned(current, record):
        return CacheExplanation(
            None,
            UNKNOWN,
            "The Dockerfile changed while it was being built, so this build cannot be compared; "
            "build again to see why steps missed the cache.",
        )
    ctx = _Context(previous, current, record, total)
    if ctx.buildkit:
        total_named = record.counted_steps  # config-only instructions make no BuildKit step
    else:
        total_named = total
    missed = [s for s in record.ordered if s.status in _MISSED and not s.is_from]
    if not missed:
        if previous is None and not current.nocache:
            return CacheExplanation(
                None,
                FIRST_BUILD,
                f"There is no earlier build of this Dockerfile to compare with; all {total_named} steps came from "
                "the engine's cache (an earlier build with the same inputs left them there).",
            )
        change = _any_change(ctx) if previous is not None else None
        if change is not None:
            return CacheExplanation(
                None,
                NONE,
                f"All {total_named} steps came from the cache: {change.reason} since the previous build, but the engine "
                "still had the layers of an earlier build with exactly these inputs.",
                change.details,
                change.changes,
                (),
                change.step,
            )
        return CacheExplanation(
            None, NONE, f"All {total_named} steps came from the cache: nothing this build uses changed since the previous build."
        )
    first = missed[0]
    if current.nocache or previous is None:
        cause = (
            _Cause(NO_CACHE, "was built afresh because the cache was disabled (--no-cache)", first.step)
            if current.nocache
            else _Cause(
                FIRST_BUILD,
                "was built, not taken from the cache; there is no earlier build of this Dockerfile to compare with",
                first.step,
            )
        )
        cascade = tuple(s.step for s in missed[1:])
        summary = _sentence(ctx, ctx.head(first.step), cause.clause, cascade, "were built after it", record, total)
        return CacheExplanation(first.step, cause.kind, summary, (), (), cascade, cause.step)

    # Stages as the Dockerfile numbers them (the stream counts ARGs before FROM as a stage).
    stage_of = {s.step: _stage_of(current, s.step) for s in missed}
    ctx.changed_stages = set(stage_of.values())
    causes: list[tuple[StepState, _Cause]] = []
    for stage in sorted(ctx.changed_stages, key=lambda st: min(n for n, x in stage_of.items() if x == st)):
        m = min((s for s in missed if stage_of[s.step] == stage), key=lambda s: s.step)
        causes.append((m, _cause_in_stage(ctx, stage, m)))
    causes = [(m, _own_edit_first(ctx, m, c)) for m, c in causes]
    main_step, main = causes[0]
    if main.kind == INSTRUCTION and main.step is not None and main.step < main_step.step:
        # The chain differs from the previous build's from main.step on, yet the engine had some of
        # those steps from an older build: say so, or "new since the previous build" reads as a
        # contradiction of the CACHED rows above the miss.
        hidden = [s.step for s in record.ordered if main.step <= s.step < main_step.step and s.status == CACHED]
        if hidden:
            many = len(hidden) > 1
            main = replace(
                main,
                clause=f"{main.clause} ({ctx.several(hidden)} still came from "
                f"the engine's cache: an earlier build had made {'them' if many else 'it'})",
            )
    independent = {m.step for m, c in causes[1:] if c.kind != STAGE}
    cascade = tuple(s.step for s in missed if s.step > main_step.step and s.step not in independent)
    details = list(main.details)
    for m, c in causes[1:]:
        head = ctx.head(m.step)
        details.append(f"{head[0].upper()}{head[1:]} {c.clause}.")
    # Each stage's rebuilt steps are told apart: a later stage rebuilt because what it copies (or
    # starts from) changed, not as one cascade with the stage before it.
    main_stage = stage_of[main_step.step]
    own = tuple(n for n in cascade if stage_of.get(n) == main_stage)
    clause = main.clause + _own_text_changes(ctx, main, own)
    summary = _sentence(ctx, ctx.head(main_step.step), clause, own, "were rebuilt as a consequence", record, total)
    for m, c in causes[1:]:
        followers = tuple(n for n in cascade if n > m.step and stage_of.get(n) == stage_of[m.step])
        summary += " " + _sentence(
            ctx, ctx.head(m.step), c.clause, followers, "were rebuilt as a consequence", record, total, failure=False
        )
    return CacheExplanation(main_step.step, main.kind, summary, tuple(details), main.changes, cascade, main.step)


def _own_text_changes(ctx: _Context, main: _Cause, rebuilt: tuple[int, ...]) -> str:
    """Steps rebuilt after a miss whose own instruction changed too: the cascade hid that edit."""
    if main.kind == INSTRUCTION:
        return ""
    named = []
    for n in rebuilt:
        before = _previous_text(ctx, n)
        if before is not None:
            named.append(f"{ctx.short(n)}'s own instruction changed too (it was `{fmt.ellipsize(before, 50)}`)")
    return ("; " + "; ".join(named)) if named else ""


def _previous_text(ctx: _Context, step: int) -> str | None:
    """What step ``step`` read in the previous build (same stage, same place), if it read otherwise."""
    assert ctx.previous is not None
    c = next((s for s in ctx.current.steps if s.step == step), None)
    if c is None:
        return None
    cur_steps, prev_steps = ctx.current.stage_steps(c.stage), ctx.previous.stage_steps(c.stage)
    j = next((i for i, s in enumerate(cur_steps) if s.step == step), -1)
    p = prev_steps[j] if 0 <= j < len(prev_steps) else None
    return p.text if p is not None and p.text != c.text else None


def _own_edit_first(ctx: _Context, miss: StepState, cause: _Cause) -> _Cause:
    """A missed step whose own text changed missed for that, not for an earlier edit the cache held.

    When an earlier step's new text came from the cache (an older build had made it), the engine
    found that step; what it never had is the missed step's new text on top of it."""
    if cause.kind != INSTRUCTION or cause.step is None or cause.step >= miss.step:
        return cause
    before = _previous_text(ctx, miss.step)
    earlier = ctx.record.steps.get(cause.step)
    if before is None or earlier is None or earlier.status != CACHED:
        return cause
    was = _previous_text(ctx, cause.step)
    held = (
        f"; {ctx.short(cause.step)}'s instruction changed too (it was `{fmt.ellipsize(was, 50)}`), "
        "but an earlier build had made it, so it came from the cache"
        if was is not None
        else ""
    )
    return _Cause(
        INSTRUCTION,
        f"missed the cache because its instruction changed (it was `{fmt.ellipsize(before, 50)}`){held}",
        miss.step,
        (f"before: {before}", f"now: {miss.instruction}"),
        reason=f"the instruction of {ctx.name(miss.step)} changed",
    )


def snapshot_before(request: BuildRequest, api: docker.APIClient | None = None) -> BuildSnapshot | None:
    """The inputs of ``request``, taken just before it is built; None when they cannot be read
    (the build itself then reports what is wrong with the context or Dockerfile)."""
    try:
        return buildlog.take_snapshot(request.context, request.dockerfile, request.nocache, api, target=request.target)
    except Exception:  # noqa: BLE001 - an unreadable context is the build's error to report
        return None


def explain_build(
    request: BuildRequest,
    record: BuildRecord,
    before: BuildSnapshot | None = None,
    save: bool = True,
    seat: str | None = None,
) -> CacheExplanation | None:
    """Explain a finished build of ``request`` and remember it for the next one.

    Take ``before`` with :func:`snapshot_before` before the build starts (files edited
    during the build then do not blur the picture); without it the inputs are read now.
    Returns None when nothing can be said (no step ran, or the context is unreadable).
    """
    if not record.steps:
        return None
    snapshot = before or snapshot_before(request)
    if snapshot is None:
        return None
    current = snapshot.completed(record)
    previous = buildlog.load(current.key, seat)
    explanation = explain(previous, current, record)
    if save:
        try:
            buildlog.save(current, seat)
        except OSError:
            pass  # the explanation stands; only the next build's comparison is lost
    return explanation


# -- causes -------------------------------------------------------------------------------------


def _aligned(current: BuildSnapshot, record: BuildRecord) -> bool:
    by_step = {s.step: s for s in current.steps}
    for state in record.ordered:
        mine = by_step.get(state.step)
        if mine is None or mine.keyword != state.keyword:
            return False
    return True


def _stage_of(snapshot: BuildSnapshot, step: int) -> int:
    for s in snapshot.steps:
        if s.step == step:
            return s.stage
    return -1


def _cause_in_stage(ctx: _Context, stage: int, miss: StepState) -> _Cause:
    """The first input of the stage, from its FROM to the missed step, that differs is the cause."""
    assert ctx.previous is not None
    found = _first_change(ctx, stage, miss.step)
    if found is not None:
        return found
    prev_steps = ctx.previous.stage_steps(stage)
    position = len([s for s in ctx.current.stage_steps(stage) if s.step <= miss.step]) - 1
    prev_step = prev_steps[position] if 0 <= position < len(prev_steps) else None
    done = ctx.previous.result(prev_step.step) if prev_step is not None else None
    if done is None or done.status not in (CACHED, BUILT):
        if ctx.previous.failed_step is not None:
            where = (
                f"it stopped at {ctx.name(ctx.previous.failed_step)}"
                if ctx.buildkit
                else f"it stopped at step {ctx.previous.failed_step}/{ctx.previous.total}"
            )
        else:
            where = "it did not get that far"
        return _Cause(
            NOT_BUILT_BEFORE, f"missed the cache because the previous build never completed it ({where})", miss.step
        )
    if ctx.previous.builder != ctx.current.builder:
        names = {"classic": "the classic builder", "buildkit": "BuildKit"}
        before, now = names.get(ctx.previous.builder, ctx.previous.builder), names.get(ctx.current.builder, ctx.current.builder)
        return _Cause(
            CACHE_GONE,
            f"missed the cache although nothing it depends on changed: the previous build used {before}, and "
            f"{now} keeps a cache of its own",
            miss.step,
        )
    return _Cause(
        CACHE_GONE,
        "missed the cache although nothing it depends on changed since the previous build: the engine no "
        "longer had that layer (its build cache was pruned or the image was removed)",
        miss.step,
    )


def _any_change(ctx: _Context) -> _Cause | None:
    """The first input that differs from the previous build anywhere, even if the cache hid it."""
    for stage in ctx.current.stage_indexes:
        steps = ctx.current.stage_steps(stage)
        found = _first_change(ctx, stage, steps[-1].step) if steps else None
        if found is not None:
            return found
    return None


def _first_change(ctx: _Context, stage: int, upto: int, depth: int = 0) -> _Cause | None:
    """Walk the stage's steps up to step ``upto``, comparing each input with the previous build."""
    assert ctx.previous is not None
    cur_steps, prev_steps = ctx.current.stage_steps(stage), ctx.previous.stage_steps(stage)
    for j, c in enumerate(s for s in cur_steps if s.step <= upto):
        p = prev_steps[j] if j < len(prev_steps) else None
        here = c.step == upto
        if p is None or p.text != c.text:
            return _instruction_cause(ctx, c, j, prev_steps, cur_steps, here)
        if c.keyword == "FROM":
            cause = _base_cause(ctx, c, stage, depth)
        elif c.copy_from is not None:
            cause = _copy_from_cause(ctx, c, depth)
        elif c.sources is not None and p.sources is not None and c.sources != p.sources:
            cause = _files_cause(ctx, c, p, here)
        else:
            cause = None
        if cause is not None:
            return cause
    return None


def _stage_change(ctx: _Context, source: int, depth: int) -> _Cause | None:
    """Why an earlier stage's result differs from the previous build's, or None if it does not.

    Judged by the stage's last image: a stage can change without missing the cache at all
    (its steps came from an older build with the same inputs)."""
    assert ctx.previous is not None
    cur_steps, prev_steps = ctx.current.stage_steps(source), ctx.previous.stage_steps(source)
    if not cur_steps or depth > 8:
        return None
    cur_last = ctx.current.result(cur_steps[-1].step)
    prev_last = ctx.previous.result(prev_steps[-1].step) if prev_steps else None
    same = cur_last is not None and prev_last is not None and cur_last.image_id == prev_last.image_id
    if same and source not in ctx.changed_stages:
        return None
    inner = _first_change(ctx, source, cur_steps[-1].step, depth + 1)
    if inner is not None:
        return inner
    return _Cause(CACHE_GONE, "", None, reason="it was rebuilt")


def _base_cause(ctx: _Context, c: StepInput, stage: int, depth: int) -> _Cause | None:
    assert ctx.previous is not None
    source = ctx.current.stage_index(c.base or "")
    if source is not None and source < stage:
        inner = _stage_change(ctx, source, depth)
        if inner is None:
            return None
        label = _stage_label(ctx.current, source)
        return _Cause(
            STAGE,
            f"missed the cache because stage {label}, which this stage starts from, changed ({inner.reason})",
            c.step,
            inner.details,
            inner.changes,
            reason=f"stage {label} changed ({inner.reason})",
        )
    old, new = ctx.previous.base_id(stage), ctx.current.base_id(stage)
    if old and new and old[:12] != new[:12]:
        return _Cause(
            BASE_IMAGE,
            f"missed the cache because the base image {c.base} ({ctx.name(c.step)}) now is a different "
            f"image ({new[:12]} instead of {old[:12]})",
            c.step,
            (f"{c.base}: was {old[:12]}, now {new[:12]}",),
            reason=f"its base image {c.base} now is a different image",
        )
    return None


def _copy_from_cause(ctx: _Context, c: StepInput, depth: int) -> _Cause | None:
    state = ctx.record.steps.get(c.step)
    if state is not None and state.status == CACHED:
        return None  # what it copies came out the same: not a cause
    source = ctx.current.stage_index(c.copy_from or "")
    if source is None:
        return _Cause(
            STAGE,
            f"missed the cache because it copies from the image {c.copy_from}, which may have changed "
            "since the previous build",
            c.step,
            reason=f"the image {c.copy_from} may have changed",
        )
    inner = _stage_change(ctx, source, depth)
    if inner is None:
        return None
    label = _stage_label(ctx.current, source)
    return _Cause(
        STAGE,
        f"missed the cache because it copies from stage {label}, which changed ({inner.reason})",
        c.step,
        inner.details,
        inner.changes,
        reason=f"stage {label} changed ({inner.reason})",
    )


def _files_cause(ctx: _Context, c: StepInput, p: StepInput, here: bool) -> _Cause:
    changes = file_changes(dict(p.sources or ()), dict(c.sources or ()))
    phrase = files_phrase(changes)
    dockerfile = _dockerfile_in_context(ctx.current, changes)
    note = (
        f": {dockerfile} is in the build context, so `{fmt.ellipsize(c.text, 30)}` copies it too "
        f"(list {dockerfile} in .dockerignore to keep it out)"
        if dockerfile is not None
        else ""
    )
    if here:
        clause = f"missed the cache because {phrase}{note}"
    else:
        clause = (
            f"missed the cache because {ctx.name(c.step)} {fmt.ellipsize(c.text, 40)} takes files "
            f"that changed ({phrase}){note}"
        )
    details = tuple(f"{ch.path}: {ch.change}" for ch in changes[:_MAX_DETAIL_FILES])
    if len(changes) > _MAX_DETAIL_FILES:
        details += (f"... and {len(changes) - _MAX_DETAIL_FILES} more",)
    return _Cause(FILES, clause, c.step, details, tuple(changes), reason=phrase)


def _dockerfile_in_context(snapshot: BuildSnapshot, changes: list[FileChange]) -> str | None:
    """The Dockerfile's path in the context when it is among the changed files a step copies."""
    name = snapshot.dockerfile.replace("\\", "/")
    for change in changes:
        if change.change == "changed" and (name == change.path or name.endswith("/" + change.path)):
            return change.path
    return None


def _instruction_cause(
    ctx: _Context, c: StepInput, j: int, prev_steps: list[StepInput], cur_steps: list[StepInput], here: bool
) -> _Cause:
    old_texts, new_texts = [s.text for s in prev_steps], [s.text for s in cur_steps]
    tag, old = "replace", (old_texts[j] if j < len(old_texts) else None)
    for op, i1, _i2, _j1, _j2 in difflib.SequenceMatcher(None, old_texts, new_texts, autojunk=False).get_opcodes():
        if op != "equal":
            tag, old = op, (old_texts[i1] if i1 < len(old_texts) else None)
            break
    step = ctx.name(c.step)
    details: tuple[str, ...]
    if tag == "insert" or old is None:
        what = "it" if here else f"{step} {fmt.ellipsize(c.text, 40)}"
        clause = f"missed the cache because {what} is new since the previous build"
        reason = f"{step} is new"
        details = (f"new: {c.text}",)
    elif tag == "delete":
        where = "the instruction before it" if here else f"the instruction before {step}"
        clause = f"missed the cache because {where}, `{fmt.ellipsize(old, 50)}`, was removed"
        reason = f"`{fmt.ellipsize(old, 50)}` was removed"
        details = (f"removed: {old}",)
    else:
        subject = "its instruction" if here else f"the instruction of {step}"
        clause = f"missed the cache because {subject} changed (it was `{fmt.ellipsize(old, 50)}`)"
        reason = f"the instruction of {step} changed"
        details = (f"before: {old}", f"now: {c.text}")
    return _Cause(INSTRUCTION, clause, c.step, details, reason=reason)


def _stage_label(snapshot: BuildSnapshot, stage: int) -> str:
    for s in snapshot.steps:
        if s.stage == stage and s.keyword == "FROM":
            return s.stage_name or str(stage)
    return str(stage)


# -- wording ------------------------------------------------------------------------------------


def file_changes(old: dict[str, str], new: dict[str, str]) -> list[FileChange]:
    """Added, changed and removed context paths; a folder is named only when nothing inside it is."""
    changes = []
    for path in sorted(set(old) | set(new)):
        if path not in old:
            changes.append(FileChange(path, "added"))
        elif path not in new:
            changes.append(FileChange(path, "removed"))
        elif old[path] != new[path]:
            changes.append(FileChange(path, "changed"))
    named = [c.path for c in changes if not c.path.endswith("/")]
    return [c for c in changes if not c.path.endswith("/") or not any(n.startswith(c.path) for n in named)]


def files_phrase(changes: list[FileChange]) -> str:
    """'main.go changed', 'a.go and b.go changed and notes.txt was added', ..."""
    parts = []
    for kind, one, many in (("changed", "changed", "changed"), ("added", "was added", "were added"),
                            ("removed", "was removed", "were removed")):
        names = [c.path for c in changes if c.change == kind]
        if not names:
            continue
        shown = names[:_MAX_NAMES]
        listed = _join(shown + ([f"{len(names) - len(shown)} more"] if len(names) > len(shown) else []))
        parts.append(f"{listed} {one if len(names) == 1 else many}")
    return _join(parts) if parts else "files it copies changed"


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def step_ranges(steps: tuple[int, ...] | list[int]) -> str:
    """(7, 8, 9, 12) -> '7-9 and 12'."""
    runs: list[list[int]] = []
    for n in sorted(steps):
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return _join([f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs])


def _sentence(
    ctx: _Context,
    head: str,
    clause: str,
    cascade: tuple[int, ...],
    cascade_verb: str,
    record: BuildRecord,
    total: int,
    failure: bool = True,
) -> str:
    text = f"{head[0].upper()}{head[1:]} {clause}"
    if len(cascade) == 1:
        text += f"; {ctx.short(cascade[0])} {cascade_verb.replace('were', 'was', 1)}"
    elif cascade:
        text += f"; {ctx.several(cascade)} {cascade_verb}"
    text += "."
    failed = record.failure
    if failure and failed is not None and failed.step is not None and not failed.cancelled:
        where = ctx.name(failed.step) if ctx.buildkit else f"step {failed.step}/{total}"
        text += f" The build failed at {where}."
    return text
