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
    parser = DockerfileParser(fileobj=io.BytesIO(text.encode("utf-8", "replace")))
    try:
        structure = parser.structure
    except Exception:  # dockerfile-parse is lenient, but a learner's file can be anything
        return []
    steps: list[PlannedStep] = []
    stage, name = -1, None
    for item in structure:
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
