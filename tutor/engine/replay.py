"""Replay a build stream recorded from a real engine, through the same parser.

Used by UI tests and demos: the events are exactly those the engine produced,
with the recorded timing (scaled by ``speed``; 0 replays at once).

A recording is JSON lines: a ``meta`` object, then ``{"t": seconds, "chunk": {...}}``
for every decoded chunk, then a ``sizes`` object (the size the live build reported for each step's
image id, and the final image size).
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tutor.engine.events import BuildEvent, BuildFailed, BuildSucceeded, ContextSent, StepFinished, StepSized
from tutor.engine.never_ends import NeverEndsWatch
from tutor.engine.stream import StreamParser, failure


@dataclass(frozen=True)
class Recording:
    meta: dict[str, Any]
    chunks: list[tuple[float, Any]]
    layer_sizes: dict[str, int]
    image_size: int | None
    step_sizes: dict[int, int] = dataclasses.field(default_factory=dict)  # BuildKit: from the image's history

    @classmethod
    def load(cls, path: Path) -> Recording:
        opener = gzip.open if str(path).endswith(".gz") else open
        meta: dict[str, Any] = {}
        chunks: list[tuple[float, Any]] = []
        sizes: dict[str, int] = {}
        image_size = None
        step_sizes: dict[int, int] = {}
        with opener(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    continue
                obj = json.loads(line)
                kind = obj.get("kind")
                if kind == "meta":
                    meta = obj
                elif kind == "sizes":
                    sizes = {k[:12]: int(v) for k, v in obj.get("layers", {}).items()}
                    image_size = obj.get("image")
                    step_sizes = {int(k): int(v) for k, v in (obj.get("steps") or {}).items()}
                else:
                    chunks.append((float(obj["t"]), obj["chunk"]))
        return cls(meta, chunks, sizes, image_size, step_sizes)


class ReplayBuild:
    """Same surface as ``tutor.engine.build.Build``: ``events()`` and ``cancel()``."""

    def __init__(self, recording: Recording | Path, speed: float = 0.0) -> None:
        self.recording = recording if isinstance(recording, Recording) else Recording.load(recording)
        self.speed = speed
        self._cancelled = threading.Event()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def cancel(self) -> None:
        self._cancelled.set()

    def events(self) -> Iterator[BuildEvent]:
        rec = self.recording
        parser = parser_for(rec.meta)
        ctx = rec.meta.get("context") or {}
        yield ContextSent(int(ctx.get("files", 0)), int(ctx.get("bytes", 0)))
        t_prev = 0.0
        last_t = 0.0
        watch = NeverEndsWatch()
        for t, chunk in rec.chunks:
            if self.speed > 0 and t > t_prev:
                self._cancelled.wait((t - t_prev) / self.speed)
            t_prev = t
            last_t = t
            if self.cancelled:
                yield BuildFailed("Build cancelled.", step=open_step(parser), cancelled=True)
                return
            if isinstance(chunk, dict) and chunk.get("kind") == "api_error":
                yield failure(str(chunk.get("message", "")))
                return
            yield from watch.tick(t)  # the silence before this chunk, as it was recorded
            for event in parser.feed(chunk, t):
                if isinstance(event, BuildFailed) and self.cancelled_in_recording:
                    # The engine's last words on a cancelled build: the build was cancelled.
                    yield BuildFailed("Build cancelled.", step=event.step or open_step(parser), cancelled=True)
                    return
                if isinstance(event, StepFinished) and event.image_id:
                    event = dataclasses.replace(event, size=rec.layer_sizes.get(event.image_id[:12]))
                yield event
                yield from watch.feed(event, t)
        if self.cancelled_in_recording:
            yield BuildFailed("Build cancelled.", step=open_step(parser), cancelled=True)
            return
        yield from parser.finish(last_t)
        if not parser.failed and parser.image_id is not None:
            tags = tuple(parser.tags) or ((rec.meta["tag"],) if rec.meta.get("tag") else ())
            for step, size in sorted(rec.step_sizes.items()):
                yield StepSized(step, size)
            yield BuildSucceeded(parser.image_id[:12], tags, rec.image_size, round(last_t, 3))

    @property
    def cancelled_in_recording(self) -> bool:
        """A recording of a build that was cancelled ends as that build did."""
        return bool(self.recording.meta.get("cancelled"))


def parser_for(meta: dict[str, Any]) -> Any:
    """The parser of the stream a recording holds: the classic builder's, or BuildKit's (buildx or API)."""
    if meta.get("builder") == "buildkit":
        from tutor.engine.buildkit.parser import RawJsonParser, TraceParser

        cls = RawJsonParser if meta.get("via") == "buildx" else TraceParser
        return cls(dockerfile=meta.get("dockerfile"), target=meta.get("target"))
    return StreamParser(labels=meta.get("labels") or {})


def open_step(parser: Any) -> int | None:
    """The step running when the stream stopped, on either parser."""
    if isinstance(parser, StreamParser):
        return parser.step.number if parser.step else None
    return parser.open_step
