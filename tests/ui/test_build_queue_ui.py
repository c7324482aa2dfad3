"""A seat whose engine is busy: its build waits its turn in the engine's line, and the learner
reads how many builds are ahead. The line is the real one (files, tickets); the build that
follows replays a real recorded build."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import STREAMS
from tests.ui.conftest import UI_COURSE, connected_report, wait_for
from tests.ui.test_lesson_build import open_first_lesson
from tutor.engine.build_queue import BuildQueue, leave, wait_turn
from tutor.ui.app import TutorApp
from tutor.ui.backend import ReplayBackend
from tutor.ui.widgets.build_log import BuildLog


class QueuedReplayBackend(ReplayBackend):
    """Each build waits in ``queue`` as a workshop seat's does, then replays its recording."""

    def __init__(self, queue: BuildQueue, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.queue = queue

    def new_build(self, request):
        replay = super().new_build(request)
        queue = self.queue

        class Queued:
            def __init__(self) -> None:
                self.stopped = False

            def cancel(self) -> None:
                self.stopped = True
                replay.cancel()

            def events(self):
                ticket = yield from wait_turn(queue, lambda: self.stopped)
                try:
                    yield from replay.events()
                finally:
                    leave(ticket)

        return Queued()


async def test_a_build_waits_its_turn_and_says_how_many_are_ahead(tmp_path: Path) -> None:
    queue = BuildQueue(tmp_path / "line", slots=1)
    holder = None  # another seat's build holds the engine's only slot
    taking = wait_turn(queue, lambda: False)
    try:
        next(taking)
    except StopIteration as done:
        holder = done.value
    assert holder is not None
    backend = QueuedReplayBackend(queue, [STREAMS / "cold.jsonl"], connected_report())
    app = TutorApp(lessons_dir=UI_COURSE, backend=backend, engine_check_seconds=0)
    try:
        await _wait_then_build(app, holder)
    finally:
        leave(holder)  # whatever happened: never leave a build waiting behind the test
    assert list((tmp_path / "line").iterdir()) == []


async def _wait_then_build(app: TutorApp, holder: Path) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_first_lesson(pilot)
        await pilot.press("b")
        log = screen.query_one(BuildLog)
        await wait_for(pilot, lambda: any("waiting for the engine" in line for line in log.lines))
        said = " ".join(" ".join(log.lines).split())  # the log wraps long lines
        assert "── waiting for the engine: 1 build ahead of yours (it takes 1 at a time in this workshop)" in said
        assert screen.session.status_note == "waiting for the engine: 1 build ahead of yours…"
        assert screen.building
        leave(holder)  # the other seat's build ended
        await wait_for(pilot, lambda: not screen.building, timeout=30)
        assert screen.session.record.result is not None  # it went, and built
