"""BuildKit through the engine alone: ``POST /build?version=2``, no docker CLI, no session.

The context goes gzip-compressed; the answer is JSON messages: ``moby.buildkit.trace`` (base64
protobuf StatusResponse), then ``moby.image.id``, errors as ``errorDetail``.  Closing the
connection stops the build (its RUN processes are gone within a second).
"""

from __future__ import annotations

import json
import queue
import threading
from pathlib import Path

from docker.errors import APIError

from tutor.engine.buildkit.backend import BuildKitBuild, Cancelled
from tutor.engine.buildkit.parser import TraceParser
from tutor.engine.classic import StreamingClient, api_message
from tutor.engine.client import engine_url, new_client, thread_client
from tutor.engine.context import ProgressReader, pack
from tutor.engine.events import ContextProgress, ContextSent


class ApiBuild(BuildKitBuild):
    via = "api"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._api: StreamingClient | None = None
        self._lock = threading.Lock()

    def _parser(self) -> TraceParser:
        return TraceParser(dockerfile=self.dockerfile_text, target=self.request.target)

    def _stream(self, context: Path, dockerfile: Path, out: queue.Queue) -> None:
        req = self.request
        warm = thread_client(req.engine)
        api = new_client(engine_url(req.engine), version=warm.api_version, timeout=None, cls=StreamingClient)
        with self._lock:
            self._api = api
        def on_file(count: int, _path: str) -> None:
            if self.cancelled:
                raise Cancelled()
            if count % 200 == 0:
                out.put(("event", ContextProgress("packing", count, 0)))

        packed = pack(context, dockerfile, on_file=on_file, gzip=True)

        def on_read(sent: int) -> None:
            if self.cancelled:
                raise Cancelled()  # stops the upload: the engine never starts the build
            out.put(("event", ContextProgress("sending", packed.files, sent, packed.bytes)))

        try:
            out.put(("event", ContextSent(packed.files, packed.bytes)))
            params = {"version": "2", "dockerfile": packed.dockerfile, "rm": "1", "forcerm": "1"}
            if req.tag:
                params["t"] = req.tag
            if req.labels:
                params["labels"] = json.dumps(dict(req.labels))
            if req.nocache:
                params["nocache"] = "1"
            if req.target:
                params["target"] = req.target
            if self.cancelled:
                return
            response = api._post(
                api._url("/build"),
                params=params,
                data=ProgressReader(packed.archive, packed.bytes, on_read),
                headers={"Content-Type": "application/x-tar"},
                stream=True,
                timeout=None,
            )
            try:
                api._raise_for_status(response)
            except APIError as exc:  # refused before building
                message = api_message(exc)
                out.put(("chunk", {"errorDetail": {"message": message}, "error": message}))
                return
            for chunk in api._stream_helper(response, decode=True):
                out.put(("chunk", chunk))
                if self.cancelled:
                    return
        finally:
            packed.close()

    def _stop(self) -> None:
        with self._lock:
            api, self._api = self._api, None
        if api is not None:
            api.cut_stream()
            try:
                api.close()
            except Exception:  # noqa: BLE001 - already closed
                pass

