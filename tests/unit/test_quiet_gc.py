"""Full garbage collections are held off while builds stream, and come back after."""

from __future__ import annotations

import gc

from tutor.ui import quiet_gc


def test_hold_and_release_nest_and_restore_the_thresholds() -> None:
    before = gc.get_threshold()
    quiet_gc.hold()
    quiet_gc.hold()  # watch mode and a build, or two screens
    try:
        held = gc.get_threshold()
        assert held[:2] == before[:2] and held[2] > 1_000_000
        quiet_gc.release()
        assert gc.get_threshold() == held and quiet_gc.holding()
    finally:
        quiet_gc.release()
    assert gc.get_threshold() == before and not quiet_gc.holding()
    quiet_gc.release()  # one release too many changes nothing
    assert gc.get_threshold() == before


class Node:
    """A container object the collector tracks, in a reference cycle."""

    def __init__(self) -> None:
        self.me = self


def test_a_settled_screen_is_out_of_full_passes_until_it_goes() -> None:
    gc.collect()
    try:
        kept = [Node() for _ in range(1000)]
        quiet_gc.settle()
        frozen = gc.get_freeze_count()
        assert frozen >= 1000
        # Garbage made before settling waits in the frozen set: a full pass does not visit it.
        del kept
        assert gc.collect() == 0
        quiet_gc.unsettle()
        assert gc.get_freeze_count() == 0
        assert gc.collect() >= 1000  # the screen went: its cycles are collected as usual
    finally:
        gc.unfreeze()


def test_start_up_runs_without_collections_until_the_first_screen_settles() -> None:
    try:
        quiet_gc.pause_for_startup()
        assert not gc.isenabled()
        quiet_gc.settle()
        assert gc.isenabled() and gc.get_freeze_count() > 0
    finally:
        gc.enable()
        gc.unfreeze()
