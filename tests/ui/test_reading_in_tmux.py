"""Every shipped lesson can be read to its last line, in the real `tutor` in a real terminal.

tmux runs the installed binary at a learner's sizes; the test presses End in each lesson and
looks for the lesson's last line on the screen, then goes on with `]`. Reading needs no engine.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, TEST_SEAT
from tutor.course.loader import load_course

TUTOR = Path(sys.executable).with_name("tutor")
COURSE = load_course(ROOT / "lessons")
SCROLLBAR = "▁▂▃▄▅▆▇█▔▏▕▌▐"


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=True).stdout


class Terminal:
    def __init__(self, name: str) -> None:
        self.name = name

    def keys(self, *keys: str) -> None:
        _tmux("send-keys", "-t", self.name, *keys)

    def screen(self) -> str:
        return _tmux("capture-pane", "-p", "-t", self.name)

    def wait_for(self, predicate: Callable[[str], bool], what: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            if predicate(text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} did not show within {timeout:.0f}s; the screen was:\n{text}")
            time.sleep(0.2)


@pytest.fixture(params=[(80, 24), (120, 36)], ids=lambda size: f"{size[0]}x{size[1]}")
def terminal(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Terminal]:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed (Debian: apt-get install tmux)")
    assert TUTOR.exists(), f"the tutor command is not installed at {TUTOR}"
    width, height = request.param
    name = f"tutor-read-{os.getpid()}-{width}"
    env = f"-u COLUMNS -u LINES TUTOR_HOME={tmp_path / 'home'} TUTOR_SEAT={TEST_SEAT} TERM=xterm-256color"
    _tmux("new-session", "-d", "-s", name, "-x", str(width), "-y", str(height), f"cd {tmp_path} && env {env} {TUTOR}")
    subprocess.run(["tmux", "set-option", "-t", name, "window-size", "manual"], capture_output=True)
    subprocess.run(["tmux", "resize-window", "-t", name, "-x", str(width), "-y", str(height)], capture_output=True)
    try:
        yield Terminal(name)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)


def _words(text: str) -> list[str]:
    """The words of markdown source or of a rendered screen, without markup, bullets or quotes."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link shows its text
    text = re.sub(r"[`*]", "", text)  # inline markup shows no mark of its own
    text = re.sub(r"[>•▌]", " ", text)
    return [w for w in text.split() if w not in {"-", "|"} and not re.fullmatch(r"\d+\.", w)]


def last_lines(body: str) -> list[str]:
    """The last paragraph or list item of a lesson, joined into one line."""
    lines = [line for line in body.rstrip().splitlines()]
    item: list[str] = []
    for line in reversed(lines):
        if not line.strip():
            break
        item.insert(0, line)
        if re.match(r"\s*([-*]|\d+\.)\s", line):
            break
    return item


def lesson_pane(screen: str) -> str:
    """The lesson pane's text: the left column when the build panes sit beside it."""
    rows = screen.splitlines()
    right = next((row.find("╭─ Layers") for row in rows if "╭─ Layers" in row), -1)
    if right > 0:
        rows = [row[:right] for row in rows]
    return "\n".join(row.rstrip().rstrip(SCROLLBAR) for row in rows)


def shows_in_order(wanted: list[str], screen: str) -> bool:
    words = _words(screen)
    return any(words[i : i + len(wanted)] == wanted for i in range(len(words) - len(wanted) + 1))


def test_the_last_lines_are_found_in_markdown():
    body = "Intro.\n\n## What you learned\n\n- One `thing`.\n- Two **things**, over\n  two lines.\n"
    assert last_lines(body) == ["- Two **things**, over", "  two lines."]
    assert _words(" ".join(last_lines(body))) == ["Two", "things,", "over", "two", "lines."]
    assert shows_in_order(["over", "two", "lines."], " • Two things, over     ▌\n   two lines.   ")


def test_every_lesson_reads_to_its_last_line(terminal: Terminal):
    assert len(COURSE.lessons) >= 8
    terminal.wait_for(lambda s: COURSE.lessons[0].title in s, "the course map")
    terminal.keys("Enter")
    for lesson in COURSE.lessons:
        heading = f"{lesson.order}. {lesson.title}"
        first = _words(next(line for line in lesson.body.splitlines() if line.strip() and not line.startswith("#")))[:3]
        terminal.wait_for(lambda s, h=heading, f=first: h in s and shows_in_order(f, lesson_pane(s)), f"lesson {heading}")
        ending = _words(" ".join(last_lines(lesson.body)))
        assert ending, f"{lesson.id} has no last line"
        top = lesson_pane(terminal.screen())
        assert not shows_in_order(ending, top), f"{lesson.id} fits on one screen: this test would prove nothing"
        terminal.keys("End")
        terminal.wait_for(lambda s, e=ending: shows_in_order(e, lesson_pane(s)), f"the last line of {lesson.id}: {' '.join(ending)}")
        terminal.keys("Home")
        terminal.wait_for(
            lambda s, f=first, e=ending: shows_in_order(f, lesson_pane(s)) and not shows_in_order(e, lesson_pane(s)),
            f"the top of {lesson.id} again",
        )
        terminal.keys("]")
