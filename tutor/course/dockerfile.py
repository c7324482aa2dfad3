"""What the checks need to know about a Dockerfile: its steps, stages and final base image.

The steps come from ``tutor.engine.dockerfile.plan`` (numbered like the engine's
``Step n/m``); this adds matching and the image names a check compares.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tutor.engine.dockerfile import PlannedStep, plan

_FROM_RE = re.compile(r"^FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Stage:
    index: int
    image: str  # what FROM names: an image reference or an earlier stage's name
    name: str | None
    line: int


def collapse(text: str) -> str:
    return " ".join(text.split())


def matches(instruction: str, prefix: str) -> bool:
    """``prefix`` names ``instruction``: whitespace collapsed, the keyword in any case."""
    have, want = collapse(instruction), collapse(prefix)
    have_kw, _, have_rest = have.partition(" ")
    want_kw, _, want_rest = want.partition(" ")
    if have_kw.upper() != want_kw.upper():
        return False
    return have_rest.startswith(want_rest) if want_rest else True


def steps(text: str) -> list[PlannedStep]:
    return plan(text)


def stages(text: str) -> list[Stage]:
    result: list[Stage] = []
    for step in plan(text):
        if step.keyword != "FROM":
            continue
        match = _FROM_RE.match(step.instruction)
        image, name = (match.group(1), match.group(2)) if match else (step.instruction[5:].strip(), None)
        result.append(Stage(len(result), image, name, step.line))
    return result


def final_base(text: str) -> str | None:
    """The image the last stage starts from, following ``FROM <earlier stage>``."""
    found = stages(text)
    if not found:
        return None
    names = {s.name.lower(): s for s in found if s.name}
    image = found[-1].image
    for _ in range(len(found)):
        earlier = names.get(image.lower())
        if earlier is None:
            break
        image = earlier.image
    return image


def normalise_image(ref: str) -> str:
    """``alpine`` and ``docker.io/library/alpine:latest`` name the same image."""
    ref = ref.strip().lower()
    for prefix in ("docker.io/library/", "index.docker.io/library/", "library/", "docker.io/"):
        if ref.startswith(prefix):
            ref = ref[len(prefix) :]
            break
    if ref == "scratch" or "@" in ref:
        return ref
    last = ref.rsplit("/", 1)[-1]
    return ref if ":" in last else f"{ref}:latest"
