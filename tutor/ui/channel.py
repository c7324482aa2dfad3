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
from typing import Generic, TypeVar

T = TypeVar("T")


class EventChannel(Generic[T]):
    def __init__(self) -> None:
        self._items: deque[T] = deque()
        self._lock = threading.Lock()

    def put(self, item: T) -> bool:
        """Queue ``item``; True when the consumer must be woken up."""
        with self._lock:
            was_empty = not self._items
            self._items.append(item)
            return was_empty

    def drain(self) -> list[T]:
        with self._lock:
            items = list(self._items)
            self._items.clear()
            return items
