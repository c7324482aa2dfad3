"""The installed `tutor` in a real terminal (tmux), as a learner uses it, on the real engine."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import TEST_SEAT

TUTOR = Path(sys.executable).with_name("tutor")


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=True).stdout


def _screen(session: str) -> str:
    return _tmux("capture-pane", "-p", "-t", session)


def _wait_for(session: str, predicate, timeout: float, what: str) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = _screen(session)
        if predicate(text):
            return text
        time.sleep(0.3)
    raise AssertionError(f"{what} did not show within {timeout:.0f}s; the screen was:\n{_screen(session)}")


@pytest.fixture
def session(tmp_path: Path, base_images):
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed (Debian: apt-get install tmux)")
    assert TUTOR.exists(), f"the tutor command is not installed at {TUTOR}"
    name = f"tutor-test-{os.getpid()}"
    # -u COLUMNS/LINES: Textual would take a size inherited from the test runner over the terminal's.
    env = f"-u COLUMNS -u LINES TUTOR_HOME={tmp_path / 'home'} TUTOR_SEAT={TEST_SEAT} TERM=xterm-256color"
    _tmux("new-session", "-d", "-s", name, "-x", "160", "-y", "48", f"cd {tmp_path} && env {env} {TUTOR}")
    # A detached session may keep the server's default size: pin it to 160x48.
    subprocess.run(["tmux", "set-option", "-t", name, "window-size", "manual"], capture_output=True)
    subprocess.run(["tmux", "resize-window", "-t", name, "-x", "160", "-y", "48"], capture_output=True)
    yield name
    subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)


def test_build_twice_in_a_real_terminal_shows_every_step_cached(session):
    _wait_for(session, lambda s: "Meet the app" in s and "Docker" in s and "stand-in" in s, 30, "the course map")
    _tmux("send-keys", "-t", session, "Enter")
    _wait_for(session, lambda s: "Layers" in s and "waiting" in s, 20, "the lesson screen")
    _tmux("send-keys", "-t", session, "b")
    first = _wait_for(session, lambda s: "── built" in s, 600, "the first build")
    # By default the tutor builds as `docker build` does here: BuildKit, which numbers the six
    # steps it runs and runs none for ENV, EXPOSE and CMD.
    assert "·  BuildKit  ·" in first or "· BuildKit ·" in first, first  # the status line names it
    assert "1/6" in first and "6/6" in first and "RUN go build -o main" in first
    _wait_for(session, lambda s: "checking" not in s.lower() or "pass" in s.lower(), 60, "the checks")
    time.sleep(1)
    _tmux("send-keys", "-t", session, "b")

    def second_done(text: str) -> bool:
        return text.count("── built") >= 1 and "6 from cache" in text

    second = _wait_for(session, second_done, 120, "the cached rebuild")
    rows = [line for line in second.splitlines() if re.search(r"│ (\d/6|—) ", line)]  # the layer pane's rows
    assert len(rows) == 9, "\n".join(rows)
    assert sum("CACHED" in row for row in rows) == 6 and sum("METADATA" in row for row in rows) == 3, "\n".join(rows)
    _tmux("send-keys", "-t", session, "C-q")
