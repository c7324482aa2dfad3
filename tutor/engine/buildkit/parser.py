"""BuildKit's progress, as the tutor's build events.  Pure: fed messages and their arrival times.

BuildKit reports a graph of vertexes.  The Dockerfile's steps are the vertexes named like
``[5/6] COPY . .`` (single stage) or ``[builder 2/6] WORKDIR /app`` (multi-stage: the stage's
name, or ``stage-N``): their position within the stage, counting only the instructions that
make a vertex (FROM, RUN, COPY, ADD, WORKDIR).  ENV, EXPOSE, CMD, LABEL and the like make none:
they change the image's config, not its layers.  The parser maps every vertex back to its
Dockerfile instruction (numbered as the classic builder numbers them, so the record, the cache
explanation and the layer pane work on both builders) and reports the config-only instructions
as metadata steps, right after the step before them finishes.

Two front ends feed one parser: :class:`RawJsonParser` (objects buildx prints with
``--progress=rawjson``, plus its text lines and metadata file) and :class:`TraceParser` (the
engine API's ``moby.buildkit.trace`` messages).
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any

from tutor.engine.buildkit.plan import VERTEX_KEYWORDS, vertex_steps
from tutor.engine.buildkit.status import SolveStatus, TraceError, Vertex, from_rawjson, from_trace
from tutor.engine.buildlog import StepInput, from_stage, needed_stages, parse_steps
from tutor.engine.events import (
    BuildEvent,
    ContextProgress,
    EngineWarning,
    StepCached,
    StepFinished,
    StepOutput,
    StepRunning,
    StepStarted,
)
from tutor.engine.stream import engine_error, failure, strip_ansi

BUILDKIT = "buildkit"
CONTEXT_VERTEX = "[internal] load build context"
STEP_NAME_RE = re.compile(r"^\[(?:(?P<stage>[^\]\s]+) )?(?P<pos>\d+)/(?P<count>\d+)\] (?P<text>.*)$", re.S)
# Instructions that make a BuildKit vertex; every other one only changes the image's config.
_STAGE_N_RE = re.compile(r"^stage-(\d+)$")
_METADATA_FOR_RE = re.compile(r"^\[internal\] load metadata for (\S+)$")
_SOLVE_PREFIX_RE = re.compile(r"^(?:ERROR:\s*)?(?:failed to solve:\s*)?", re.I)


@dataclass
class _Step:
    number: int
    label: str  # "[5/6]" or "[builder 2/6]": BuildKit's name for it
    instruction: str
    stage: int
    stage_name: str | None
    position: int
    count: int
    arrived: float  # when its start arrived (a fallback for its timing)
    started: float | None = None  # the engine's own clock
    cached: bool = False
    running: bool = False
    finished: bool = False
    said: deque[str] = field(default_factory=lambda: deque(maxlen=40))
    partial: str = ""  # a log line not yet ended


# `failed to calculate checksum of ref <id>::<id>: "/nothere.txt": not found`: a COPY source missing.
_CHECKSUM_RE = re.compile(r'failed to calculate checksum of ref \S+: "([^"]+)": not found')
# BuildKit's scratch mount of the context, which means nothing to the learner.
_MOUNT_RE = re.compile(r"/var/lib/docker/tmp/buildkit-mount\d+")


def _plain_message(text: str, instruction: str | None = None) -> str:
    message = _SOLVE_PREFIX_RE.sub("", strip_ansi(text).strip(), count=1).strip()
    missing = _CHECKSUM_RE.search(message)
    if missing is not None:
        keyword = (instruction or "COPY").split(None, 1)[0].upper()
        return f"{keyword} {missing.group(1).lstrip('/')}: file not found in build context"
    message = _MOUNT_RE.sub("", message)
    keyword = (instruction or "").split(None, 1)[0].upper() if instruction else ""
    if keyword in ("COPY", "ADD") and message.startswith("lstat "):  # a glob's folder is missing
        return f"{keyword} {message[len('lstat '):].lstrip('/')}"
    return message


@dataclass
class BuildKitParser:
    """Feed :class:`SolveStatus` messages in arrival order; collect events.  One per build.

    ``dockerfile`` is the Dockerfile's text: it names each step as written and places the
    metadata steps.  Without it (or when it does not match what BuildKit runs), steps are
    numbered in the order they start and named as BuildKit names them.
    """

    dockerfile: str | None = None
    target: str | None = None  # the stage built (`--target`); None: the last one
    builder: str = BUILDKIT
    image_id: str | None = None
    tags: list[str] = field(default_factory=list)
    failed: bool = False
    steps: dict[int, _Step] = field(default_factory=dict)
    _inputs: list[StepInput] = field(default_factory=list)
    _by_vertex: dict[str, _Step] = field(default_factory=dict)
    _announced: set[int] = field(default_factory=set)  # metadata steps already reported
    _context_vertexes: set[str] = field(default_factory=set)  # BuildKit's "load build context"
    _fallback_next: int = 1000

    def __post_init__(self) -> None:
        if self.dockerfile:
            try:
                self._inputs = parse_steps(self.dockerfile)
            except Exception:  # noqa: BLE001 - an unparsable Dockerfile: BuildKit says what is wrong
                self._inputs = []

    # -- what callers read ----------------------------------------------------------------------

    @property
    def inputs(self) -> list[StepInput]:
        """The Dockerfile's instructions, numbered as the classic builder numbers them."""
        return self._inputs

    @property
    def total(self) -> int:
        return len(self._inputs)

    @property
    def open_step(self) -> int | None:
        """The latest step started and not finished (for a cancel or a lost engine)."""
        running = [s for s in self.steps.values() if not s.finished]
        return max(running, key=lambda s: s.arrived).number if running else None

    # -- feeding --------------------------------------------------------------------------------

    def feed_status(self, status: SolveStatus, now: float) -> list[BuildEvent]:
        events: list[BuildEvent] = []
        for vertex in status.vertexes:
            events.extend(self._vertex(vertex, now))
        for log in status.logs:
            step = self._by_vertex.get(log.vertex)
            if step is not None:
                events.extend(self._output(step, log.data.decode("utf-8", "replace")))
        for warning in status.warnings:
            text = warning.short.strip()
            if text:
                events.append(EngineWarning(text))
        for vertex in status.vertexes:
            if vertex.name == CONTEXT_VERTEX:
                self._context_vertexes.add(vertex.digest)
        for progress in status.statuses:
            # buildx sends the context itself, and says how much went (.dockerignore goes first, apart)
            if progress.vertex in self._context_vertexes and progress.id.startswith("transferring"):
                # done: what went is the whole (and the last report gets through any throttle)
                total = progress.current if progress.completed else progress.total
                events.append(ContextProgress("sending", 0, progress.current, total))
        return events

    def fail(self, message: str, now: float, engine_lost: bool = False) -> list[BuildEvent]:
        """The build failed; the step is the one that failed, when known."""
        if self.failed:
            return []
        self.failed = True
        return [failure(_plain_message(message), engine_lost=engine_lost)]

    def finish(self, now: float) -> list[BuildEvent]:
        """The stream ended: a build without an image failed; one with it reports its last metadata steps."""
        events: list[BuildEvent] = []
        for step in self.steps.values():
            if step.partial:
                events.extend(self._output(step, "\n"))
        if self.failed:
            return events
        if self.image_id is None:
            events.extend(self.fail("The engine closed the build stream before the build finished.", now, engine_lost=True))
            return events
        for step in sorted(self.steps.values(), key=lambda s: s.number):
            events.extend(self._metadata_after(step.number))
        # A stage that starts FROM another and only sets config (`FROM base AS local` + CMD) runs
        # no step at all; it is still part of the image.
        for stage in sorted(needed_stages(self._inputs, self.target)):
            events.extend(self._stage_start(stage))
        return events

    # -- internals ------------------------------------------------------------------------------

    def _fail_internal(self, vertex: Vertex) -> list[BuildEvent]:
        """BuildKit's own work failed: resolving a base image names the FROM it was for."""
        self.failed = True
        base = _METADATA_FOR_RE.match(vertex.name)
        source = None
        if base is not None:
            wanted = _short_name(base.group(1))
            source = next(
                (s for s in self._inputs if s.keyword == "FROM" and s.base and _short_name(s.base) in (wanted, wanted + ":latest")),
                None,
            )
        if source is None and base is not None:
            source = next(
                (s for s in self._inputs if s.copy_from and _short_name(s.copy_from) in (wanted, wanted.rsplit(":", 1)[0])),
                None,
            )
        if source is None:
            return [failure(_plain_message(vertex.error or ""))]
        event = failure(_plain_message(vertex.error or ""), instruction=source.text)
        return [replace(event, line=event.line or source.line)]

    def _vertex(self, vertex: Vertex, now: float) -> list[BuildEvent]:
        events: list[BuildEvent] = []
        step = self._by_vertex.get(vertex.digest)
        if step is None:
            m = STEP_NAME_RE.match(vertex.name)
            if m is None:  # BuildKit's own work: loading the Dockerfile, the context, exporting
                if vertex.error and not self.failed:
                    events.extend(self._fail_internal(vertex))
                return events
            if vertex.started is None and not vertex.cached and (vertex.error is None or self.failed):
                return events  # planned, not started (or cancelled because another step failed)
            step = self._start(m, vertex, now)
            if step is None:
                return events  # another build's step: one BuildKit serves many builds at once
            self._by_vertex[vertex.digest] = step
            if step.number in self.steps and self.steps[step.number] is not step:
                step = self.steps[step.number]  # another vertex of the same step (seen in parallel builds)
                self._by_vertex[vertex.digest] = step
            else:
                events.extend(self._stage_start(step.stage))
                events.extend(self._shared_before(step))
                self.steps[step.number] = step
                events.append(
                    StepStarted(
                        step.number,
                        self.total or step.count,
                        step.instruction,
                        step.stage,
                        step.stage_name,
                        builder=self.builder,
                        label=step.label,
                        position=step.position,
                        stage_total=step.count,
                    )
                )
        if step.finished:
            return events
        if vertex.started is not None and step.started is None:
            step.started = vertex.started
        if vertex.cached and not step.cached:
            step.cached = True
            events.append(StepCached(step.number))
        elif (
            vertex.started is not None
            and vertex.completed is None
            and not vertex.cached
            and not step.running
            and step.instruction.split(None, 1)[:1] == ["RUN"]
        ):
            step.running = True  # BuildKit runs it in a container of its own, not one the engine lists
            events.append(StepRunning(step.number, ""))
        if vertex.error:
            if step.partial:
                events.extend(self._output(step, "\n"))
            step.finished = True
            if not self.failed:
                self.failed = True
                seconds = self._seconds(step, vertex, now)
                events.append(
                    failure(
                        _plain_message(vertex.error, step.instruction),
                        step=step.number,
                        instruction=step.instruction,
                        seconds=seconds,
                        output=tuple(step.said),
                    )
                )
            return events
        if vertex.completed is not None:
            if step.partial:
                events.extend(self._output(step, "\n"))
            step.finished = True
            keyword = step.instruction.split(None, 1)[0].upper() if step.instruction else ""
            # FROM takes the base image from the local store: nothing is built (as on the classic builder).
            cached = step.cached or keyword == "FROM"
            started = step.started if step.started is not None else vertex.started
            ran = (started, vertex.completed) if not cached and started is not None and vertex.completed is not None else None
            events.append(StepFinished(step.number, "", self._seconds(step, vertex, now), cached, ran=ran))
            if not self.failed:
                events.extend(self._metadata_after(step.number))
        return events

    def _shared_before(self, step: _Step) -> list[BuildEvent]:
        """Earlier steps of the stage that BuildKit never named: it runs an identical step once (two
        stages `FROM alpine:latest` share one vertex, named after one of them).  They are done."""
        events: list[BuildEvent] = []
        if step.number >= 1000:
            return events
        for position, earlier in enumerate(self._vertex_steps(step.stage)[: step.position - 1], start=1):
            if earlier.step in self.steps:
                continue
            label = f"[{step.label[1:].rsplit(' ', 1)[0] + ' ' if ' ' in step.label else ''}{position}/{step.count}]"
            self.steps[earlier.step] = _Step(
                earlier.step, label, earlier.text, earlier.stage, earlier.stage_name, position, step.count, step.arrived,
                cached=True, finished=True,
            )
            events.append(
                StepStarted(
                    earlier.step, self.total, earlier.text, earlier.stage, earlier.stage_name, builder=self.builder,
                    label=label, position=position, stage_total=step.count,
                )
            )
            events.append(StepFinished(earlier.step, "", 0.0, True))
            events.extend(self._metadata_after(earlier.step))
        return events

    def _seconds(self, step: _Step, vertex: Vertex, now: float) -> float:
        started = step.started if step.started is not None else vertex.started
        if started is not None and vertex.completed is not None:
            return round(max(0.0, vertex.completed - started), 3)
        return round(max(0.0, now - step.arrived), 3)

    def _start(self, m: re.Match[str], vertex: Vertex, now: float) -> _Step | None:
        """The step a vertex runs; None for a vertex of another build (one BuildKit serves every
        build of the engine, and its progress can carry their steps too: seen with concurrent
        builds on one engine, as in a workshop)."""
        label_stage = m.group("stage")
        position, count, text = int(m.group("pos")), int(m.group("count")), m.group("text").strip()
        label = f"[{label_stage + ' ' if label_stage else ''}{position}/{count}]"
        found = self._dockerfile_step(label_stage, position, count)
        if found is not None:
            if text.split(None, 1)[:1] != [found.keyword]:
                return None  # the same place in another Dockerfile
            return _Step(found.step, label, found.text, found.stage, found.stage_name, position, count, now)
        if self._inputs:
            return None
        # No Dockerfile was read: the steps are named in BuildKit's own words.
        number = self._fallback_next
        self._fallback_next += 1
        numbered = _STAGE_N_RE.match(label_stage) if label_stage else None
        stage = int(numbered.group(1)) if numbered else 0
        return _Step(number, label, text, stage, label_stage, position, count, now)

    def _stage_of(self, label_stage: str | None) -> int | None:
        stages = sorted({s.stage for s in self._inputs if s.stage >= 0})
        if not stages:
            return None
        if label_stage is None:
            return stages[-1] if len(stages) == 1 else None
        for s in self._inputs:
            if s.keyword == "FROM" and s.stage_name and s.stage_name.lower() == label_stage.lower():
                return s.stage
        m = _STAGE_N_RE.match(label_stage)
        if m and int(m.group(1)) in stages:
            return int(m.group(1))
        return None

    def _vertex_steps(self, stage: int) -> list[StepInput]:
        return vertex_steps(self._inputs, stage)

    def _stage_start(self, stage: int) -> list[BuildEvent]:
        """The ``FROM <earlier stage>`` that starts ``stage``, with the config after it: BuildKit runs
        nothing for it (the stage goes on from that stage's result), so it is reported like config."""
        start = next((s for s in self._inputs if s.stage == stage and s.keyword == "FROM"), None)
        if start is None or start.step in self._announced or from_stage(self._inputs, start) is None:
            return []
        self._announced.add(start.step)
        events: list[BuildEvent] = [
            StepStarted(start.step, self.total, start.text, start.stage, start.stage_name, builder=self.builder, metadata=True),
            StepFinished(start.step, "", 0.0, False, size=0, metadata=True),
        ]
        return events + self._metadata_after(start.step)

    def _dockerfile_step(self, label_stage: str | None, position: int, count: int) -> StepInput | None:
        stage = self._stage_of(label_stage)
        if stage is None:
            return None
        steps = self._vertex_steps(stage)
        if len(steps) != count or not 1 <= position <= count:
            return None
        return steps[position - 1]

    def _metadata_after(self, number: int) -> list[BuildEvent]:
        """The config-only instructions that follow step ``number`` in its stage, up to the next vertex."""
        events: list[BuildEvent] = []
        after = [s for s in self._inputs if s.step > number]
        stage = next((s.stage for s in self._inputs if s.step == number), None)
        if stage is None:
            return events
        for s in after:
            if s.stage != stage or s.keyword in VERTEX_KEYWORDS:
                break
            if s.step in self._announced:
                continue
            self._announced.add(s.step)
            events.append(StepStarted(s.step, self.total, s.text, s.stage, s.stage_name, builder=self.builder, metadata=True))
            events.append(StepFinished(s.step, "", 0.0, False, size=0, metadata=True))
        return events

    def _output(self, step: _Step, text: str) -> list[BuildEvent]:
        text = step.partial + text.replace("\r\n", "\n")
        cut = text.rfind("\n")
        if cut < 0:
            step.partial = text
            return []
        block, step.partial = text[:cut], text[cut + 1 :]
        lines = [line.rsplit("\r", 1)[-1] for line in block.split("\n")]
        shown = "\n".join(lines)
        plain = strip_ansi(shown) if "\x1b" in shown else shown
        step.said.extend(plain.split("\n")[-40:])
        return [StepOutput(step.number, shown, plain)]


class RawJsonParser(BuildKitParser):
    """buildx ``--progress=rawjson``: its JSON objects, and what the backend adds around them.

    Chunks: a SolveStatus object; ``{"kind": "text", "line": ...}`` for a line of stderr that
    is not JSON (buildx's own ``ERROR: ...``); ``{"kind": "metadata", "metadata": {...}}``, the
    ``--metadata-file`` after the build; ``{"kind": "exit", "code": N}``.
    """

    def feed(self, chunk: Any, now: float) -> list[BuildEvent]:
        if not isinstance(chunk, dict):
            return []
        kind = chunk.get("kind")
        if kind is None:
            return self.feed_status(from_rawjson(chunk), now)
        if kind == "text":
            line = str(chunk.get("line") or "").strip()
            if line.startswith("ERROR"):
                return self.fail(line, now)
            if line.startswith("WARNING"):
                return [EngineWarning(line)]
            return []
        if kind == "metadata":
            meta = chunk.get("metadata") or {}
            # The classic image store names an image by its config; the containerd store by its index or manifest.
            image = (meta.get("containerimage.config.digest") or meta.get("containerimage.digest")) if isinstance(meta, dict) else None
            if isinstance(image, str):
                self.image_id = image.split(":", 1)[-1]
                names = str(meta.get("image.name") or "")
                self.tags = [_short_name(n) for n in names.split(",") if n]
            return []
        if kind == "exit":
            code = chunk.get("code")
            if code not in (0, None) and not self.failed:
                return self.fail(f"docker buildx build stopped with exit code {code}.", now)
        return []


class TraceParser(BuildKitParser):
    """The engine API's ``POST /build?version=2``: its JSON messages, as decoded."""

    def feed(self, chunk: Any, now: float) -> list[BuildEvent]:
        if not isinstance(chunk, dict):
            return []
        events: list[BuildEvent] = []
        if chunk.get("id") == "moby.buildkit.trace":
            try:
                events.extend(self.feed_status(from_trace(chunk.get("aux")), now))
            except TraceError as exc:
                events.append(EngineWarning(f"Skipped {exc}."))
        elif chunk.get("id") == "moby.image.id" and isinstance(chunk.get("aux"), dict):
            image = chunk["aux"].get("ID")
            if isinstance(image, str):
                self.image_id = image.split(":", 1)[-1]
        message = engine_error(chunk)
        if message is not None:
            events.extend(self.fail(message, now))
        return events


def _short_name(name: str) -> str:
    """docker.io/library/alpine:latest -> alpine:latest, as `docker images` shows it."""
    for prefix in ("docker.io/library/", "docker.io/"):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name
