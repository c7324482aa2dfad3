"""Sending the build context on BuildKit: buildx sends it itself and says how much went; the
tutor shows it as it does for the classic builder. Replays of real recorded builds."""

from __future__ import annotations

from pathlib import Path

from tutor import fmt
from tutor.engine.events import ContextProgress, ContextSent, StepStarted
from tutor.engine.replay import ReplayBuild

STREAMS = Path(__file__).resolve().parents[1] / "fixtures" / "streams" / "buildkit"


def test_buildx_reports_the_context_it_sends_before_the_steps_that_use_it() -> None:
    events = list(ReplayBuild(STREAMS / "buildx" / "cold.jsonl").events())
    progress = [e for e in events if isinstance(e, ContextProgress)]
    assert progress and all(e.phase == "sending" for e in progress)
    sent = [e.bytes for e in progress]
    assert sent == sorted(sent) and sent[-1] > 0  # only "load build context": .dockerignore's own transfer is left out
    # BuildKit asks for the files the build uses and sends them its own way: its count is not the
    # folder's size, so the total is known when the transfer is done
    assert all(e.total_bytes is None for e in progress[:-1]) and progress[-1].total_bytes == sent[-1]
    assert next(e for e in events if isinstance(e, ContextSent)).bytes != sent[-1]
    first_copy = next(i for i, e in enumerate(events) if isinstance(e, StepStarted) and e.instruction.startswith("COPY"))
    assert events.index(progress[-1]) < first_copy
    assert fmt.context_progress("sending", 0, sent[-1], None) == f"sending the build context: {fmt.size(sent[-1])}…"


def test_a_progress_past_its_total_reads_100_percent() -> None:
    assert fmt.context_progress("sending", 3, 1_200, 1_000).endswith("(100%)…")
