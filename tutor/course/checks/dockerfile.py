"""The Dockerfile checks: read the Dockerfile's text, not the build (stages, texts, order, base)."""

from __future__ import annotations

from typing import Any

from tutor.course import dockerfile as df
from tutor.course.checks import arguments
from tutor.course.checks.kind import CheckKind, Evidence, Verdict, cap
from tutor.course.checks.steps import plan


def _stages(count: int, ev: Evidence) -> Verdict:
    found_stages = df.stages(ev.dockerfile)
    expected = f"{count} stage{'s' if count != 1 else ''} (FROM lines)"
    lines = ", ".join(str(s.line) for s in found_stages)
    found = f"{len(found_stages)} stage{'s' if len(found_stages) != 1 else ''}" + (
        f" (FROM at line {lines})" if lines else ""
    )
    ok = len(found_stages) == count
    line = None if ok or not found_stages else found_stages[-1].line
    said = f"The Dockerfile has {found}" + ("" if ok else f"; this exercise wants {count}")
    return ok, expected, found, line, said


def _instruction_lines(ev: Evidence) -> list[tuple[str, int]]:
    return [(df.collapse(p.instruction), p.line) for p in plan(ev)]


def _contains(texts: tuple[str, ...], ev: Evidence) -> Verdict:
    expected = "the Dockerfile contains " + " and ".join(f'"{t}"' for t in texts)
    lines = _instruction_lines(ev)
    missing, present = [], []
    for text in texts:
        needle = df.collapse(text)
        where = next((line for instruction, line in lines if needle in instruction), None)
        if where is None:
            missing.append(f'no "{text}"')
        else:
            present.append(f'"{text}" at line {where}')
    if missing:
        found = "; ".join(missing)
        return False, expected, found, None, "The Dockerfile has " + " and ".join(missing)
    return True, expected, "; ".join(present), None, "The Dockerfile has " + ", ".join(present)


def _lacks(texts: tuple[str, ...], ev: Evidence) -> Verdict:
    expected = "the Dockerfile has no " + " nor ".join(f'"{t}"' for t in texts)
    lines = _instruction_lines(ev)
    hits = []
    first_line = None
    for text in texts:
        needle = df.collapse(text)
        where = next((line for instruction, line in lines if needle in instruction), None)
        if where is not None:
            hits.append(f'"{text}" at line {where}')
            first_line = first_line or where
    if hits:
        found = "; ".join(hits)
        return False, expected, found, first_line, f"The Dockerfile still has {found}: this exercise wants it gone"
    return True, expected, "none of them", None, "The Dockerfile has none of " + ", ".join(f'"{t}"' for t in texts)


def _order(prefixes: tuple[str, ...], ev: Evidence) -> Verdict:
    expected = "the instructions in this order: " + ", then ".join(prefixes)
    planned = plan(ev)
    position = -1
    found_at: list[str] = []
    for prefix in prefixes:
        later = next((p for p in planned if p.step > position and df.matches(p.instruction, prefix)), None)
        if later is None:
            earlier = next((p for p in planned if df.matches(p.instruction, prefix)), None)
            if earlier is None:
                return False, expected, f'no "{prefix}" in the Dockerfile', None, f'The Dockerfile has no "{prefix}"'
            found = f'"{prefix}" (line {earlier.line}) comes too early: ' + ", ".join(found_at)
            wanted = " → ".join(prefixes)
            return False, expected, found, earlier.line, f"{cap(found)}; this exercise wants {wanted}"
        found_at.append(f"{prefix} at line {later.line}")
        position = later.step
    return True, expected, ", ".join(found_at), None, "The instructions come in order: " + ", ".join(found_at)


def _base_image(image: str, ev: Evidence) -> Verdict:
    expected = f"the final stage starts FROM {image}"
    base = df.final_base(ev.dockerfile)
    if base is None:
        return False, expected, "no FROM in the Dockerfile", None, "The Dockerfile has no FROM"
    stages = df.stages(ev.dockerfile)
    ok = df.normalise_image(base) == df.normalise_image(image)
    said = f"The final stage starts FROM {base} (line {stages[-1].line})" + ("" if ok else f"; this exercise wants FROM {image}")
    return ok, expected, f"it starts FROM {base} (line {stages[-1].line})", None if ok else stages[-1].line, said



def _base_image_argument(value: Any) -> str:
    image = arguments.text(value, "an image reference such as alpine:latest")
    if any(ch.isspace() for ch in image.strip()):
        raise ValueError(f"expected one image reference, found {image!r}")
    return image.strip()


KINDS = (
    CheckKind("stages", arguments.positive_int, _stages, "the Dockerfile has {} stages"),
    CheckKind("dockerfile_contains", arguments.texts, _contains, "the Dockerfile contains {}"),
    CheckKind("dockerfile_lacks", arguments.texts, _lacks, "the Dockerfile has no {}"),
    CheckKind(
        "instruction_order",
        lambda value: arguments.texts(value, minimum=2),
        _order,
        lambda argument: "the instructions come in this order: " + " → ".join(str(item) for item in argument),
    ),
    CheckKind("base_image", _base_image_argument, _base_image, "the image is built FROM {}"),
)
