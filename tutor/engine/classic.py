"""The classic builder (``DOCKER_BUILDKIT=0``): the engine's ``POST /build`` streamed as JSON.

Its specifics stay here: ``Step N/M`` parsing (``engine/stream.py``), the hidden ``LABEL`` steps
the build labels add, per-step image ids and layer sizes, step containers in the ledger.
"""

from __future__ import annotations

import dataclasses
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
from docker.errors import APIError, DockerException

from tutor.engine import labels as tl
from tutor.engine import layers, ledger
from tutor.engine.admission import admit
from tutor.engine.build import PROGRESS_EVERY, TICK, BuildCancelled, BuildRequest
from tutor.engine.client import (
    diagnose,
    engine_url,
    forget_thread_client,
    new_client,
)
from tutor.engine.context import ContextError, ProgressReader, pack
from tutor.engine.dockerfile import heredoc_line, long_line
from tutor.engine.events import (
    BuildEvent,
    BuildFailed,
    BuildSucceeded,
    ContextProgress,
    ContextSent,
    StepFinished,
)
from tutor.engine.image_size import store_sizes
from tutor.engine.never_ends import NeverEndsWatch
from tutor.engine.stream import StreamParser, failure


class StreamingClient(docker.APIClient):
    """Remembers the response of the streaming build, so that cancel() can cut it.

    Closing the client is not enough: a connection in use is not closed, and a
    step that prints nothing (a long `RUN go build`) would keep the build alive.
    """

    stream_response = None

    def _post(self, url, **kwargs):  # type: ignore[override]  # docker-py declares it with named params
        response = super()._post(url, **kwargs)
        if kwargs.get("stream"):
            self.stream_response = response
        return response

    def cut_stream(self) -> None:
        response = self.stream_response
        if response is None:
            return
        try:
            sock = self._get_raw_response_socket(response)
            sock = getattr(sock, "_sock", sock)
            sock.shutdown(socket.SHUT_RDWR)
        except Exception:  # noqa: BLE001 - already closed: nothing left to cut
            pass
        try:
            response.close()
        except Exception:  # noqa: BLE001
            pass


class ClassicBuild:
    """One classic build.  Iterate ``events()`` in a worker; ``cancel()`` from any thread.

    Each build has its own HTTP client so that cancelling can close its
    connection (the engine then stops the build and removes its containers)
    without disturbing other builds.
    """

    def __init__(
        self,
        request: BuildRequest,
        clock: Callable[[], float] = time.monotonic,
        on_chunk: Callable[[float, object], None] | None = None,
    ) -> None:
        self.request = request
        self._on_chunk = on_chunk  # sees every raw chunk: used to record streams
        self._clock = clock
        self._cancelled = threading.Event()
        self._api: StreamingClient | None = None
        self._lock = threading.Lock()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def cancel(self) -> None:
        self._cancelled.set()
        with self._lock:
            api = self._api
        if api is not None:
            api.cut_stream()  # the engine sees the client go, stops the build and removes its container

    def events(self) -> Iterator[BuildEvent]:
        started = self._clock()
        req = self.request
        admitted = admit(req, _classic_cannot_build)
        if isinstance(admitted, BuildFailed):
            yield admitted
            return
        context, dockerfile, warm = admitted.context, admitted.dockerfile, admitted.api
        api = new_client(engine_url(req.engine), version=warm.api_version, timeout=None, cls=StreamingClient)
        with self._lock:
            self._api = api
        # Packing and sending a big context, and waiting on a silent step, all block:
        # a pump thread does the blocking work, this generator only reads its queue.
        queue_: queue.Queue[tuple[str, object]] = queue.Queue()
        pump = threading.Thread(target=self._pump, args=(api, context, dockerfile, queue_), daemon=True)
        pump.start()
        parser = StreamParser(labels=dict(req.labels))
        watch = NeverEndsWatch()
        last_progress = 0.0
        try:
            while True:
                try:
                    kind, value = queue_.get(timeout=TICK)
                except queue.Empty:  # a silent step: is it a server that will never end?
                    yield from watch.tick(self._clock())
                    continue
                if kind == "chunk":
                    now = self._clock()
                    if self._on_chunk is not None:
                        self._on_chunk(now, value)
                    for event in parser.feed(value, now):
                        if isinstance(event, StepFinished):
                            event = layers.with_size(warm, event, parser)
                        yield event
                        yield from watch.feed(event, now)
                    if self.cancelled:
                        raise BuildCancelled()
                elif kind == "progress":
                    now = self._clock()
                    if now - last_progress >= PROGRESS_EVERY or value.phase == "sending" and value.bytes == value.total_bytes:  # type: ignore[attr-defined]  # the pump queues (kind, value): kind says the type
                        last_progress = now
                        yield value  # type: ignore[misc]  # a ContextProgress, by its kind
                elif kind == "packed":
                    yield value  # type: ignore[misc]  # a ContextSent, by its kind
                elif kind == "error":
                    raise value  # type: ignore[misc]  # an exception the pump caught, by its kind
                elif kind == "end":
                    break
            tail = parser.finish(self._clock())
            if self.cancelled:
                raise BuildCancelled()
            yield from tail
        except GeneratorExit:
            self.cancel()  # the consumer went away: stop the engine's work too
            raise
        except BuildCancelled:
            yield BuildFailed("Build cancelled.", step=parser.step.number if parser.step else None, cancelled=True)
            return
        except ContextError as exc:
            yield BuildFailed(str(exc))
            return
        except APIError as exc:  # refused before streaming, e.g. a Dockerfile parse error
            if self._on_chunk is not None:
                self._on_chunk(self._clock(), {"kind": "api_error", "message": api_message(exc)})
            yield located(failure(api_message(exc)), dockerfile)
            return
        except DockerException as exc:  # e.g. an invalid tag, refused before sending
            yield BuildFailed(str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - the connection broke: the engine went away
            if self.cancelled:
                yield BuildFailed("Build cancelled.", step=parser.step.number if parser.step else None, cancelled=True)
                return
            forget_thread_client(req.engine)
            problem = diagnose(engine_url(req.engine), exc)
            yield BuildFailed(
                f"Lost the connection to the Docker engine during the build. {problem.reason}",
                step=parser.step.number if parser.step else None,
                engine_lost=True,
                fix=problem.fix,
            )
            return
        finally:
            pump.join(timeout=5)
            with self._lock:
                self._api = None
            api.close()
            seat = req.labels.get(tl.SEAT)
            if seat:
                ledger.record(seat, [*parser.produced, parser.image_id or ""])
                ledger.record_containers(seat, parser.containers)  # step containers an engine crash leaves
        if parser.failed or parser.image_id is None:
            return
        image_size = layers.image_size(warm, parser.image_id)
        yield BuildSucceeded(
            image_id=parser.image_id[:12],
            tags=tuple(parser.tags),
            image_size=image_size,
            seconds=round(self._clock() - started, 3),
            store_sizes=store_sizes(warm, parser.image_id[:12]),
        )

    def _pump(self, api: StreamingClient, context: Path, dockerfile: Path, out: queue.Queue) -> None:
        """Pack, send, and read the engine's stream; everything goes to ``out`` in order."""
        packed = None
        try:

            def on_file(count: int, _path: str) -> None:
                if self.cancelled:
                    raise BuildCancelled()
                if count % 200 == 0:
                    out.put(("progress", ContextProgress("packing", count, 0)))

            packed = pack(context, dockerfile, on_file=on_file)
            out.put(("packed", ContextSent(packed.files, packed.bytes)))
            if self.cancelled:
                raise BuildCancelled()

            def on_read(sent: int) -> None:
                if self.cancelled:
                    raise BuildCancelled()
                out.put(("progress", ContextProgress("sending", packed.files, sent, packed.bytes)))

            req = self.request
            stream = api.build(
                fileobj=ProgressReader(packed.archive, packed.bytes, on_read),
                custom_context=True,
                dockerfile=packed.dockerfile,
                tag=req.tag,
                nocache=req.nocache,
                rm=True,
                forcerm=True,
                decode=True,
                labels=dict(req.labels) or None,
                target=req.target,
            )
            for chunk in stream:
                out.put(("chunk", chunk))
                if self.cancelled:
                    raise BuildCancelled()
            out.put(("end", None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which decides
            if self.cancelled and not isinstance(exc, BuildCancelled):
                exc = BuildCancelled()
            out.put(("error", exc))
        finally:
            if packed is not None:
                packed.close()


def _classic_cannot_build(dockerfile: Path) -> BuildFailed | None:
    """A Dockerfile the classic builder would get wrong, refused before anything is sent."""
    try:
        text = dockerfile.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None  # packing the context reports an unreadable Dockerfile with its path
    line = heredoc_line(text)
    if line is None:
        return None
    return BuildFailed(
        "this Dockerfile opens a heredoc (<<EOF). The classic builder cannot build heredocs: Docker 23 and "
        "later accept the line, silently drop the lines of the heredoc and report success with nothing run.",
        line=line,
        fix="Heredocs are BuildKit syntax: build this Dockerfile with BuildKit (`docker build` on Docker 23 "
        "or later), or write the commands on one RUN line joined with && (continue long lines with \\).",
    )


def located(event: BuildFailed, dockerfile: Path) -> BuildFailed:
    """The failure with the Dockerfile line, when the engine refused a line without naming it."""
    if event.line is not None or "line greater than max allowed size" not in event.message:
        return event
    try:
        text = dockerfile.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return event
    return dataclasses.replace(event, line=long_line(text))


def api_message(exc: APIError) -> str:
    explanation = exc.explanation
    if isinstance(explanation, bytes):
        explanation = explanation.decode("utf-8", "replace")
    return str(explanation or exc).strip()
