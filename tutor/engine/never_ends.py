"""Spot a RUN step that started a server: the build waits for it forever.

`RUN ./main` runs the program while the image is built, and a server never returns, so the build
hangs with no explanation. A learner who meant CMD needs to hear that within seconds. Pure: the
caller feeds the build's events with their arrival times, and ticks it while nothing arrives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tutor.engine.events import BuildEvent, StepFinished, StepNeverEnds, StepOutput, StepStarted

SILENCE = 10.0  # seconds a program-starting RUN may stay silent before it is called a server
LISTENS_RE = re.compile(
    r"\b(?:listen(?:s|ing)?\b|serving\b|server (?:is )?(?:running|started|up)\b|running on\b|started server\b"
    r"|accepting connections\b|press ctrl\+c\b)",
    re.IGNORECASE,
)
# Commands that start a long-running program rather than build something.
_STARTS_PROGRAM_RE = re.compile(
    r"^RUN\s+(?:\[\s*\"?)?(?:\./|/app/|/root/|go run\b|npm (?:run )?start\b|node\s|python3? -m http\.server|flask run"
    r"|uvicorn\s|gunicorn\s|java -jar\s)",
    re.IGNORECASE,
)
ADVICE = (
    "A build step has to finish before the next one starts, and a server never finishes. "
    "RUN runs while the image is built; CMD names what runs when a container starts. "
    "Cancel the build (c in the tutor, Ctrl+C in a terminal) and start the server with CMD instead,"
    " in exec form: CMD [\"./main\"]."
)


@dataclass
class NeverEndsWatch:
    silence: float = SILENCE
    _step: int | None = None
    _starts_program: bool = False
    _is_run: bool = False
    _last_heard: float = 0.0
    _said: set[int] = field(default_factory=set)

    def feed(self, event: BuildEvent, now: float) -> list[StepNeverEnds]:
        if isinstance(event, StepStarted):
            self._step = event.step
            self._is_run = event.instruction.lstrip().upper().startswith("RUN")
            self._starts_program = bool(_STARTS_PROGRAM_RE.match(event.instruction.strip()))
            self._last_heard = now
        elif isinstance(event, StepFinished) and event.step == self._step:
            self._step = None
        elif isinstance(event, StepOutput) and self._step is not None and event.step == self._step:
            self._last_heard = now
            if self._is_run and self._step not in self._said:
                found = LISTENS_RE.search(event.plain)
                if found:
                    line = next(line for line in event.plain.splitlines() if LISTENS_RE.search(line))
                    return [self._say(f"step {self._step} printed {line.strip()!r}: it is serving, and waits for requests")]
        return []

    def tick(self, now: float) -> list[StepNeverEnds]:
        """Called while no event arrives."""
        step = self._step
        if step is None or not self._starts_program or step in self._said or now - self._last_heard < self.silence:
            return []
        return [self._say(f"step {step} started a program that has run for {now - self._last_heard:.0f} s without ending")]

    def _say(self, reason: str) -> StepNeverEnds:
        assert self._step is not None
        self._said.add(self._step)
        return StepNeverEnds(self._step, reason, ADVICE)
