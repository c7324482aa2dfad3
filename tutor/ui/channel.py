"""Hand events from a worker thread to the UI thread in batches.

The worker appends every event; it posts a wake-up message only when the
channel goes from empty to non-empty.  The UI handler drains everything
queued so far in one go.  A build that prints 100,000 lines therefore costs
as many UI updates as the UI can absorb, never one message per line, and no
event is lost or reordered.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


class EventChannel(Generic[T]):
    def __init__(self) -> None:
        self._items: deque[T] = deque()
        self._lock = threading.Lock()

    def put(self, item: T, merge: Callable[[T, T], T | None] | None = None) -> bool:
        """Queue ``item``; True when the consumer must be woken up.

        ``merge(last, item)`` may fold the item into the last one still queued (and
        return it): 20,000 output lines waiting for the UI become one batch.
        """
        with self._lock:
            if merge is not None and self._items:
                merged = merge(self._items[-1], item)
                if merged is not None:
                    self._items[-1] = merged
                    return False
            was_empty = not self._items
            self._items.append(item)
            return was_empty

    def drain(self) -> list[T]:
        with self._lock:
            items = list(self._items)
            self._items.clear()
            return items


@dataclass
class OutputBatch:
    """Consecutive output lines of one step, as they wait in a channel (grows in place)."""

    step: int | None
    texts: list[str] = field(default_factory=list)
    plains: list[str] = field(default_factory=list)


def merge_output(last: tuple[int, object], item: tuple[int, object]) -> tuple[int, object] | None:
    """Fold an ``(id, OutputBatch)`` into the last queued one of the same build and step."""
    (last_id, last_batch), (new_id, new_batch) = last, item
    if (
        last_id == new_id
        and isinstance(last_batch, OutputBatch)
        and isinstance(new_batch, OutputBatch)
        and last_batch.step == new_batch.step
    ):
        last_batch.texts.extend(new_batch.texts)
        last_batch.plains.extend(new_batch.plains)
        return last
    return None
