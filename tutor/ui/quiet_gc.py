"""Hold off Python's full garbage collections while a build streams into the screen.

A generation-2 pass stops every thread, the UI's included: 40-170 ms here during a noisy build
(benchmarks/NOTES.md), long enough to freeze the log and leave a key press unanswered. While a
build runs, the young generations still collect as usual (they are what a build's short-lived
objects need); only the full pass waits until the build ends, when the next ordinary collection
catches up. Holds nest: the full pass comes back when the last holder lets go.

A full pass visits every object the collector tracks, so its length grows with the screens on
show. What a drawn screen holds lives as long as the screen: :func:`settle` freezes it (the
collector skips frozen objects) and :func:`unsettle` gives it back when the screen goes, so
that its garbage is collected as usual.
"""

from __future__ import annotations

import gc
import threading

_NEVER = 1 << 30  # generation-1 collections before a full one: never, during a build
_lock = threading.Lock()
_holders = 0
_saved: tuple[int, int, int] | None = None


def hold() -> None:
    """A build starts streaming: no full collection until :func:`release`."""
    global _holders, _saved
    with _lock:
        if _holders == 0:
            _saved = gc.get_threshold()
            gc.set_threshold(_saved[0], _saved[1], _NEVER)
        _holders += 1


def release() -> None:
    """The build has ended: full collections run again on their usual schedule."""
    global _holders, _saved
    with _lock:
        if _holders == 0:
            return
        _holders -= 1
        if _holders == 0 and _saved is not None:
            gc.set_threshold(*_saved)
            _saved = None


def holding() -> bool:
    return _holders > 0


def pause_for_startup() -> None:
    """No collections while the app starts: what start-up makes (modules, classes, the first
    screen) is nearly all long-lived, so passes over it are wasted, and one full pass there cost
    the first frame 60 ms. :func:`settle`, once the first screen is drawn, turns them back on."""
    gc.disable()


def settle() -> None:
    """A screen has been drawn: what is alive now stays out of full passes until :func:`unsettle`."""
    gc.freeze()
    gc.enable()  # after start-up's pause; collections on as usual


def unsettle() -> None:
    """A settled screen is going: its objects are collectable again."""
    gc.unfreeze()
