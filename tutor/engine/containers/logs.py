"""``docker logs [-f]``: a container's output as an iterator of lines, closable from any thread."""

from __future__ import annotations

import codecs
import threading
from collections.abc import Iterator
from typing import Literal

import docker
from docker.errors import NotFound

from tutor.engine.containers.actions import _engine_errors
from tutor.engine.containers.cli import cli_line
from tutor.engine.containers.model import ContainerMissing


class LogStream(Iterator[str]):
    """The container's output, one decoded line at a time.

    With ``follow`` it ends when the container stops; ``close()`` (from any
    thread) ends it early by closing the connection.
    """

    def __init__(self, api: docker.APIClient, container: str, follow: bool = True, tail: int | Literal["all"] = "all") -> None:
        self.container = container
        self.cli = cli_line("logs", *(["-f"] if follow else []), container)
        self._closed = threading.Event()
        with _engine_errors():
            try:
                self._stream = api.logs(container, stream=True, follow=follow, tail=tail)
            except NotFound as exc:
                raise ContainerMissing(f"no container {container} on this engine") from exc
        self._lines = self._read()

    def __iter__(self) -> LogStream:
        return self

    def __next__(self) -> str:
        return next(self._lines)

    def _read(self) -> Iterator[str]:
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        pending = ""
        try:
            for chunk in self._stream:
                pending += decoder.decode(chunk)
                *lines, pending = pending.split("\n")
                for line in lines:
                    yield line.rstrip("\r")
        except Exception:  # reading a closed connection raises; anything else is the engine gone
            if not self._closed.is_set():
                raise
            return
        finally:
            self._close_stream()
        pending += decoder.decode(b"", final=True)
        if pending:
            yield pending.rstrip("\r")

    def _close_stream(self) -> None:
        try:
            self._stream.close()
        except Exception:  # noqa: BLE001 - already closed
            pass

    def close(self) -> None:
        self._closed.set()
        self._close_stream()


def logs(api: docker.APIClient, container: str, follow: bool = True, tail: int | Literal["all"] = "all") -> LogStream:
    """``docker logs [-f] CONTAINER`` as an iterator of lines."""
    return LogStream(api, container, follow=follow, tail=tail)
