"""`RUN ./main` in a lesson: the screen says within seconds why the build will not end, and how to stop it.

The build is a REAL recording (tests/fixtures/streams/server_run.jsonl): go_app's Dockerfile with
EXPOSE replaced by `RUN ./main`, cancelled by hand after the server said it was running.
"""

from __future__ import annotations

from tests.ui.conftest import wait_for
from tests.ui.test_lesson_build import open_first_lesson


async def test_a_server_started_by_run_is_explained_and_the_build_can_be_cancelled(make_app):
    app = make_app("server_run", speed=20.0)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_first_lesson(pilot)
        await pilot.press("b")
        await wait_for(pilot, lambda: any(n.title == "RUN or CMD?" for n in app._notifications), timeout=30)
        note = next(n for n in app._notifications if n.title == "RUN or CMD?")
        assert "Server running on port 8080" in note.message
        assert "CMD" in note.message and "cancel" in note.message.lower()
        assert any("this build will not end" in line for line in screen.query_one("#log").lines)
        await wait_for(pilot, lambda: not screen.building, timeout=30)
