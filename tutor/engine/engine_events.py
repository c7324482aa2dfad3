"""Watching an engine change: its events stream, read in a thread, as ticks for a watcher.

``EngineChanges(engine).ticks(stop)`` yields once at the start, then once for each burst of
image and container events (a container created, started, died, removed; an image tagged,
untagged, deleted; a command exec'd in a container ended), and at least every ``poll`` seconds
(a server inside a container starts answering without any event). The events stream ends
when ``stop`` is set: its connection is closed from the watching thread.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

# What changes what a check can see. Not exec_create/exec_start (a `docker exec` ends with
# exec_die), nor the archive reads and probes a snapshot makes: they would wake the watcher
# with nothing new.
ACTIONS = {
    "container": ("create", "start", "die", "stop", "kill", "destroy", "rename", "pause", "unpause", "exec_die"),
    "image": ("tag", "untag", "delete", "load", "import", "pull"),
}
SETTLE = 0.3  # seconds: a `docker run` is create, then start; wait for the burst to end


@dataclass(frozen=True)
class EngineTick:
    reason: str  # "start", "poll", or the last event: "container start hello"
    events: int = 0


class EngineChanges:
    def __init__(self, engine: str | None = None, poll: float = 4.0) -> None:
        self.engine = engine
        self.poll = poll

    def ticks(self, stop: threading.Event) -> Iterator[EngineTick]:
        from tutor.engine.client import engine_url, new_client

        api = new_client(engine_url(self.engine), timeout=None)  # the stream waits as long as it must
        arrived: queue.Queue[Any] = queue.Queue()
        stream = api.events(decode=True, filters={"type": list(ACTIONS)})

        def read() -> None:
            try:
                for event in stream:
                    arrived.put(event)
            except Exception as exc:  # noqa: BLE001 - closed by stop(), or the engine went: polling goes on
                arrived.put(exc)

        reader = threading.Thread(target=read, name="engine-events", daemon=True)
        reader.start()
        try:
            yield EngineTick("start")
            broken = False
            while not stop.is_set():
                try:
                    first = arrived.get(timeout=self.poll)
                except queue.Empty:
                    yield EngineTick("poll")
                    continue
                if isinstance(first, Exception):
                    broken = True  # no more events: poll only
                    if not stop.wait(self.poll):
                        yield EngineTick("poll")
                    continue
                burst = [first]
                while True:
                    try:
                        burst.append(arrived.get(timeout=SETTLE))
                    except queue.Empty:
                        break
                useful = [e for e in burst if isinstance(e, dict) and _useful(e)]
                if useful and not broken:
                    yield EngineTick(_said(useful[-1]), len(useful))
        finally:
            stream.close()
            api.close()


def _useful(event: dict[str, Any]) -> bool:
    action = str(event.get("Action") or event.get("status") or "")
    kind = str(event.get("Type") or "")
    return action.split(":", 1)[0] in ACTIONS.get(kind, ())


def _said(event: dict[str, Any]) -> str:
    actor = event.get("Actor") or {}
    attributes = actor.get("Attributes") or {}
    name = str(attributes.get("name") or actor.get("ID") or "")
    if name.startswith("sha256:") or len(name) == 64:
        name = name.removeprefix("sha256:")[:12]  # an image or container id, as docker prints it
    return f"{event.get('Type')} {str(event.get('Action') or '').split(':', 1)[0]} {name}".strip()
