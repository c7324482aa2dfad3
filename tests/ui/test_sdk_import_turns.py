"""The engine check's thread and the UI thread opening a lesson import the docker SDK in turn.

Both at once can find the package half made (KeyError: 'docker.api'): the app then quit with a
traceback when a learner opened a lesson in the first second, while the engine check started.
"""

from __future__ import annotations

import threading

from tests.ui.conftest import wait_for
from tests.ui.test_lesson_build import open_first_lesson
from tutor.ui import app as app_module


class RecordingLock:
    """A lock that remembers which threads took it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.takers: list[str] = []

    def __enter__(self) -> None:
        self.lock.acquire()
        self.takers.append("ui" if threading.current_thread() is threading.main_thread() else "worker")

    def __exit__(self, *exc: object) -> None:
        self.lock.release()


async def test_the_engine_check_and_opening_a_lesson_take_turns(make_app, monkeypatch):
    turns = RecordingLock()
    monkeypatch.setattr(app_module, "SDK_IMPORT", turns)
    app = make_app("cold")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.engine_report is not None)
        await open_first_lesson(pilot)
        assert "worker" in turns.takers and "ui" in turns.takers
