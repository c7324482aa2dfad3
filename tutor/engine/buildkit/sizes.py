"""Layer sizes after a BuildKit build: BuildKit keeps no image per step, so they come from the
final image's history, mapped back to the Dockerfile's instructions.

BuildKit writes one history entry per instruction of the final stage after its FROM (config-only
ones too, with no layer), newest first, above the base image's own entries.  The entries are
matched to the stage's instructions by their keyword; the FROM step gets the whole base image,
as on the classic builder.  When they do not line up, no size is guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tutor.engine.buildlog import StepInput


def step_sizes(history: Sequence[dict[str, Any]], steps: Sequence[StepInput], stage: int) -> dict[int, int]:
    """Step number -> bytes its layer adds, for the instructions of ``stage`` (the final image's)."""
    own = [s for s in steps if s.stage == stage and s.keyword != "FROM"]
    start = next((s for s in steps if s.stage == stage and s.keyword == "FROM"), None)
    if start is None or len(history) < len(own):
        return {}
    newest_first = list(history)
    mine = list(reversed(newest_first[: len(own)]))
    sizes: dict[int, int] = {}
    for step, entry in zip(own, mine):
        created_by = str(entry.get("CreatedBy") or "").strip()
        if created_by.split(None, 1)[:1] != [step.keyword]:
            return {}  # not the history BuildKit writes for this Dockerfile: no guesses
        sizes[step.step] = max(int(entry.get("Size") or 0), 0)
    sizes[start.step] = sum(max(int(e.get("Size") or 0), 0) for e in newest_first[len(own) :])
    return sizes
