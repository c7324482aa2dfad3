"""Watch mode on the real engine: a save rebuilds within 2 s, editor litter does not, stop is clean."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import docker
import pytest

from tests.conftest import FIXTURES, ROOT, TEST_SEAT
from tutor.course.checks import CheckResult
from tutor.course.loader import load_course
from tutor.course.progress import PASSED, ProgressStore
from tutor.course.runner import BuildStarted, ExerciseFinished
from tutor.course.watch import FileChanged, WatchStarted, watch_exercise
from tutor.course.workspace import prepare_workspace
from tutor.engine.events import BuildSucceeded, StepFinished, StepOutput, StepStarted

APP = FIXTURES / "courses" / "good" / "02-cache" / "app"
LESSON = """---
id: watch-me
title: Watch me
order: 1
exercises:
  - id: label-it
    title: Label the image
    goal: Add the line `LABEL watched=yes` to the Dockerfile.
    base: app
    checks:
      - build: succeeds
      - dockerfile_contains: "LABEL watched=yes"
  - id: second
    title: Another one
    goal: Build it.
    base: app
    checks:
      - build: succeeds
---

# Watch me

Save the Dockerfile and watch it build.
"""


@pytest.fixture
def course_dir(tmp_path: Path, base_images) -> Path:
    root = tmp_path / "course"
    lesson = root / "watch-me"
    shutil.copytree(APP, lesson / "app")
    (lesson / "lesson.md").write_text(LESSON)
    return root


class Watching:
    """Runs the watch generator in a thread (as the TUI does) and timestamps every event it yields."""

    def __init__(self, lesson, exercise, **kwargs) -> None:
        self.stop = threading.Event()
        self.events: queue.Queue[tuple[float, object]] = queue.Queue()
        self.seen: list[tuple[float, object]] = []
        self.error: BaseException | None = None
        self._generator = watch_exercise(lesson, exercise, self.stop, **kwargs)
        self.thread = threading.Thread(target=self._consume, daemon=True)
        self.thread.start()

    def _consume(self) -> None:
        try:
            for event in self._generator:
                self.events.put((time.monotonic(), event))
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc

    def wait_for(self, wanted: Callable[[object], bool], timeout: float, what: str) -> tuple[float, object]:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {what} within {timeout}s; saw {[type(e).__name__ for _, e in self.seen]}")
            try:
                item = self.events.get(timeout=left)
            except queue.Empty:
                continue
            self.seen.append(item)
            if wanted(item[1]):
                return item

    def quiet_for(self, seconds: float) -> list[object]:
        got = []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                got.append(self.events.get(timeout=left)[1])
            except queue.Empty:
                break
        return got

    def close(self, timeout: float = 10.0) -> float:
        started = time.monotonic()
        self.stop.set()
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the watch did not stop"
        assert self.error is None, repr(self.error)
        return time.monotonic() - started


def _is(kind: type) -> Callable[[object], bool]:
    return lambda event: isinstance(event, kind)


def _finished(event: object) -> bool:
    return isinstance(event, ExerciseFinished)


def test_a_save_rebuilds_and_checks_within_two_seconds(course_dir: Path) -> None:
    course = load_course(course_dir)
    lesson = course.lesson("watch-me")
    assert lesson is not None, course.problems
    exercise = lesson.exercise("label-it")
    workspace = prepare_workspace(lesson, exercise)
    store = ProgressStore()
    watching = Watching(lesson, exercise, store=store)
    try:
        _, started = watching.wait_for(_is(WatchStarted), 15, "WatchStarted")
        assert started.workspace == workspace

        # Editor litter: swap files, backups, vim's write test, emacs locks. None of it rebuilds.
        for name in (".Dockerfile.swp", "Dockerfile~", "4913", ".#Dockerfile", "#Dockerfile#"):
            (workspace / name).write_text("junk")
        (workspace / "4913").unlink()
        assert not [e for e in watching.quiet_for(1.5) if isinstance(e, (FileChanged, BuildStarted))]

        dockerfile = workspace / "Dockerfile"
        saved_at = time.monotonic()
        dockerfile.write_text(dockerfile.read_text() + "LABEL watched=yes\n")
        changed_at, changed = watching.wait_for(_is(FileChanged), 5, "FileChanged")
        assert changed.paths == ("Dockerfile",)
        build_at, build = watching.wait_for(_is(BuildStarted), 5, "BuildStarted")
        latency = build_at - saved_at
        print(f"\nsave -> change seen {changed_at - saved_at:.3f}s, -> build started {latency:.3f}s")
        assert latency < 2.0, f"the rebuild started {latency:.2f}s after the save"
        assert build.tag == f"tutor/{TEST_SEAT}/watch-me-label-it:latest"

        _, done = watching.wait_for(_finished, 120, "ExerciseFinished")
        kinds = [type(e) for _, e in watching.seen]
        assert StepStarted in kinds and StepFinished in kinds and BuildSucceeded in kinds
        results = [e for _, e in watching.seen if isinstance(e, CheckResult)]
        assert [r.passed for r in results] == [True, True], results
        assert done.passed and not done.cancelled and done.image_id
        assert done.record.ordered[-1].instruction == "LABEL watched=yes"
        recorded = store.load()[0].exercise("watch-me", "label-it")
        assert recorded.attempts == 1 and recorded.state == PASSED

        # Another file of the workspace: the source code.
        (workspace / "main.go").write_text((workspace / "main.go").read_text() + "\n// edited\n")
        _, changed = watching.wait_for(_is(FileChanged), 5, "FileChanged for main.go")
        assert changed.paths == ("main.go",)
        _, done = watching.wait_for(_finished, 120, "second ExerciseFinished")
        assert done.passed
        assert store.load()[0].exercise("watch-me", "label-it").attempts == 2
    finally:
        stopped_in = watching.close()
    assert stopped_in < 2.0


def _containers_with(api: docker.APIClient, token: str) -> list[dict]:
    """The build containers whose command carries ``token`` (any state: the list may lag behind)."""
    return [c for c in api.containers(all=True) if token in (c.get("Command") or "")]


def test_a_save_during_a_build_restarts_it_and_stop_cancels_it(course_dir: Path, engine_api: docker.APIClient) -> None:
    course = load_course(course_dir)
    lesson = course.lesson("watch-me")
    exercise = lesson.exercise("label-it")
    workspace = prepare_workspace(lesson, exercise)
    dockerfile = workspace / "Dockerfile"
    original = dockerfile.read_text()
    token = uuid.uuid4().hex[:12]
    # The classic builder: its slow step runs in a container the engine lists (BuildKit's cancel is
    # proven in test_buildkit.py).
    watching = Watching(lesson, exercise, builder="classic")
    try:
        watching.wait_for(_is(WatchStarted), 15, "WatchStarted")
        # A slow step that prints as it goes (the engine's stream moves, so a cancel is seen at once).
        slow = "RUN for i in $(seq 60); do echo {token}-{n} $i; sleep 1; done\n"
        dockerfile.write_text(original + slow.format(token=token, n="one"))

        def sleeping(event: object) -> bool:
            return isinstance(event, StepStarted) and "seq 60" in event.instruction

        watching.wait_for(sleeping, 30, "the slow step")
        time.sleep(0.5)
        saved_at = time.monotonic()
        dockerfile.write_text(original + slow.format(token=token, n="two"))
        cancelled_at, first = watching.wait_for(_finished, 10, "the cancelled run")
        assert first.cancelled and not first.passed
        print(f"\nsave during a build -> that build cancelled in {cancelled_at - saved_at:.3f}s")
        _, changed = watching.wait_for(_is(FileChanged), 5, "FileChanged")
        assert changed.paths == ("Dockerfile",)
        watching.wait_for(sleeping, 30, "the slow step of the new build")

        def ticking(event: object) -> bool:
            return isinstance(event, StepOutput) and f"{token}-two" in event.plain

        watching.wait_for(ticking, 10, "output of the new build's slow step")
        assert _containers_with(engine_api, f"{token}-two"), "the second build runs its slow step in a container"
        assert not _containers_with(engine_api, f"{token}-one"), "the first build was stopped and its container removed"
    finally:
        stopped_in = watching.close()
    print(f"stop during a build -> watch ended in {stopped_in:.3f}s")
    assert stopped_in < 5.0
    last = [e for _, e in watching.seen] + watching.quiet_for(0.2)
    assert isinstance(last[-1], ExerciseFinished) and last[-1].cancelled
    deadline = time.monotonic() + 15
    while _containers_with(engine_api, token) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _containers_with(engine_api, token), "a cancelled build left its container behind"


def test_tutor_watch_headless_then_ctrl_c(course_dir: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "TUTOR_HOME": str(home), "TUTOR_SEAT": TEST_SEAT, "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tutor", "--lessons", str(course_dir), "watch", "watch-me"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        # As in a terminal: Ctrl-C interrupts (a runner started in the background may ignore SIGINT).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    lines: queue.Queue[str] = queue.Queue()
    seen: list[str] = []
    reader = threading.Thread(target=lambda: [lines.put(line.rstrip("\n")) for line in proc.stdout], daemon=True)
    reader.start()

    def wait_line(part: str, timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.5)
            except queue.Empty:
                if proc.poll() is not None:
                    break
                continue
            seen.append(line)
            if part in line:
                return line
        errors = proc.stderr.read() if proc.poll() is not None else "(still running)"
        raise AssertionError(f"no line with {part!r}; output so far:\n" + "\n".join(seen) + "\nstderr: " + errors)

    try:
        wait_line("watching watch-me / label-it")
        # The first run shows where the learner stands: the label is missing.
        wait_line('✗ The Dockerfile has no "LABEL watched=yes"')
        wait_line("1 of 2 checks failed")
        workspace = home / "data" / "seats" / TEST_SEAT / "workspace" / "watch-me" / "label-it"
        dockerfile = workspace / "Dockerfile"
        dockerfile.write_text(dockerfile.read_text() + "LABEL watched=yes\n")
        wait_line("saved: Dockerfile", 10)
        step = wait_line("LABEL watched=yes", 60)
        # The default builder is BuildKit here: a LABEL runs no step, it only changes the image's config.
        assert "META" in step and "no layer" in step, step
        wait_line("✓ The build succeeded")
        wait_line("✓ passed: Label the image")
        assert "tutor watch watch-me --exercise second" in wait_line("next: watch-me / second")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0
        reader.join(5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    while not lines.empty():
        seen.append(lines.get())
    stderr = proc.stderr.read()
    proc.stdout.close()
    proc.stderr.close()
    assert seen[-1] == "stopped watching"
    assert "Traceback" not in stderr and not stderr.strip(), stderr
    progress, _ = ProgressStore(home / "data" / "seats" / TEST_SEAT / "progress.json").load()
    entry = progress.exercise("watch-me", "label-it")
    assert (entry.attempts, entry.state) == (2, PASSED)
    assert progress.current == ("watch-me", "label-it")


def test_the_watch_builds_with_the_builder_it_is_given(course_dir: Path) -> None:
    """`tutor watch --builder buildkit`: every rebuild on a save goes through BuildKit."""
    lesson = load_course(course_dir).lesson("watch-me")
    exercise = lesson.exercise("label-it")
    workspace = prepare_workspace(lesson, exercise)
    watching = Watching(lesson, exercise, builder="buildkit", initial_run=True)
    try:
        watching.wait_for(_is(WatchStarted), 15, "WatchStarted")
        _, first = watching.wait_for(_finished, 180, "the first ExerciseFinished")
        dockerfile = workspace / "Dockerfile"
        dockerfile.write_text(dockerfile.read_text() + "LABEL watched=yes\n")  # what the exercise asks for
        _, done = watching.wait_for(_finished, 180, "ExerciseFinished after the save")
    finally:
        watching.close()
    started = [e for _, e in watching.seen if isinstance(e, StepStarted)]
    assert started and {e.builder for e in started} == {"buildkit"}, {e.builder for e in started}
    assert not first.passed and done.passed, [r.describe() for r in done.results]  # the starter, then the fix
    assert done.record.ordered[-1].instruction == "LABEL watched=yes"
