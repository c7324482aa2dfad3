"""Layer sizes: what each step added to the image, as `docker history` shows it.

`docker history` of a step's image lists every step before it too, and the engine reads the
config of every one of them to answer: asked once per step, the whole build grows as the cube
of its steps (a cached rebuild of 500 steps took a minute). So the history is asked only when
nothing cheaper says the same number:

- an image id is a content address, so a size once read is kept (``size_book``: in memory and
  in the cache dir): a rebuild from the cache asks the engine nothing;
- otherwise the step's image is inspected, one small answer, and compared with its parent's
  (the image of the step before, inspected just before): the same number of layers means the
  step added none (size 0, on either store); one layer more, on the classic store, means the
  difference of the two images' sizes, which is that layer's size (what history shows);
- only a new layer on the containerd store, whose history sizes count disk blocks, still asks
  the history, and records everything that answer says about the images before it.

The whole image's size (``image_size``, the sum history shows) of a step's image is its parent's
plus its own layer, so a build's final image is known without asking its history either.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from tutor.engine import image_size as sizes
from tutor.engine.events import StepFinished
from tutor.engine.size_book import SizeBook, Sizes, book_for, short_id

if TYPE_CHECKING:
    import docker

MAX_WALK = 8  # parents inspected to reach a known whole size before asking the history instead
_FACTS_KEPT = 4096


class _StepParser(Protocol):
    def stage_step_is_from(self, step: int) -> bool: ...


@dataclass(frozen=True)
class _Facts:
    """What `docker image inspect` says that sizes need."""

    layers: int
    size: int  # inspect's Size: on the classic store, all the layers unpacked
    parent: str | None


_facts: OrderedDict[tuple[str, str], _Facts] = OrderedDict()
_facts_lock = threading.Lock()


def _book(api: docker.APIClient) -> SizeBook:
    return book_for(sizes.engine_facts(api).engine_id, sizes.engine_key(api))


def _inspect(api: docker.APIClient, image_id: str) -> _Facts | None:
    key = (sizes.engine_key(api), short_id(image_id))
    with _facts_lock:
        if key in _facts:
            _facts.move_to_end(key)
            return _facts[key]
    try:
        answer: dict[str, Any] = api.inspect_image(short_id(image_id))
    except Exception:  # the image went away, or the engine did: a size is not worth a failure
        return None
    parent = str(answer.get("Parent") or "") or None
    facts = _Facts(len((answer.get("RootFS") or {}).get("Layers") or []), int(answer.get("Size") or 0), parent)
    with _facts_lock:
        _facts[key] = facts
        if len(_facts) > _FACTS_KEPT:
            _facts.popitem(last=False)
    return facts


def _from_history(api: docker.APIClient, book: SizeBook, image_id: str) -> Sizes | None:
    """One history answer: this image's sizes, and those of every earlier image it names."""
    try:
        history = api.history(short_id(image_id))
    except Exception:
        return None
    if not history:
        return None
    whole = 0
    for entry in reversed(history):  # oldest first: each image's whole size is the sum up to it
        whole += max(int(entry.get("Size") or 0), 0)
        entry_id = str(entry.get("Id") or "")
        if entry_id and entry_id != "<missing>":
            book.put(entry_id, Sizes(int(entry.get("Size") or 0), whole))
    found = Sizes(int(history[0].get("Size") or 0), sizes.layers_size(history))
    book.put(image_id, found)
    return found


def _own_layer(api: docker.APIClient, image_id: str) -> int | None:
    """The step's own layer from its image and its parent's, without the history; None: ask it."""
    facts = _inspect(api, image_id)
    if facts is None or facts.parent is None:
        return None
    parent = _inspect(api, facts.parent)
    if parent is None:
        return None
    if facts.layers == parent.layers:
        return 0  # a config-only step (ENV, CMD...) or one that changed no file: history says 0
    if facts.layers == parent.layers + 1 and sizes.image_store(api) != "containerd":
        return facts.size - parent.size
    return None


def _parent_total(api: docker.APIClient, book: SizeBook, image_id: str) -> int | None:
    facts = _inspect(api, image_id)
    return book.get(facts.parent).total if facts is not None and facts.parent else None


def layer_size(api: docker.APIClient, image_id: str) -> int | None:
    """Bytes the layer of this (step) image adds on top of its parent; None if unknown."""
    book = _book(api)
    known = book.get(image_id)
    if known.layer is not None:
        return known.layer
    own = _own_layer(api, image_id)
    if own is None:
        found = _from_history(api, book, image_id)
        return found.layer if found else None
    parent_total = _parent_total(api, book, image_id)
    book.put(image_id, Sizes(own, parent_total + max(own, 0) if parent_total is not None else None))
    return own


def image_size(api: docker.APIClient, image_id: str) -> int | None:
    """The image's layers unpacked (tutor.engine.image_size), the same on either image store."""
    book = _book(api)
    known = book.get(image_id).total
    if known is not None:
        return known
    # A build's final image is a few steps (the tutor's labels) past images whose size is known.
    chain = [image_id]
    while len(chain) <= MAX_WALK:
        facts = _inspect(api, chain[-1])
        if facts is None or facts.parent is None:
            break
        base = book.get(facts.parent).total
        if base is not None:
            total = base
            for step_image in reversed(chain):
                own = layer_size(api, step_image)
                if own is None:
                    break
                total += max(own, 0)
                book.put(step_image, Sizes(own, total))
            else:
                return total
            break
        chain.append(facts.parent)
    found = _from_history(api, book, image_id)
    return found.total if found else None


def with_size(api: docker.APIClient, event: StepFinished, parser: _StepParser) -> StepFinished:
    """The event with its layer size: the base image's whole size for FROM, else the layer's."""
    if not event.image_id:  # FROM scratch: the empty image
        return dataclasses.replace(event, size=0)
    if parser.stage_step_is_from(event.step):
        size = image_size(api, event.image_id)
    else:
        size = layer_size(api, event.image_id)
    return dataclasses.replace(event, size=size)


def forget() -> None:
    """Drop what this process learnt from inspecting images (the size books stay)."""
    with _facts_lock:
        _facts.clear()
