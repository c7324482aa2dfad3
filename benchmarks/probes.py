"""Measuring the running TUI from outside, without changing it.

- ``TimedChannel`` replaces a LessonScreen's event channel: it keeps the time each
  event was put in by the build worker; ``watch_handling`` notes when the screen has
  finished handling the message that drained them.  Their difference is the
  latency from the engine's event to the updated row or log line.
- ``KeyProbe`` presses a harmless key from another thread, the way a terminal's
  input thread does, and notes when the screen's action for it runs.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from textual import events

from tutor.ui.channel import EventChannel


class TimedChannel(EventChannel):
    """An EventChannel that remembers when every item was put."""

    def __init__(self) -> None:
        super().__init__()
        self._put_times: deque[float] = deque()
        self.drained: list[float] = []  # put times of the items drained since the last collect()

    def put(self, item: Any, merge: Any = None) -> bool:
        with self._lock:
            if merge is not None and self._items:
                merged = merge(self._items[-1], item)
                if merged is not None:
                    self._items[-1] = merged
                    # Merged items count from their own put time, as if queued alone.
                    self._put_times.append(time.perf_counter())
                    return False
            was_empty = not self._items
            self._items.append(item)
            self._put_times.append(time.perf_counter())
            return was_empty

    def drain(self) -> list:
        with self._lock:
            items = list(self._items)
            self._items.clear()
            self.drained.extend(self._put_times)
            self._put_times.clear()
            return items

    def collect(self) -> list[float]:
        with self._lock:
            drained, self.drained = self.drained, []
            return drained


@dataclass
class HandlingLatency:
    """Seconds from put to handled, one per event; and how many handler calls applied them."""

    latencies: list[float] = field(default_factory=list)
    batches: int = 0


def watch_handling(screen: Any, channel: TimedChannel) -> HandlingLatency:
    """Install ``channel`` on ``screen`` and time every message handler that drained it."""
    result = HandlingLatency()
    screen.channel = channel
    original = screen._on_message

    async def timed(message: Any) -> None:
        await original(message)
        drained = channel.collect()
        if drained:
            now = time.perf_counter()
            result.batches += 1
            result.latencies.extend(now - put for put in drained)

    screen._on_message = timed
    return result


class KeyProbe:
    """Presses ``key`` every ``interval`` seconds from a thread; times until ``action`` runs."""

    def __init__(
        self,
        app: Any,
        screen: Any,
        key: str = "1",
        character: str = "1",
        action: str = "show_tab",
        interval: float = 0.05,
    ) -> None:
        self.app = app
        self.key, self.character = key, character
        self.interval = interval
        self.latencies: list[float] = []
        self.during: list[tuple[float, float]] = []  # (pressed at, latency)
        self._pressed: deque[float] = deque()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="key-probe", daemon=True)
        original: Callable[..., Any] = getattr(screen, f"action_{action}")

        def handled(*args: Any) -> Any:
            now = time.perf_counter()
            with self._lock:
                if self._pressed:
                    pressed = self._pressed.popleft()
                    self.latencies.append(now - pressed)
                    self.during.append((pressed, now - pressed))
            return original(*args)

        setattr(screen, f"action_{action}", handled)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            with self._lock:
                if self._pressed:  # the last press is not handled yet: wait for it, as a user would
                    continue
                self._pressed.append(time.perf_counter())
            self.app.post_message(events.Key(self.key, self.character))

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    @property
    def unanswered(self) -> float:
        """How long the press still waiting has waited (0 when none waits)."""
        with self._lock:
            return time.perf_counter() - self._pressed[0] if self._pressed else 0.0

    @property
    def worst(self) -> float:
        return max(self.latencies + [self.unanswered], default=0.0)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), nearest rank: an observed value, never an interpolation."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]
