"""What the judges share: steps named by the author, found in the Dockerfile and the build record."""

from __future__ import annotations

from tutor import fmt
from tutor.course import dockerfile as df
from tutor.course.checks.kind import Evidence
from tutor.engine.dockerfile import PlannedStep
from tutor.engine.record import BUILT, CACHED, FAILED, METADATA, BuildRecord, StepState


def label(step: int, instruction: str, state: StepState | None = None) -> str:
    """A step as the learner's builder named it in the build: ``[builder 6/6] RUN go build -o main``
    on BuildKit, ``step 7 (RUN go build -o main)`` on the classic builder and before a build."""
    if state is not None and state.label:
        return f"{state.label} {fmt.ellipsize(instruction, 50)}"
    return f"step {step} ({fmt.ellipsize(instruction, 50)})"


def plan(evidence: Evidence) -> list[PlannedStep]:
    return df.steps(evidence.dockerfile)


def line_of(evidence: Evidence, step: int | None) -> int | None:
    if step is None:
        return None
    for planned in plan(evidence):
        if planned.step == step:
            return planned.line
    return None


def status_word(state: StepState) -> str:
    if state.status == CACHED:
        return "came from the cache"
    if state.status == BUILT:
        seconds = f" ({fmt.seconds(state.seconds)})" if state.seconds is not None else ""
        return f"was rebuilt{seconds}"
    if state.status == FAILED:
        return "ran and failed"
    if state.status == METADATA:
        return "made no layer (BuildKit only records it in the image's config)"
    return "did not finish"


def stopped_note(record: BuildRecord) -> str:
    failure = record.failure
    if failure is not None and failure.step is not None:
        return f": the build stopped at step {failure.step}"
    if failure is not None:
        return ": the build failed before it"
    return ""


def resolve(ref: str | int, evidence: Evidence) -> tuple[list[int], str | None]:
    """Step numbers ``ref`` names in the Dockerfile, or None and why it names none."""
    planned = plan(evidence)
    if isinstance(ref, int):
        if any(p.step == ref for p in planned):
            return [ref], None
        return [], f"the Dockerfile has {len(planned)} steps, no step {ref}"
    numbers = [p.step for p in planned if df.matches(p.instruction, ref)]
    if numbers:
        return numbers, None
    return [], f'no step starts with "{ref}" in the Dockerfile'


def ref_text(ref: str | int) -> str:
    return f"step {ref}" if isinstance(ref, int) else f'"{ref}"'


def no_build(record: BuildRecord) -> str:
    failure = record.failure
    if failure is None:
        return "no build finished"
    where = f" at step {failure.step}" if failure.step is not None else ""
    return f"no image: the build failed{where} ({fmt.ellipsize(failure.message, 120)})"
