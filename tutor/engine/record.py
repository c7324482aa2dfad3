"""Fold a build's events into the state of every step: what the panes and the CLI show."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from tutor.engine.events import (
    BuildEvent,
    BuildFailed,
    BuildSucceeded,
    ContextSent,
    StepCached,
    StepFinished,
    StepOutput,
    StepRunning,
    StepSized,
    StepStarted,
)

WAITING, RUNNING, CACHED, BUILT, FAILED = "waiting", "running", "cached", "built", "failed"
METADATA = "metadata"  # ENV, EXPOSE, CMD... on BuildKit: config only, no step ran and no layer was made


@dataclass
class StepState:
    step: int
    total: int
    instruction: str
    stage: int = 0
    stage_name: str | None = None
    status: str = RUNNING
    seconds: float | None = None
    size: int | None = None
    image_id: str | None = None
    container_id: str | None = None
    error: str | None = None
    output_lines: int = 0
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=12))  # last output lines, for errors
    builder: str = "classic"
    ran: tuple[float, float] | None = None  # engine clock: when it ran (BuildKit, built steps only)
    label: str | None = None  # BuildKit's name for the step, "[5/6]"; None on the classic builder

    @property
    def name(self) -> str:
        """The step as its builder names it: "[5/6]" on BuildKit, "step 6/9" on the classic builder."""
        if self.label:
            return self.label
        if self.builder != "classic":
            return "(no step)"  # a config-only instruction: BuildKit runs nothing for it
        return f"step {self.step}/{self.total}"

    @property
    def keyword(self) -> str:
        return self.instruction.split(None, 1)[0].upper() if self.instruction else ""

    @property
    def is_from(self) -> bool:
        return self.keyword == "FROM"


@dataclass
class BuildRecord:
    """Everything known about one build so far.  ``apply`` each event in order."""

    steps: dict[int, StepState] = field(default_factory=dict)
    total: int | None = None
    context_files: int | None = None
    context_bytes: int | None = None
    failure: BuildFailed | None = None
    result: BuildSucceeded | None = None
    orphan_output: list[str] = field(default_factory=list)  # output outside any step (e.g. errors)

    def apply(self, event: BuildEvent) -> StepState | None:
        """Update from one event; returns the step it touched, if any."""
        state: StepState | None
        if isinstance(event, StepStarted):
            self.total = event.total
            state = StepState(
                event.step, event.total, event.instruction, event.stage, event.stage_name,
                builder=event.builder, label=event.label,
            )
            if event.metadata:
                state.status = METADATA
            self.steps[event.step] = state
            return state
        if isinstance(event, StepCached):
            state = self.steps.get(event.step)
            if state:
                state.status = CACHED
            return state
        if isinstance(event, StepRunning):
            state = self.steps.get(event.step)
            if state:
                state.container_id = event.container_id
            return state
        if isinstance(event, StepOutput):
            self.apply_output(event.step, [event.plain])
            return self.steps.get(event.step) if event.step is not None else None
        if isinstance(event, StepFinished):
            state = self.steps.get(event.step)
            if state:
                state.status = METADATA if event.metadata else CACHED if event.cached else BUILT
                state.seconds = event.seconds
                state.size = event.size
                state.image_id = event.image_id
                state.ran = event.ran
            return state
        if isinstance(event, StepSized):
            state = self.steps.get(event.step)
            if state:
                state.size = event.size
            return state
        if isinstance(event, ContextSent):
            self.context_files, self.context_bytes = event.files, event.bytes
            return None
        if isinstance(event, BuildFailed):
            self.failure = event
            state = self.steps.get(event.step) if event.step is not None else None
            if state:
                state.status = FAILED
                state.error = event.message
                state.seconds = event.seconds
            return state
        if isinstance(event, BuildSucceeded):
            self.result = event
        return None

    def apply_output(self, step: int | None, chunks: list[str]) -> None:
        """Output of one step: ``chunks`` of one or more lines each (StepOutput.plain)."""
        state = self.steps.get(step) if step is not None else None
        if state is not None:
            state.output_lines += sum(chunk.count("\n") + 1 for chunk in chunks)
            keep = state.tail.maxlen or 12
            last: list[str] = []
            for chunk in reversed(chunks):  # only the last lines are kept: split no more than needed
                last[:0] = chunk.rsplit("\n", keep)[-keep:]
                if len(last) >= keep:
                    break
            state.tail.extend(last[-keep:])
        else:
            room = 50 - len(self.orphan_output)
            for chunk in chunks:
                if room <= 0:
                    break
                lines = chunk.split("\n")[:room]
                self.orphan_output.extend(lines)
                room -= len(lines)

    # -- summaries -------------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        return self.failure is not None or self.result is not None

    @property
    def ordered(self) -> list[StepState]:
        return [self.steps[k] for k in sorted(self.steps)]

    @property
    def builder(self) -> str:
        return next((s.builder for s in self.steps.values()), "classic")

    @property
    def counted_steps(self) -> int:
        """Steps that ran or came from the cache: on BuildKit, config-only instructions make none."""
        if self.builder == "classic":
            return self.total or len(self.steps)
        return sum(1 for s in self.steps.values() if s.status != METADATA)

    @property
    def cache_hits(self) -> int:
        return sum(1 for s in self.steps.values() if s.status == CACHED)

    @property
    def rebuilt(self) -> int:
        return sum(1 for s in self.steps.values() if s.status == BUILT)

    @property
    def first_miss(self) -> StepState | None:
        """The first step the engine rebuilt instead of taking from the cache."""
        for state in self.ordered:
            if state.status in (BUILT, FAILED) and not state.is_from:
                return state
        return None

    @property
    def stages(self) -> list[tuple[int, str | None]]:
        seen: dict[int, str | None] = {}
        for s in self.ordered:
            seen.setdefault(s.stage, s.stage_name)
        return sorted(seen.items())

    @property
    def final_stage(self) -> int | None:
        stages = self.stages
        return stages[-1][0] if stages else None

    @property
    def final_layers_size(self) -> int:
        """Sum of the layer sizes of the stage that becomes the image (FROM counts its base)."""
        final = self.final_stage
        return sum(s.size or 0 for s in self.steps.values() if s.stage == final)
