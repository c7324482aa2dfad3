"""How BuildKit will name a Dockerfile's steps, before it runs them: the layer pane's plan then
reads as the build will (``5/6`` within its stage, ``—`` for what makes no BuildKit step, and
no row for a stage the target does not need)."""

from __future__ import annotations

from collections.abc import Sequence

from tutor.engine.buildlog import StepInput, from_stage, needed_stages, parse_steps

# The instructions BuildKit runs a step (a vertex) for; the others only set the image's config.
VERTEX_KEYWORDS = frozenset({"FROM", "RUN", "COPY", "ADD", "WORKDIR"})


def vertex_steps(steps: Sequence[StepInput], stage: int) -> list[StepInput]:
    """The instructions of ``stage`` BuildKit counts as steps: a FROM of an earlier stage is none."""
    return [s for s in steps if s.stage == stage and s.keyword in VERTEX_KEYWORDS and from_stage(steps, s) is None]


def step_names(steps: Sequence[StepInput], target: str | None = None) -> dict[int, str]:
    """Step number -> its BuildKit name within its stage (``5/6``), or ``—`` for an instruction
    BuildKit runs nothing for; the steps of stages the target does not need are left out."""
    names: dict[int, str] = {}
    for stage in sorted(needed_stages(steps, target)):
        counted = vertex_steps(steps, stage)
        position = {s.step: index for index, s in enumerate(counted, start=1)}
        for s in steps:
            if s.stage == stage:
                names[s.step] = f"{position[s.step]}/{len(counted)}" if s.step in position else "—"
    return names


def plan_names(text: str, target: str | None = None) -> dict[int, str]:
    """:func:`step_names` of a Dockerfile's text; empty when it cannot be read."""
    try:
        return step_names(parse_steps(text), target)
    except Exception:  # noqa: BLE001 - a learner's file can be anything: the plan then numbers as written
        return {}
