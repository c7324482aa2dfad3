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
