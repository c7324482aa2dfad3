"""Layer sizes: what each step added to the image, read from the engine's image history.

Image ids are content addresses, so a size once read never changes: a
process-wide cache makes a warm cached rebuild cost no extra engine calls.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import TYPE_CHECKING

from tutor.engine import image_size as sizes
from tutor.engine.events import StepFinished

if TYPE_CHECKING:
    import docker

    from tutor.engine.stream import StreamParser

_sizes: dict[str, int] = {}
_lock = threading.Lock()


def _short(image_id: str) -> str:
    return image_id.split(":", 1)[-1][:12]


def layer_size(api: docker.APIClient, image_id: str) -> int | None:
    """Bytes the layer of this (step) image adds on top of its parent; None if unknown."""
    key = _short(image_id)
    with _lock:
        if key in _sizes:
            return _sizes[key]
    try:
        history = api.history(key)
    except Exception:  # the image went away, or the engine did: a size is not worth a failure
        return None
    found = None
    with _lock:
        for entry in history:
            entry_id = entry.get("Id") or ""
            if entry_id and entry_id != "<missing>":
                _sizes.setdefault(_short(entry_id), int(entry.get("Size") or 0))
        if history:
            found = int(history[0].get("Size") or 0)
            _sizes[key] = found
    return found


def image_size(api: docker.APIClient, image_id: str) -> int | None:
    """The image's layers unpacked (tutor.engine.image_size), the same on either image store."""
    try:
        return sizes.image_size(api, _short(image_id))
    except Exception:
        return None


def with_size(api: docker.APIClient, event: StepFinished, parser: StreamParser) -> StepFinished:
    """The event with its layer size: the base image's whole size for FROM, else the layer's."""
    if not event.image_id:  # FROM scratch: the empty image
        return dataclasses.replace(event, size=0)
    if parser.stage_step_is_from(event.step):
        size = image_size(api, event.image_id)
    else:
        size = layer_size(api, event.image_id)
    return dataclasses.replace(event, size=size)
