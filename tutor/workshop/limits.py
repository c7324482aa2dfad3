"""Fair sharing on a pool's engines: every container a seat runs gets the pool's limits.

The seats' processes create their containers (the containers tab, the HTTP checks, the probe's
helper) with the tutor's labels; ``LimitKeeper``, run by ``tutor serve --pool``, follows each
engine's events and gives every labelled container the pool's ``[limits]`` (memory with swap,
CPUs, processes) as it is created, and those already running when it starts. One learner's
runaway program then cannot take an engine's memory, CPUs or process table from the room.
Build steps are not containers of the seat's: the engine's builder runs them.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tutor.engine import labels
from tutor.workshop.pool import Limits, Pool, PoolEngine, engine_client

RETRY_SECONDS = 3.0  # an engine that went away is followed again when it answers


def resources(limits: Limits) -> dict[str, int]:
    """The engine API's update body for ``limits``."""
    body: dict[str, int] = {}
    if limits.memory is not None:
        body["Memory"] = limits.memory
        body["MemorySwap"] = limits.memory  # no swap beyond it: the limit holds
    if limits.cpus is not None:
        body["NanoCpus"] = int(limits.cpus * 1_000_000_000)
    if limits.pids is not None:
        body["PidsLimit"] = limits.pids
    return body


def limit_container(api: Any, container_id: str, limits: Limits) -> None:
    """``docker update --memory --memory-swap --cpus --pids-limit`` on one container."""
    # docker-py's update_container knows no pids limit: the API call itself.
    url = api._url("/containers/{0}/update", container_id)
    api._raise_for_status(api._post_json(url, data=resources(limits)))


@dataclass
class LimitKeeper:
    pool: Pool
    limits: Limits
    say: Callable[[str], None]
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _clients: dict[str, Any] = field(default_factory=dict)
    _streams: dict[str, Any] = field(default_factory=dict)  # each engine's event stream, closable
    _lock: threading.Lock = field(default_factory=threading.Lock)
    limited: int = 0  # containers given the limits so far

    def start(self) -> None:
        for engine in self.pool.engines:
            thread = threading.Thread(target=self._follow, args=(engine,), name=f"limits-{engine.name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _apply(self, api: Any, engine: PoolEngine, container_id: str) -> None:
        try:
            limit_container(api, container_id, self.limits)
        except Exception as exc:  # noqa: BLE001 - gone already, or the engine refuses: say so, go on
            if "No such container" not in str(exc):
                self.say(f"engine {engine.name}: could not limit container {container_id[:12]}: {exc}")
            return
        with self._lock:
            self.limited += 1

    def _follow(self, engine: PoolEngine) -> None:
        managed = {"label": [f"{labels.MANAGED}=true"]}
        while not self._stop.is_set():
            api = None
            try:
                api = engine_client(engine, timeout=60)
                with self._lock:
                    self._clients[engine.name] = api
                since = int(time.time())
                for c in api.containers(filters=managed):  # running before the keeper started
                    self._apply(api, engine, c["Id"])
                events = api.events(
                    since=since, decode=True, filters={**managed, "type": ["container"], "event": ["create", "start"]}
                )
                with self._lock:
                    self._streams[engine.name] = events
                for event in events:
                    if self._stop.is_set():
                        break
                    container_id = event.get("id") or event.get("Actor", {}).get("ID")
                    if container_id:
                        self._apply(api, engine, container_id)
            except Exception:  # noqa: BLE001 - the engine went away: the pool's watch says so; follow it again later
                pass
            finally:
                with self._lock:
                    self._clients.pop(engine.name, None)
                    self._streams.pop(engine.name, None)
                if api is not None:
                    with contextlib.suppress(Exception):
                        api.close()
            self._stop.wait(RETRY_SECONDS)

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            streams = list(self._streams.values())
        for stream in streams:  # ends the waits on each engine's events
            with contextlib.suppress(Exception):
                stream.close()
        for thread in self._threads:
            thread.join(timeout=10)
