"""Heredocs are BuildKit syntax: the classic builder of Docker 23+ drops their body and "succeeds"."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor.engine.build import Build, BuildRequest
from tutor.engine.dockerfile import heredoc_line
from tutor.engine.events import BuildFailed


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("FROM alpine\nRUN <<EOF\necho hi\nEOF\n", 2),
        ("FROM alpine\nWORKDIR /app\nrun <<-'END'\n\techo hi\nEND\n", 3),
        ('FROM alpine\nCOPY <<"EOT" /etc/motd\nhello\nEOT\n', 2),
        ("FROM alpine\nRUN --mount=type=cache,target=/root/.cache <<EOF\ngo build\nEOF\n", 2),
        ("FROM alpine\nRUN python3 <<PY\nprint(1)\nPY\n", 2),
    ],
)
def test_a_heredoc_is_found_at_its_line(text: str, line: int):
    assert heredoc_line(text) == line


@pytest.mark.parametrize(
    "text",
    [
        "FROM golang:1.24-alpine\nRUN go build -o main\nCMD [\"./main\"]\n",
        "FROM alpine\nRUN echo 'a' > b && cat b\n",
        "FROM alpine\n# RUN <<EOF in a comment\nRUN true\n",
        "FROM alpine\nRUN x=1; [ $x -lt 2 ]\n",
    ],
)
def test_no_heredoc_no_refusal(text: str):
    assert heredoc_line(text) is None


def test_the_classic_builder_refuses_a_heredoc_before_sending_anything(tmp_path: Path):
    (tmp_path / "Dockerfile").write_text("FROM alpine:latest\nRUN <<EOF\necho hello > /greeting\nEOF\n")
    # No engine is asked: the refusal comes first, so this needs none.
    events = list(Build(BuildRequest(tmp_path, "Dockerfile", engine="unix:///nonexistent.sock")).events())
    assert len(events) == 1 and isinstance(events[0], BuildFailed)
    failed = events[0]
    assert failed.line == 2 and "heredoc" in failed.message and not failed.engine_lost
    assert "BuildKit" in (failed.fix or "")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # (instruction, first line, last line): a body's lines belong to the instruction opening it
        ("FROM alpine\nRUN <<EOF\nset -e\necho hi > /x\nEOF\nCMD [\"cat\", \"/x\"]\n",
         [("FROM alpine", 1, 1), ("RUN <<EOF", 2, 5), ('CMD ["cat", "/x"]', 6, 6)]),
        ("FROM alpine\nrun <<-'END'\n\techo hi\n\tEND\nWORKDIR /app\n",
         [("FROM alpine", 1, 1), ("RUN <<-'END'", 2, 4), ("WORKDIR /app", 5, 5)]),
        ("FROM alpine\nRUN <<A <<B\necho a\nA\necho b\nB\nEXPOSE 80\n",
         [("FROM alpine", 1, 1), ("RUN <<A <<B", 2, 6), ("EXPOSE 80", 7, 7)]),
        ('FROM alpine\nCOPY <<"EOT" /etc/motd\nRUN this is text\nEOT\nENV A=1\n',
         [("FROM alpine", 1, 1), ('COPY <<"EOT" /etc/motd', 2, 4), ("ENV A=1", 5, 5)]),
        ("FROM alpine\nRUN <<EOF\necho never closed\nENV A=1\n",  # unclosed: the rest is its body
         [("FROM alpine", 1, 1), ("RUN <<EOF", 2, 5)]),
    ],
)
def test_a_heredoc_body_is_no_step_of_its_own(text: str, expected: list[tuple[str, int, int]]) -> None:
    from tutor.engine.buildlog import parse_steps
    from tutor.engine.dockerfile import plan

    assert [(p.instruction, p.line, p.end_line) for p in plan(text)] == expected
    assert [(s.text, s.line) for s in parse_steps(text)] == [(i, first) for i, first, _ in expected]
