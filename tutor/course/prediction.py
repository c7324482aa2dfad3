"""Predict, then build: grade the learner's "cached" / "rebuilt" guess for every step.

Before a build the learner marks each step; afterwards ``grade`` compares the
marks with what the engine did and says, for every step, why it went that way:
the first step of a stage that missed the cache missed because its own input
changed; every step after it was rebuilt because of that miss; a cached step's
inputs did not change.  FROM steps count as cached (they name a base image, they
are never rebuilt).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from tutor import fmt
from tutor.course.checks import CACHED_WORD, REBUILT_WORD
from tutor.engine.record import BUILT, CACHED, FAILED, BuildRecord, StepState

NOT_RUN = "not run"
_ALIASES = {CACHED_WORD: CACHED_WORD, REBUILT_WORD: REBUILT_WORD, "built": REBUILT_WORD}
_COPY_FROM_RE = re.compile(r"--from=(\S+)", re.IGNORECASE)


@dataclass(frozen=True)
class StepGrade:
    step: int
    instruction: str
    predicted: str | None  # "cached" | "rebuilt" | None: no mark
    actual: str  # "cached" | "rebuilt" | "not run"
    correct: bool
    explanation: str  # why the step went the way it did
    scored: bool = True  # counts in the score (unmarked FROM steps and steps that never ran do not)


@dataclass(frozen=True)
class PredictionGrade:
    per_step: tuple[StepGrade, ...]
    score: int
    total: int

    @property
    def perfect(self) -> bool:
        return self.total > 0 and self.score == self.total

    @property
    def misses(self) -> tuple[StepGrade, ...]:
        return tuple(g for g in self.per_step if g.scored and not g.correct)

    def summary(self) -> str:
        return f"{self.score} of {self.total} steps predicted right"


def normalise(prediction: Mapping[int, str] | Mapping[str, str] | Mapping[int | str, str]) -> dict[int, str]:
    """Step -> "cached" | "rebuilt"; step numbers may arrive as text (JSON), "built" means rebuilt."""
    marks: dict[int, str] = {}
    for key, word in prediction.items():
        try:
            step = int(key)
        except (TypeError, ValueError):
            raise ValueError(f"{key!r} is not a step number") from None
        mark = _ALIASES.get(str(word).strip().lower())
        if mark is None:
            raise ValueError(f"step {step}: mark it \"{CACHED_WORD}\" or \"{REBUILT_WORD}\", not {word!r}")
        marks[step] = mark
    return marks


def grade(prediction: Mapping[int, str], record: BuildRecord) -> PredictionGrade:
    """Compare the marks made before the build with the build ``record``."""
    marks = normalise(prediction)
    grades: list[StepGrade] = []
    for state in record.ordered:
        if state.status not in (CACHED, BUILT, FAILED):
            continue  # still running or waiting: nothing to grade yet
        actual = CACHED_WORD if state.is_from or state.status == CACHED else REBUILT_WORD
        predicted = marks.get(state.step)
        scored = predicted is not None or not state.is_from
        explanation = _why(state, record)
        if predicted is None and scored:
            explanation = f"no mark was made; {explanation}"
        grades.append(StepGrade(state.step, state.instruction, predicted, actual, predicted == actual, explanation, scored))
    for step in sorted(set(marks) - set(record.steps)):
        grades.append(StepGrade(step, "", marks[step], NOT_RUN, False, _not_run(step, record), scored=False))
    grades.sort(key=lambda g: g.step)
    graded = [g for g in grades if g.scored]
    return PredictionGrade(tuple(grades), sum(1 for g in graded if g.correct), len(graded))


# -- why a step went the way it did ----------------------------------------------------------------


def _head(state: StepState) -> str:
    return f"step {state.step} {fmt.ellipsize(state.instruction, 60)}"


def _missed(state: StepState) -> bool:
    return state.status in (BUILT, FAILED) and not state.is_from


def _why(state: StepState, record: BuildRecord) -> str:
    if state.is_from:
        return (
            f"{_head(state)} counts as cached: FROM only names the base image the stage starts from, "
            "which is already on the engine; it is never rebuilt"
        )
    if state.status == CACHED:
        return f"{_head(state)} came from the cache: nothing this step depends on changed, so the engine reused the layer"
    ran = " (it ran and failed)" if state.status == FAILED else ""
    earlier = [s for s in record.ordered if s.stage == state.stage and s.step < state.step and _missed(s)]
    if earlier:
        cause = earlier[0]
        return (
            f"{_head(state)} was rebuilt{ran} because step {cause.step} ({fmt.ellipsize(cause.instruction, 40)}) "
            "before it missed the cache: every layer after a miss is rebuilt"
        )
    source = _copied_stage(state, record)
    if source is not None:
        return (
            f"{_head(state)} was rebuilt{ran} because it copies from stage {source[0]}, which was rebuilt "
            f"(from step {source[1]} on): a stage that changed gives the files it copies new content"
        )
    return f"{_head(state)} was rebuilt{ran} because its own input changed: {_own_input(state)}; it is the first step of its stage that missed the cache"


def _own_input(state: StepState) -> str:
    keyword = state.keyword
    if keyword in ("COPY", "ADD"):
        return (
            "the files it copies from the build context are not the ones its cached layer was made from "
            "(or the instruction is new, or this is the first build)"
        )
    if keyword == "RUN":
        return (
            "no cached layer was made by this exact command on top of the same layer below "
            "(the command is new or edited, or this is the first build)"
        )
    return (
        f"no cached layer holds this exact {keyword or 'instruction'} on top of the same layer below "
        "(the instruction is new or edited, or this is the first build)"
    )


def _copied_stage(state: StepState, record: BuildRecord) -> tuple[str, int] | None:
    """For ``COPY --from=<stage>``: the stage named and its first rebuilt step, when it missed."""
    match = _COPY_FROM_RE.search(state.instruction) if state.keyword == "COPY" else None
    if match is None:
        return None
    name: str = match.group(1)
    for stage, stage_name in record.stages:
        if stage < state.stage and (name == stage_name or name == str(stage)):
            missed = [s for s in record.ordered if s.stage == stage and _missed(s)]
            return (name, missed[0].step) if missed else None
    return None


def _not_run(step: int, record: BuildRecord) -> str:
    failure = record.failure
    if record.total is not None and step > record.total:
        return f"there is no step {step}: the Dockerfile has {record.total} steps"
    if failure is not None and failure.step is not None:
        return f"step {step} never ran: the build stopped at step {failure.step}"
    if failure is not None:
        return f"step {step} never ran: the build failed before it"
    return f"step {step} has not run yet"
