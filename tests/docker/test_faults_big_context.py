"""Big build contexts on the real engine: 10,000 small files, and one file of 200 MB.

The engine layer reports the context as it goes (``ContextProgress``: packing, then
sending, up to every byte), and the TUI shows it while the learner's key presses
are still handled during the upload.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.probes import KeyProbe
from tests.conftest import TEST_SEAT
from tests.ui.conftest import wait_for
from tutor.course.workspace import workspace_path
from tutor.engine import labels
from tutor.engine.build import Build, BuildRequest
from tutor.engine.events import BuildSucceeded, ContextProgress, ContextSent, StepStarted
from tutor.ui.app import TutorApp
from tutor.ui.backend import EngineBackend
from tutor.ui.channel import EventChannel
from tutor.ui.screens.course_map import CourseMapScreen
from tutor.ui.screens.lesson import LessonScreen
from tutor.ui.widgets.build_log import BuildLog

MANY_FILES = 10_000
FOLDERS = 100
ENTRIES = MANY_FILES + FOLDERS + 1  # the archive lists the folders too, and the Dockerfile
BIG_FILE = 200 * 1024 * 1024
KINDS = ("many-files", "big-file")
STATE_WAIT = 120  # seconds: the most a wait on state may take before the test gives up
LESSON = """---
id: big-context
title: Big contexts
order: 1
exercises:
  - id: many-files
    title: Ten thousand files
    goal: Build a context of 10,000 small files.
    base: app
    checks:
      - build: succeeds
  - id: big-file
    title: One big file
    goal: Build a context holding one 200 MB file.
    base: app
    checks:
      - build: succeeds
---

# Big contexts

Press **b** and watch the context go to the engine.
"""


def _fill(folder: Path, kind: str, mark: str) -> Path:
    """A context of ``kind``; the mark makes its one step new to the engine's cache."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Dockerfile").write_text(f"FROM alpine:latest\nLABEL context.mark={mark}\n")
    if kind == "many-files":
        for d in range(FOLDERS):
            sub = folder / f"dir{d:03d}"
            sub.mkdir()
            for f in range(MANY_FILES // FOLDERS):
                (sub / f"file{f:03d}.txt").write_text(f"file {d}/{f}\n")
    else:
        with (folder / "big.bin").open("wb") as fh:  # written in full: a sparse file would not be a fair upload
            block = bytes(range(256)) * 4096
            for _ in range(BIG_FILE // len(block)):
                fh.write(block)
    return folder


class SpyChannel(EventChannel):
    """The screen's channel, keeping every context event with the time it was put."""

    def __init__(self) -> None:
        super().__init__()
        self.context: list[tuple[float, ContextProgress | ContextSent]] = []

    def put(self, item) -> bool:
        event = item[1]
        if isinstance(event, (ContextProgress, ContextSent)):
            self.context.append((time.perf_counter(), event))
        return super().put(item)


def _check_progress(events: list[ContextProgress | ContextSent], kind: str) -> None:
    progress = [e for e in events if isinstance(e, ContextProgress)]
    phases = [e.phase for e in progress]
    sending = [e for e in progress if e.phase == "sending"]
    assert sending, phases
    assert phases == sorted(phases, key=("packing", "sending").index), "packing comes before sending"
    if kind == "many-files":
        packing = [e.files for e in progress if e.phase == "packing"]
        assert packing and packing == sorted(packing) and packing[-1] <= ENTRIES
    assert [e.bytes for e in sending] == sorted(e.bytes for e in sending)
    assert sending[-1].bytes == sending[-1].total_bytes  # the whole context went
    sent = next(e for e in events if isinstance(e, ContextSent))
    assert sent.bytes == sending[-1].total_bytes
    if kind == "many-files":
        assert sent.files == ENTRIES
    else:
        assert sent.bytes > BIG_FILE


@pytest.mark.parametrize("kind", KINDS)
def test_engine_layer_reports_packing_then_sending(kind: str, tmp_path: Path, base_images) -> None:
    context = _fill(tmp_path / kind, kind, uuid.uuid4().hex)
    request = BuildRequest(
        context, tag=f"tutor/{TEST_SEAT}/big-context:latest", labels=labels.managed_labels(TEST_SEAT, kind="build")
    )
    events = list(Build(request).events())
    assert isinstance(events[-1], BuildSucceeded), events[-1]
    first_step = next(i for i, e in enumerate(events) if isinstance(e, StepStarted))
    context_events = [e for e in events if isinstance(e, (ContextProgress, ContextSent))]
    assert all(i < first_step for i, e in enumerate(events) if isinstance(e, (ContextProgress, ContextSent)))
    _check_progress(context_events, kind)


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory, base_images) -> Path:
    root = tmp_path_factory.mktemp("big-course")
    (root / "01-big" / "app").mkdir(parents=True)
    (root / "01-big" / "lesson.md").write_text(LESSON)
    (root / "01-big" / "app" / "Dockerfile").write_text("FROM alpine:latest\n")
    return root


@pytest.fixture
def workspaces(tutor_home: Path) -> Iterator[dict[str, Path]]:
    """The learner's workspaces, made in place: the TUI keeps a workspace that exists."""
    mark = uuid.uuid4().hex
    yield {kind: _fill(workspace_path("big-context", kind), kind, mark) for kind in KINDS}


async def test_tui_shows_context_progress_and_answers_keys_while_sending(
    course: Path, workspaces: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every progress line the screen puts under the log, recorded as it is made: sampling the
    # log's subtitle would miss a fast machine's whole upload between two samples.
    from tutor import fmt

    made: list[str] = []
    real = fmt.context_progress

    def recording(*args, **kwargs) -> str:
        made.append(real(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(fmt, "context_progress", recording)
    # The tutor packs and sends the context itself on the classic builder: that is what shows progress here.
    app = TutorApp(lessons_dir=course, backend=EngineBackend(), engine_check_seconds=0, builder="classic")
    async with app.run_test(size=(160, 48)) as pilot:
        # Waits on state, with room for a loaded machine: a deadline only ends a hung test.
        await wait_for(pilot, lambda: isinstance(app.screen, CourseMapScreen), timeout=STATE_WAIT)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, LessonScreen), timeout=STATE_WAIT)
        for kind in KINDS:
            screen = app.screen
            assert screen.exercise is not None and screen.exercise.id == kind
            assert screen._workspace == workspaces[kind]
            spy = SpyChannel()
            screen.channel = spy
            keys = KeyProbe(app, screen, interval=0.05)
            first_made = len(made)
            log = screen.query_one(BuildLog)
            keys.start()
            try:
                before = screen.builds_started
                await pilot.press("b")
                await wait_for(
                    pilot,
                    lambda before=before: screen.builds_started > before and not screen.building,
                    timeout=STATE_WAIT,
                )
            finally:  # a press still queued when the app closes would hide why the test failed
                keys.stop()
            shown = made[first_made:]
            await wait_for(pilot, lambda keys=keys: keys.unanswered == 0, timeout=STATE_WAIT)
            assert screen.record.result is not None, screen.record.failure

            _check_progress([e for _, e in spy.context], kind)
            # what the learner saw: the progress line under the log while the context went
            wanted = "packing the build context" if kind == "many-files" else "sending the build context"
            assert any(s.startswith(wanted) for s in shown), shown
            assert any(line.startswith("context: ") for line in log.lines)

            # Keys pressed while the context was being sent were answered while it was still being
            # sent: the upload never holds the UI thread. Judged on the order of what happened (a
            # key's answer before the last byte went), not on latencies, which a loaded machine
            # stretches without anything being wrong.
            sending = [t for t, e in spy.context if isinstance(e, ContextProgress) and e.phase == "sending"]
            answered_while_sending = [
                pressed + latency for pressed, latency in keys.during if sending[0] <= pressed + latency <= sending[-1]
            ]
            if kind == "big-file":
                assert len(answered_while_sending) >= 2, (len(answered_while_sending), sending[-1] - sending[0], keys.during)
            assert keys.unanswered == 0  # every key pressed got its answer (waited for above)
            if kind == "many-files":
                await pilot.press("greater_than_sign")
                await wait_for(pilot, lambda screen=screen: screen.exercise.id == "big-file", timeout=STATE_WAIT)
