"""What "image size" means in the tutor, on either image store.

The tutor's size of an image is the size of its layers unpacked: the sum of the sizes `docker
history` lists. On the classic (graph driver) store that is exactly what `docker images` shows and
what `docker image inspect` calls Size. On the containerd image store (Docker Desktop 4.34+, new
Engine 29 installs) `docker images` shows other figures: the disk it uses (compressed content plus
the unpacked layers) and the compressed content alone, which inspect now calls Size and which can
be smaller than the program inside the image. The build summary, the layer pane, `tutor sizes`,
the size race, `tutor layers` and the size checks all use the unpacked figure, so they agree on
every engine and never fall below the binary an image ships; on the containerd store the two
figures of `docker images` are shown beside it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import docker

CONTAINERD_SNAPSHOTTER = "io.containerd.snapshotter.v1"

_engines: dict[str, EngineFacts] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class StoreSizes:
    """`docker images` on the containerd store: disk usage and content size, in bytes."""

    disk: int
    content: int


@dataclass(frozen=True)
class EngineFacts:
    """What sizes depend on, from one `docker info`: the image store, and the engine's own ID."""

    store: str  # "containerd" or "graphdriver"
    engine_id: str | None  # None when the engine did not say (sizes are then not kept on disk)


def store_of_info(info: dict[str, Any]) -> str:
    """'containerd' or 'graphdriver', from the engine's `docker info`."""
    for pair in info.get("DriverStatus") or []:
        if isinstance(pair, (list, tuple)) and len(pair) == 2 and pair[0] == "driver-type":
            return "containerd" if pair[1] == CONTAINERD_SNAPSHOTTER else "graphdriver"
    return "graphdriver"


def engine_key(api: docker.APIClient) -> str:
    """Which engine a client talks to. Every unix-socket client has the base_url
    http+docker://localhost: its socket tells engines apart."""
    return str(getattr(getattr(api, "_custom_adapter", None), "socket_path", None) or getattr(api, "base_url", ""))


def engine_facts(api: docker.APIClient) -> EngineFacts:
    """The engine's store and ID, asked once per engine for the life of the process."""
    key = engine_key(api)
    with _lock:
        if key in _engines:
            return _engines[key]
    try:
        info = api.info()
    except Exception:  # no answer: sizes fall back to the classic meaning, and are not kept
        return EngineFacts("graphdriver", None)
    facts = EngineFacts(store_of_info(info), str(info.get("ID") or "") or None)
    with _lock:
        _engines[key] = facts
    return facts


def image_store(api: docker.APIClient) -> str:
    """The engine's image store, asked once per engine for the life of the process."""
    return engine_facts(api).store


def layers_size(history: list[dict[str, Any]]) -> int:
    """The unpacked size of an image from its `docker history` entries."""
    return sum(max(int(entry.get("Size") or 0), 0) for entry in history)


def image_size(api: docker.APIClient, ref: str) -> int:
    """The tutor's size of an image (its layers unpacked). Raises what the engine raises."""
    return layers_size(api.history(ref))


def store_sizes(api: docker.APIClient, ref: str) -> StoreSizes | None:
    """On the containerd store, the two figures `docker images` shows for ``ref``; else None."""
    if image_store(api) != "containerd":
        return None
    try:
        inspect = api.inspect_image(ref)
        listed = [i for i in api.images() if i.get("Id") == inspect.get("Id")]
    except Exception:
        return None
    if not listed:
        return None
    return StoreSizes(disk=int(listed[0].get("Size") or 0), content=int(inspect.get("Size") or 0))
