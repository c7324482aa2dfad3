"""A RUN step that starts a server never ends: the tutor says so within seconds."""

from __future__ import annotations

from tutor.engine.events import StepFinished, StepNeverEnds, StepOutput, StepStarted
from tutor.engine.never_ends import SILENCE, NeverEndsWatch


def _start(watch: NeverEndsWatch, instruction: str, step: int = 8, now: float = 0.0) -> list:
    return watch.feed(StepStarted(step, 9, instruction, 0, None), now)


def test_a_step_that_prints_that_it_listens_is_called_a_server_at_once():
    watch = NeverEndsWatch()
    _start(watch, "RUN ./main")
    said = watch.feed(StepOutput(8, "Server running on port 8080...", "Server running on port 8080..."), 1.5)
    assert len(said) == 1 and isinstance(said[0], StepNeverEnds)
    assert "Server running on port 8080" in said[0].reason and "CMD" in said[0].advice
    assert watch.feed(StepOutput(8, "listening", "listening"), 2.0) == []  # said once per step


def test_a_silent_program_is_called_a_server_after_the_silence():
    watch = NeverEndsWatch()
    _start(watch, 'RUN ["./main"]')
    assert watch.tick(SILENCE - 1) == []
    said = watch.tick(SILENCE + 0.5)
    assert len(said) == 1 and "without ending" in said[0].reason
    assert watch.tick(SILENCE + 5) == []


def test_a_long_silent_compile_is_not_a_server():
    watch = NeverEndsWatch()
    _start(watch, "RUN go build -o main", step=7)
    assert watch.tick(120.0) == []
    assert watch.feed(StepOutput(7, "go: downloading x", "go: downloading x"), 121.0) == []


def test_a_finished_step_is_not_watched_and_non_run_steps_print_nothing_that_counts():
    watch = NeverEndsWatch()
    _start(watch, "RUN ./main --version")
    watch.feed(StepFinished(8, "abc", 0.3, False), 0.3)
    assert watch.tick(60.0) == []
    _start(watch, "COPY . .", step=6)
    assert watch.feed(StepOutput(6, "listening", "listening"), 1.0) == []
