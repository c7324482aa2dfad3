"""What a Dockerfile will do, before the engine runs it: its steps, stages and lines."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from dockerfile_parse import DockerfileParser

_AS_RE = re.compile(r"\s+AS\s+(\S+)\s*$", re.IGNORECASE)
MAX_LINE = 65535  # bytes: the classic builder refuses a Dockerfile with a longer line


def long_line(text: str) -> int | None:
    """The first line (1-based) longer than the engine accepts, or None."""
    for number, line in enumerate(text.split("\n"), start=1):
        if len(line) > MAX_LINE // 4 and len(line.encode("utf-8", "replace")) > MAX_LINE:
            return number
    return None


# A heredoc (`RUN <<EOF`, `COPY <<-"EOF" /file`): BuildKit syntax. The classic builder of 23 and
# later accepts it, drops the body and "succeeds" with nothing run; 20.10 fails on the body's lines.
_HEREDOC_RE = re.compile(r"^\s*(?:RUN|COPY|ADD)\b[^\n]*?<<-?\s*([\"']?)[A-Za-z_][\w.-]*\1", re.IGNORECASE | re.MULTILINE)


def heredoc_line(text: str) -> int | None:
    """The first line (1-based) of an instruction that opens a heredoc, or None."""
    match = _HEREDOC_RE.search(text)
    return text.count("\n", 0, match.start()) + 1 if match else None


_HEREDOC_WORD_RE = re.compile(r"<<(-?)\s*([\"']?)([A-Za-z_][\w.-]*)\2")


def heredoc_bodies(text: str) -> dict[int, int]:
    """The line (0-based) of each instruction that opens heredocs -> the last line of its bodies
    (the closing word's line). A body's lines are the instruction's, not instructions of their own."""
    lines = text.split("\n")
    bodies: dict[int, int] = {}
    i = 0
    while i < len(lines):
        words = _HEREDOC_WORD_RE.findall(lines[i]) if _HEREDOC_RE.match(lines[i]) else []
        if not words:
            i += 1
            continue
        j = i + 1
        for dash, _quote, word in words:  # `RUN <<A <<B`: A's body, then B's
            while j < len(lines) and (lines[j].lstrip("\t") if dash else lines[j]).rstrip() != word:
                j += 1
            j += 1
        last = min(j, len(lines)) - 1
        bodies[i] = last
        i = last + 1
    return bodies


def instructions(text: str, env_replace: bool = True) -> list[tuple[dict, object | None]]:
    """dockerfile-parse's structure (with its context, when it can give one), heredoc bodies
    folded into the instruction that opens them: the parser alone reads each body line as an
    instruction, so `RUN <<EOF` with three lines would count four steps."""
    parser = DockerfileParser(fileobj=io.BytesIO(text.encode("utf-8", "replace")), env_replace=env_replace)
    items = parser.structure
    try:
        contexts: list[object | None] = list(parser.context_structure)
    except Exception:
        contexts = [None] * len(items)
    bodies = heredoc_bodies(text) if _HEREDOC_RE.search(text) else {}
    folded: list[tuple[dict, object | None]] = []
    inside_until = -1
    for item, ctx in zip(items, contexts):
        start = int(item.get("startline", 0))
        if start <= inside_until:
            continue  # a line of the heredoc opened above
        if start in bodies:
            inside_until = bodies[start]
            item = {**item, "endline": inside_until}
        folded.append((item, ctx))
    return folded


@dataclass(frozen=True)
class PlannedStep:
    step: int  # 1-based, as the classic builder numbers them
    keyword: str  # "COPY"
    instruction: str  # "COPY . ." (continuations joined)
    stage: int  # 0-based; an ARG before the first FROM counts as stage 0
    stage_name: str | None
    line: int  # 1-based first line in the file
    end_line: int


def plan(text: str) -> list[PlannedStep]:
    """Every instruction of ``text``, numbered like the engine's `Step n/m`.

    Never raises: a line the parser cannot read is still a step (the engine
    will reject it with a message that names the line).
    """
    try:
        structure = instructions(text)
    except Exception:  # dockerfile-parse is lenient, but a learner's file can be anything
        return []
    steps: list[PlannedStep] = []
    stage, name = -1, None
    for item, _ctx in structure:
        keyword = str(item.get("instruction", "")).upper()
        if keyword == "COMMENT" or not keyword:
            continue
        value = " ".join(str(item.get("value", "")).split())
        if keyword == "FROM":
            stage += 1
            match = _AS_RE.search(value)
            name = match.group(1) if match else None
        steps.append(
            PlannedStep(
                step=len(steps) + 1,
                keyword=keyword,
                instruction=f"{keyword} {value}".strip(),
                stage=max(stage, 0),
                stage_name=name,
                line=int(item.get("startline", 0)) + 1,
                end_line=int(item.get("endline", 0)) + 1,
            )
        )
    return steps
