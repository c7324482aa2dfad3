"""Parse the classic builder's JSON stream into typed build events.

Pure: no engine, no clock.  The caller feeds each decoded chunk with the time it
arrived, so recorded streams replay to the very same events.

What the stream looks like (docker 20.10, ``APIClient.build(decode=True)``)::

    {"stream": "Step 3/9 : WORKDIR /app"}      the newline often comes in a chunk of its own
    {"stream": "\\n"}
    {"stream": " ---> Using cache\\n"}
    {"stream": " ---> Running in 4f1c2a\\n"}     a temporary container runs the step
    {"stream": "...output of RUN...\\n"}
    {"stream": " ---> 9b0e77a1c2d3\\n"}          the image this step produced
    {"aux": {"ID": "sha256:..."}}
    {"stream": "Successfully built 9b0e77a1c2d3\\n"}
    {"errorDetail": {"message": "..."}, "error": "..."}   failures arrive in-band
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tutor.engine.events import (
    BuildEvent,
    BuildFailed,
    EngineWarning,
    PullProgress,
    StepCached,
    StepFinished,
    StepOutput,
    StepRunning,
    StepStarted,
)
from tutor.engine.failures import advise

ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
STEP_RE = re.compile(r"^Step (\d+)/(\d+) : (.*)$")
RESULT_RE = re.compile(r"^ ---> ([0-9a-f]{12,64})?\s*$")  # `FROM scratch` ends with an empty id
USING_CACHE_RE = re.compile(r"^ ---> Using cache\s*$")
RUNNING_RE = re.compile(r"^ ---> Running in ([0-9a-f]{12,64})\s*$")
# 20.10 says "Removing intermediate container ID", 23 and later " ---> Removed intermediate container ID".
REMOVING_RE = re.compile(r"^(?: ---> )?Remov(?:ing|ed) intermediate container [0-9a-f]+\s*$")
BUILT_RE = re.compile(r"^Successfully built ([0-9a-f]{12,64})\s*$")
TAGGED_RE = re.compile(r"^Successfully tagged (\S+)\s*$")
FROM_AS_RE = re.compile(r"^FROM\s+(?:--\S+\s+)*\S+(?:\s+AS\s+(\S+))?\s*$", re.IGNORECASE)
LINE_RE = re.compile(r"\bline (\d+)\b")
# Control characters (a binary file's bytes, quoted by the engine) are shown escaped, never sent to a terminal.
_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# A line that may be the builder's own (or a warning): anything else in a step is output.
_BUILDER_LINE_RE = re.compile(r"(?:^|\n)(?: ---> |Step |Remov(?:ing|ed) intermediate container |Successfully |\[WARNING\])")
# Messages of the builder itself start a line even when the previous output did not end one.
_BUILDER_PREFIXES = (" ---> ", "Step ", "Removing intermediate container ", "Removed intermediate container ", "Successfully ")


def strip_ansi(text: str) -> str:
    return ANSI_RE.sub("", text)


def _display_line(line: str) -> str:
    """A line as a terminal would leave it: after a carriage return, only the last redraw shows."""
    line = line.rstrip("\r")
    if "\r" in line:
        line = line.rsplit("\r", 1)[-1]
    return line


def failure(
    message: str,
    step: int | None = None,
    instruction: str | None = None,
    engine_lost: bool = False,
    seconds: float | None = None,
    output: tuple[str, ...] = (),
) -> BuildFailed:
    """A BuildFailed with the Dockerfile line the engine named, and advice when there is some."""
    message = _CONTROL_RE.sub(lambda m: f"\\x{ord(m.group()):02x}", strip_ansi(message).strip())
    line_match = LINE_RE.search(message)
    return BuildFailed(
        message=message,
        step=step,
        line=int(line_match.group(1)) if line_match else None,
        engine_lost=engine_lost,
        seconds=seconds,
        fix=advise(message, instruction, output),
    )


@dataclass
class _OpenStep:
    number: int
    started: float
    instruction: str = ""
    cached: bool = False
    hidden: bool = False


def _label_instructions(labels: Mapping[str, str]) -> set[str]:
    return {f"LABEL {key}={value}" for key, value in labels.items()}


@dataclass
class StreamParser:
    """Feed chunks in arrival order; collect events.  One parser per build.

    ``labels`` are the labels passed to the build: the classic builder appends
    one ``LABEL k=v`` step per label to the Dockerfile.  Those steps are the
    tutor's bookkeeping, not the learner's, so they are hidden and ``total``
    counts only the Dockerfile's own steps.
    """

    labels: Mapping[str, str] = field(default_factory=dict)
    step: _OpenStep | None = None
    stage: int = -1
    stage_name: str | None = None
    image_id: str | None = None
    tags: list[str] = field(default_factory=list)
    from_steps: set[int] = field(default_factory=set)
    failed: bool = False
    _buffer: str = ""
    _last_error: str | None = None
    # The image ids this build made (hidden steps too); a cache hit's image was made by an earlier
    # build, perhaps not the tutor's, and is not this build's to remove.
    produced: list[str] = field(default_factory=list)
    _said: deque[str] = field(default_factory=lambda: deque(maxlen=40))  # the open step's last output lines
    containers: list[str] = field(default_factory=list)  # every step's "Running in" container id

    def feed(self, chunk: Any, now: float) -> list[BuildEvent]:
        events = self._feed(chunk, now)
        for event in events:  # the open step's last words, for the advice of a failure to come
            if isinstance(event, StepStarted):
                self._said.clear()
            elif isinstance(event, StepOutput):
                self._said.extend(event.plain.splitlines()[-40:])
        return events

    def _feed(self, chunk: Any, now: float) -> list[BuildEvent]:
        if not isinstance(chunk, dict):
            return []  # not a JSON object: nothing the builder documents; ignore it
        events: list[BuildEvent] = []
        if "stream" in chunk and isinstance(chunk["stream"], str):
            events.extend(self._feed_text(chunk["stream"], now))
        if "aux" in chunk and isinstance(chunk["aux"], dict):
            aux_id = chunk["aux"].get("ID")
            if isinstance(aux_id, str):
                self.image_id = aux_id.split(":", 1)[-1]
        if "status" in chunk and isinstance(chunk["status"], str):
            if self.step:  # the base image had to be pulled: not from the local store
                self.step.cached = False
            detail = chunk.get("progressDetail") or {}
            events.append(
                PullProgress(
                    status=chunk["status"],
                    layer=chunk.get("id"),
                    current=detail.get("current") if isinstance(detail, dict) else None,
                    total=detail.get("total") if isinstance(detail, dict) else None,
                )
            )
        message = engine_error(chunk)
        if message is not None:
            events.extend(self._fail(message, now))
        return events

    def finish(self, now: float) -> list[BuildEvent]:
        """The stream ended: flush a last partial line; a build with no result failed."""
        events = self._flush(now)
        if not self.failed and self.image_id is None:
            events.extend(
                self._fail("The engine closed the build stream before the build finished.", now, engine_lost=True)
            )
        return events

    def stage_step_is_from(self, step: int) -> bool:
        return step in self.from_steps

    # -- internals -------------------------------------------------------------------------

    def _fail(self, message: str, now: float, engine_lost: bool = False) -> list[BuildEvent]:
        if self.failed:
            return []  # errorDetail and error repeat one message
        events = self._flush(now)
        self.failed = True
        self._last_error = message
        open_step = self.step if self.step and not self.step.hidden else None
        self.step = None
        events.append(
            failure(
                message,
                step=open_step.number if open_step else None,
                instruction=open_step.instruction if open_step else None,
                engine_lost=engine_lost,
                seconds=round(now - open_step.started, 3) if open_step else None,
                output=tuple(self._said) if open_step else (),
            )
        )
        return events

    def _feed_text(self, text: str, now: float) -> list[BuildEvent]:
        events: list[BuildEvent] = []
        if self._buffer and text.startswith(_BUILDER_PREFIXES):
            events.extend(self._flush(now))
        self._buffer += text
        cut = self._buffer.rfind("\n")
        if cut < 0:
            return events
        block, self._buffer = self._buffer[:cut], self._buffer[cut + 1 :]
        step = self.step
        if (
            step is not None
            and not step.hidden
            and "\x1b" not in block
            and "\r" not in block
            and not _BUILDER_LINE_RE.search(block)
        ):
            # A noisy step's chunk of plain output: one event, not one pass per line.
            events.append(StepOutput(step.number, block, block))
        else:
            events.extend(self._lines(block.split("\n"), now))
        return events

    def _flush(self, now: float) -> list[BuildEvent]:
        if not self._buffer:
            return []
        line, self._buffer = self._buffer, ""
        return self._lines([line], now)

    def _lines(self, lines: list[str], now: float) -> list[BuildEvent]:
        """Events of complete lines; consecutive output lines become ONE StepOutput.

        A noisy step sends thousands of lines per chunk: one event per chunk keeps
        every consumer (the UI above all) from paying per line.
        """
        events: list[BuildEvent] = []
        texts: list[str] = []
        plains: list[str] = []
        prefixes = (*_BUILDER_PREFIXES, "[WARNING]")
        for raw in lines:
            # The common case of a noisy step, without regexes: a plain line of output.
            if (
                self.step is not None
                and raw
                and not raw.isspace()
                and "\r" not in raw
                and "\x1b" not in raw
                and not raw.startswith(prefixes)
            ):
                texts.append(raw)
                plains.append(raw)
                continue
            result = self._line(raw, now)
            if type(result) is tuple:
                texts.append(result[0])
                plains.append(result[1])
                continue
            if texts:
                events.append(self._output(texts, plains))
                texts, plains = [], []
            events.extend(result)  # type: ignore[arg-type]  # a line that is not output gives events
        if texts:
            events.append(self._output(texts, plains))
        return events

    def _output(self, texts: list[str], plains: list[str]) -> StepOutput:
        text = "\n".join(texts)
        plain = text if texts == plains else "\n".join(plains)
        return StepOutput(self.step.number if self.step else None, text, plain)

    def _line(self, raw: str, now: float) -> list[BuildEvent] | tuple[str, str]:
        """The events of a builder line, or ``(text, plain)`` for a line of output."""
        text = _display_line(raw)
        plain = strip_ansi(text) if "\x1b" in text else text
        if plain.startswith(_BUILDER_PREFIXES):  # the builder's own lines; a step's output skips the regexes
            events = self._builder_line(plain, now)
            if events is not None:
                return events
        if not plain.strip() and (not self.step or raw.strip()):
            return []  # outside a step, or only colour codes (a reset after the newline)
        if plain.startswith("[WARNING]") or plain.startswith(" ---> [Warning]"):
            return [EngineWarning(plain.replace(" ---> ", "", 1).strip())]
        return text, plain

    def _builder_line(self, plain: str, now: float) -> list[BuildEvent] | None:
        """Events of a line in the builder's own words, or None when it is output after all."""
        m = STEP_RE.match(plain)
        if m:
            return self._start_step(int(m.group(1)), int(m.group(2)), m.group(3).strip(), now)
        if USING_CACHE_RE.match(plain) and self.step:
            self.step.cached = True
            return [] if self.step.hidden else [StepCached(self.step.number)]
        m = RUNNING_RE.match(plain)
        if m and self.step:
            self.containers.append(m.group(1))
            return [] if self.step.hidden else [StepRunning(self.step.number, m.group(1))]
        m = RESULT_RE.match(plain)
        if m and self.step:
            done = self.step
            self.step = None
            if m.group(1) and not done.cached:
                self.produced.append(m.group(1))
            if done.hidden:
                return []
            # FROM takes the base image from the local store: nothing is rebuilt.
            return [StepFinished(done.number, m.group(1) or "", round(now - done.started, 3), done.cached)]
        if REMOVING_RE.match(plain):
            return []
        m = BUILT_RE.match(plain)
        if m:
            self.image_id = self.image_id or m.group(1)
            return []
        m = TAGGED_RE.match(plain)
        if m:
            self.tags.append(m.group(1))
            return []
        return None

    def _start_step(self, number: int, total: int, instruction: str, now: float) -> list[BuildEvent]:
        events: list[BuildEvent] = []
        if self.labels and number > total - len(self.labels) and instruction in _label_instructions(self.labels):
            self.step = _OpenStep(number, now, instruction, hidden=True)
            return events
        total -= len(self.labels)
        m = FROM_AS_RE.match(instruction)
        if m:
            self.stage += 1
            self.stage_name = m.group(1)
            self.from_steps.add(number)
        if self.stage < 0:  # ARG before the first FROM
            self.stage = 0
        self.step = _OpenStep(number, now, instruction, cached=bool(m))
        events.append(StepStarted(number, total, instruction, self.stage, self.stage_name))
        return events


def engine_error(chunk: dict) -> str | None:
    """The engine's error in a decoded build-stream chunk (`errorDetail`, else `error`), if any:
    both builders' streams end a failed build this way."""
    detail = chunk.get("errorDetail")
    if isinstance(detail, dict) and detail.get("message"):
        return str(detail["message"])
    error = chunk.get("error")
    return error if isinstance(error, str) else None
