"""What both ways to BuildKit share: refusals, the event loop, cancelling, the ledger, the summary.

A subclass supplies ``_stream(out)`` (runs in a pump thread and puts ``("chunk", obj)`` items,
then ``("end", None)``), ``_stop()`` (cancel: kill the process or cut the connection) and a
parser.  Everything it puts is also handed to ``on_chunk`` with its arrival time: recordings.
"""

from __future__ import annotations

import queue
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

from tutor.engine import labels as tl
from tutor.engine import layers, ledger
from tutor.engine.admission import admit
from tutor.engine.buildkit.parser import BuildKitParser
from tutor.engine.buildkit.sizes import step_sizes
from tutor.engine.buildlog import target_stage
from tutor.engine.classic import located
from tutor.engine.client import diagnose, engine_url, forget_thread_client, new_client
from tutor.engine.context import ContextError
from tutor.engine.events import BuildEvent, BuildFailed, BuildSucceeded, ContextProgress, ContextSent, StepSized
from tutor.engine.image_size import store_sizes
from tutor.engine.never_ends import NeverEndsWatch

TICK = 1.0  # seconds: how often a silent build is looked at
PROGRESS_EVERY = 0.1  # seconds between two context progress events
# How buildx says its connection to the engine broke (the engine may have gone, or only hiccuped).
_CONNECTION_LOST = re.compile(
    r"rpc error: code = Unavailable|error reading from server|connection reset|broken pipe|"
    r"connection refused|Cannot connect to the Docker daemon|\bEOF\b",
    re.IGNORECASE,
)


class Cancelled(Exception):
    pass


class BuildKitBuild:
    """One BuildKit build.  Iterate ``events()`` in a worker; ``cancel()`` from any thread."""

    via = "buildkit"  # "buildx" | "api"

    def __init__(
        self,
        request,  # tutor.engine.build.BuildRequest
        clock: Callable[[], float] = time.monotonic,
        on_chunk: Callable[[float, object], None] | None = None,
    ) -> None:
        self.request = request
        self._clock = clock
        self._on_chunk = on_chunk
        self._cancelled = threading.Event()
        self.dockerfile_text: str | None = None

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def cancel(self) -> None:
        self._cancelled.set()
        self._stop()

    # -- for subclasses ---------------------------------------------------------------------------

    def _parser(self) -> BuildKitParser:
        raise NotImplementedError

    def _stream(self, context: Path, dockerfile: Path, out: queue.Queue) -> None:
        raise NotImplementedError

    def _stop(self) -> None:
        raise NotImplementedError

    # -- the loop ---------------------------------------------------------------------------------

    def events(self) -> Iterator[BuildEvent]:
        started = self._clock()
        req = self.request
        admitted = admit(req)
        if isinstance(admitted, BuildFailed):
            yield admitted
            return
        context, dockerfile, warm = admitted.context, admitted.dockerfile, admitted.api
        try:
            raw = dockerfile.read_bytes()
        except OSError:
            raw = b""
        binary = binary_line(raw)
        if binary is not None:  # BuildKit's parser breaks on it with an internal error
            yield BuildFailed(
                f"unknown instruction on line {binary}: the Dockerfile holds binary bytes there, not text.",
                line=binary,
                fix="A Dockerfile is a text file of instructions (FROM, RUN, COPY...): check that -f names the "
                "Dockerfile and not another file.",
            )
            return
        self.dockerfile_text = raw.decode("utf-8", "replace") if raw else None
        parser = self._parser()
        out: queue.Queue[tuple[str, object]] = queue.Queue()
        pump = threading.Thread(target=self._pump, args=(context, dockerfile, out), daemon=True)
        pump.start()
        watch = NeverEndsWatch()
        sent: ContextSent | None = None  # what the context holds, for the progress of sending it
        last_progress = 0.0
        try:
            while True:
                try:
                    kind, value = out.get(timeout=TICK)
                except queue.Empty:
                    yield from watch.tick(self._clock())
                    continue
                now = self._clock()
                if kind == "chunk":
                    if self._on_chunk is not None:
                        self._on_chunk(now, value)
                    if self.cancelled:
                        raise Cancelled()
                    for event in parser.feed(value, now):  # type: ignore[attr-defined]  # the parser is chosen by the source
                        if isinstance(event, ContextProgress):
                            if now - last_progress < PROGRESS_EVERY and event.bytes != event.total_bytes:
                                continue  # buildx reports every few kilobytes: a screen needs ten a second
                            last_progress = now
                            event = replace(event, files=sent.files if sent else 0)
                        if isinstance(event, BuildFailed):
                            event = self._engine_lost(event, parser.open_step) or located(event, dockerfile)
                        yield event
                        yield from watch.feed(event, now)
                elif kind == "event":
                    if isinstance(value, ContextSent):
                        sent = value
                    if isinstance(value, ContextProgress):
                        if now - last_progress < PROGRESS_EVERY and value.bytes != value.total_bytes:
                            continue
                        last_progress = now
                    yield value  # type: ignore[misc]  # a build event, by its kind
                elif kind == "error":
                    raise value  # type: ignore[misc]  # an exception the reader caught, by its kind
                elif kind == "end":
                    break
            if self.cancelled:
                raise Cancelled()
            for event in parser.finish(self._clock()):
                if isinstance(event, BuildFailed):
                    event = self._engine_lost(event, parser.open_step) or event
                yield event
        except GeneratorExit:
            self.cancel()
            raise
        except Cancelled:
            yield BuildFailed("Build cancelled.", step=parser.open_step, cancelled=True)
            return
        except ContextError as exc:
            yield BuildFailed(str(exc))
            return
        except BuildFailedError as exc:
            yield exc.event
            return
        except Exception as exc:  # noqa: BLE001 - the connection broke: the engine went away
            if self.cancelled:
                yield BuildFailed("Build cancelled.", step=parser.open_step, cancelled=True)
                return
            forget_thread_client(req.engine)
            problem = diagnose(engine_url(req.engine), exc)
            yield BuildFailed(
                f"Lost the connection to the Docker engine during the build. {problem.reason}",
                step=parser.open_step,
                engine_lost=True,
                fix=problem.fix,
            )
            return
        finally:
            self._stop()
            pump.join(timeout=5)
            seat = req.labels.get(tl.SEAT)
            if seat and parser.image_id:
                ledger.record(seat, [parser.image_id])
        if parser.failed or parser.image_id is None:
            return
        image = parser.image_id[:12]
        yield from _sizes(warm, image, parser)
        yield BuildSucceeded(
            image_id=image,
            tags=tuple(parser.tags) or ((req.tag,) if req.tag else ()),
            image_size=layers.image_size(warm, image),
            seconds=round(self._clock() - started, 3),
            store_sizes=store_sizes(warm, image),
        )

    def _engine_lost(self, failure: BuildFailed, step: int | None) -> BuildFailed | None:
        """The engine's failure when the engine itself went away (buildx only says its stream
        broke): reported as the engine's fault, with the fix, like a broken connection."""
        if failure.cancelled or self.cancelled or not _CONNECTION_LOST.search(failure.message):
            return None
        url = engine_url(self.request.engine)
        forget_thread_client(self.request.engine)
        try:
            new_client(url, timeout=3).close()  # "auto" asks the engine its version: it must answer
        except Exception as exc:  # noqa: BLE001 - any failure to answer: the engine is gone
            problem = diagnose(url, exc)
            return BuildFailed(
                f"Lost the connection to the Docker engine during the build. {problem.reason}",
                step=step if step is not None else failure.step,
                engine_lost=True,
                fix=problem.fix,
            )
        return None

    def _pump(self, context: Path, dockerfile: Path, out: queue.Queue) -> None:
        try:
            self._stream(context, dockerfile, out)
            out.put(("end", None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which decides
            out.put(("error", Cancelled() if self.cancelled else exc))


_BINARY_RE = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")


def binary_line(raw: bytes) -> int | None:
    """The first line (1-based) holding bytes no text file has, or None."""
    found = _BINARY_RE.search(raw)
    return raw.count(b"\n", 0, found.start()) + 1 if found else None


def _sizes(api, image: str, parser: BuildKitParser) -> list[StepSized]:
    """The final stage's layer sizes, from the image's history (BuildKit keeps no per-step images)."""
    built = [s for s in parser.inputs if s.step in parser.steps]
    if not built:
        return []
    try:
        history = api.history(image)
    except Exception:  # noqa: BLE001 - a size is not worth a failure
        return []
    stage = target_stage(parser.inputs, parser.target)
    if stage is None:
        return []
    return [StepSized(step, size) for step, size in sorted(step_sizes(history, parser.inputs, stage).items())]


class BuildFailedError(Exception):
    """A backend could not start the build: the event says why."""

    def __init__(self, event: BuildFailed) -> None:
        super().__init__(event.message)
        self.event = event
