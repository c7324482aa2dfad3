"""Typed events of a build.  The headless CLI and the TUI consume the same stream.

Every event is a frozen dataclass with a ``type`` name used by ``--json``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Union

from tutor.engine.image_size import StoreSizes


@dataclass(frozen=True)
class ContextSent:
    """The build context was packed and handed to the engine."""

    type: ClassVar[str] = "context"
    files: int
    bytes: int


@dataclass(frozen=True)
class BuildQueued:
    """The engine is busy with other seats' builds: this one waits its turn."""

    type: ClassVar[str] = "build_queued"
    ahead: int  # builds before this one (running or waiting)
    slots: int  # builds the engine takes at once


@dataclass(frozen=True)
class ContextProgress:
    """Packing (files so far) or sending (bytes so far) the build context: big contexts take a while."""

    type: ClassVar[str] = "context_progress"
    phase: str  # "packing" | "sending"
    files: int
    bytes: int
    total_bytes: int | None = None


@dataclass(frozen=True)
class StepStarted:
    type: ClassVar[str] = "step_started"
    step: int
    total: int
    instruction: str  # as written in the Dockerfile, e.g. "COPY . ."
    stage: int  # 0-based stage index (one per FROM)
    stage_name: str | None  # "builder" for `FROM ... AS builder`
    builder: str = "classic"  # "classic" | "buildkit"
    label: str | None = None  # BuildKit's name for the step: "[5/6]", "[builder 2/6]"
    position: int | None = None  # 1-based within its stage, counting what BuildKit counts
    stage_total: int | None = None  # how many steps BuildKit counts in the stage
    metadata: bool = False  # ENV, EXPOSE, CMD, LABEL...: config only, no layer (BuildKit makes no step)


@dataclass(frozen=True)
class StepCached:
    type: ClassVar[str] = "step_cached"
    step: int


@dataclass(frozen=True)
class StepRunning:
    """The step runs in a temporary container."""

    type: ClassVar[str] = "step_running"
    step: int
    container_id: str


@dataclass(frozen=True)
class StepOutput:
    type: ClassVar[str] = "step_output"
    step: int | None
    # One or more lines (joined with "\n"): a chunk of a noisy step comes as one event.
    text: str  # with the engine's ANSI colours, for display
    plain: str  # colours stripped, for matching

    @property
    def lines(self) -> list[str]:
        return self.text.split("\n")


@dataclass(frozen=True)
class StepFinished:
    type: ClassVar[str] = "step_finished"
    step: int
    image_id: str  # short id of the image this step produced
    seconds: float
    cached: bool
    size: int | None = None  # bytes this step's layer adds; 0 for metadata-only steps
    metadata: bool = False  # a config-only instruction: it makes no layer
    # When it ran, by the engine's clock (seconds since the epoch): BuildKit says, and runs
    # independent stages at the same time; None when unknown (the classic builder, a cached step).
    ran: tuple[float, float] | None = None


@dataclass(frozen=True)
class StepSized:
    """The size of a step's layer, known after the build (BuildKit: from the image's history)."""

    type: ClassVar[str] = "step_size"
    step: int
    size: int


@dataclass(frozen=True)
class PullProgress:
    type: ClassVar[str] = "pull"
    status: str
    layer: str | None = None
    current: int | None = None
    total: int | None = None


@dataclass(frozen=True)
class EngineWarning:
    type: ClassVar[str] = "warning"
    message: str


@dataclass(frozen=True)
class StepNeverEnds:
    """A RUN step looks like it started a server: a build step has to finish, and a server never does."""

    type: ClassVar[str] = "never_ends"
    step: int
    reason: str  # what gave it away, in words
    advice: str  # what to do instead


@dataclass(frozen=True)
class BuildFailed:
    type: ClassVar[str] = "failed"
    message: str
    step: int | None = None  # failing step, when known
    line: int | None = None  # Dockerfile line, when the engine names one
    engine_lost: bool = False  # the engine went away mid-build
    cancelled: bool = False
    fix: str | None = None  # what the learner can do about it, when known
    seconds: float | None = None  # how long the failing step ran


@dataclass(frozen=True)
class BuildSucceeded:
    type: ClassVar[str] = "succeeded"
    image_id: str
    tags: tuple[str, ...] = ()
    image_size: int | None = None  # its layers unpacked: tutor.engine.image_size
    seconds: float = 0.0
    store_sizes: StoreSizes | None = None  # on the containerd store: what `docker images` shows


BuildEvent = Union[
    BuildQueued,
    ContextProgress,
    ContextSent,
    StepStarted,
    StepCached,
    StepRunning,
    StepOutput,
    StepFinished,
    StepSized,
    PullProgress,
    EngineWarning,
    StepNeverEnds,
    BuildFailed,
    BuildSucceeded,
]

STEP_EVENTS = (StepStarted, StepCached, StepRunning, StepOutput, StepFinished)


def to_dict(event: BuildEvent, **extra: Any) -> dict[str, Any]:
    """The event as a JSON-ready dict with its ``type`` first."""
    data: dict[str, Any] = {"type": event.type}
    data.update(asdict(event))
    data.update(extra)
    return data

