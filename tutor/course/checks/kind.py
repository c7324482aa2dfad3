"""What a check kind is, what it looks at, and what it says.

A kind is declared once, in the module of its family (``build``, ``cache``, ``size``,
``dockerfile``, ``run``, ``context``, ``engine``): its name, how its written argument is parsed, how it
describes itself to the learner, how it judges a finished build, and what evidence it needs.
``registry`` gathers them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tutor.engine.engine_state import EngineAsks, EngineSnapshot
from tutor.engine.record import BuildRecord


@dataclass(frozen=True)
class HttpAnswer:
    """What a container of the image answered; ``status`` None: no answer (``error`` says why)."""

    status: int | None
    body: str = ""
    error: str | None = None


# (container port, path) -> the answer of a container of the built image.
HttpProbe = Callable[[int, str], HttpAnswer]


@dataclass(frozen=True)
class Evidence:
    """Everything a check may look at, after the (last) build of an exercise."""

    record: BuildRecord = field(compare=False)
    dockerfile: str  # the Dockerfile's text, as built
    context: Path
    dockerfile_name: str = "Dockerfile"
    prediction: Mapping[int, str] | None = None  # step -> "cached" | "rebuilt", made before the build
    http: HttpProbe | None = field(default=None, compare=False)
    engine: EngineSnapshot | None = field(default=None, compare=False)  # what the engine held, for engine checks


@dataclass(frozen=True)
class CheckResult:
    kind: str
    passed: bool
    expected: str
    found: str
    line: int | None = None  # the Dockerfile line the result points at, when there is one
    name: str = ""  # e.g. "cached RUN go mod download": the author's words, a key for the UI
    title: str = ""  # what the check asks for, in the learner's words
    said: str = ""  # the verdict as one sentence: "The image is 330 MB; this exercise wants it under 300 MB"

    @property
    def sentence(self) -> str:
        said = self.said or f"{cap(self.found)}; this exercise wants {self.expected}"
        return said.rstrip(". ")  # the caller ends the sentence

    def describe(self) -> str:
        mark = "pass" if self.passed else "FAIL"
        return f"{mark} {self.title or self.name or self.kind}: {self.sentence}"


# passed, expected, found, the Dockerfile line, the verdict in one sentence
Verdict = tuple[bool, str, str, int | None, str]


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def shown_argument(argument: Any) -> str:
    """The argument as a short text: a list joined with commas, anything else as written."""
    if isinstance(argument, tuple):
        return ", ".join(str(item) for item in argument)
    return str(argument)


@dataclass(frozen=True)
class CheckKind:
    """One check kind, whole.

    ``parse`` turns the lesson's written value into the argument (ValueError says what is wrong);
    ``judge`` gives the verdict on a finished build. ``title`` is the learner's words for the
    check: a template with ``{}`` for the shown argument, or a function of the argument.
    """

    name: str
    parse: Callable[[Any], Any]
    judge: Callable[[Any, Evidence], Verdict]
    title: str | Callable[[Any], str]
    shown: Callable[[Any], str] = shown_argument  # the argument in a check's short name
    needs_http: bool = False  # a container of the image, asked for a page
    needs_scenario: bool = False  # about the cache: only meaningful against a scenario's known cache
    needs_predict: bool = False  # the exercise must ask for a prediction
    # About the engine's state after the learner's own docker commands: no build, a snapshot.
    watches_engine: bool = False
    asks: Callable[[Any], EngineAsks] | None = None  # what the snapshot must read for it

    def label(self, argument: Any) -> str:
        """A short name, e.g. ``cached RUN go mod download`` or ``http /``."""
        return f"{self.name} {self.shown(argument)}".strip()

    def describe(self, argument: Any) -> str:
        """What the check asks for, in the learner's words: ``the Dockerfile contains EXPOSE 8080``."""
        if callable(self.title):
            return self.title(argument)
        return self.title.format(self.shown(argument))
