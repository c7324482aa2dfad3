"""The cache pane's first line fits the pane: the bar shrinks, then goes, before anything wraps."""

from __future__ import annotations

from tutor.engine.events import StepCached, StepStarted
from tutor.engine.record import BuildRecord
from tutor.ui.widgets.cache_pane import BAR_WIDTH, describe


def _record(cached: int, total: int) -> BuildRecord:
    record = BuildRecord()
    for step in range(1, cached + 1):
        record.apply(StepStarted(step=step, total=total, instruction=f"RUN echo {step}", stage=0, stage_name=None))
        record.apply(StepCached(step=step))
    return record


def test_the_full_bar_when_there_is_room() -> None:
    first = describe(_record(5, 9)).plain.splitlines()[0]
    assert first == "Cache  5 from cache · 0 rebuilt  " + "█" * BAR_WIDTH + "  5/9"


def test_a_narrow_pane_gets_a_shorter_bar_and_no_wrapped_count() -> None:
    for width in (57, 45, 40, 34, 31):
        first = describe(_record(5, 9), width=width).plain.splitlines()[0]
        assert len(first) <= width, (width, first)
        assert first.startswith("Cache  5 from cache · 0 rebuilt")
    assert describe(_record(5, 9), width=57).plain.splitlines()[0].endswith("█  5/9")
