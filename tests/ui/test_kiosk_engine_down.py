"""A kiosk seat whose engine stops answering (a pool engine gone down) is told so, once."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import STREAMS
from tests.ui.conftest import UI_COURSE, connected_report, no_engine_report, wait_for
from tutor.ui.backend import ReplayBackend
from tutor.ui.kiosk import KioskApp, WelcomeScreen
from tutor.ui.messages import EngineStatusChanged
from tutor.workshop.config import KioskConfig, hash_pin


async def test_the_seat_is_told_when_its_engine_stops_answering(tmp_path: Path):
    config = KioskConfig(
        seat="pytest", pin_hash=hash_pin("4321"), export_dir=tmp_path / "exports", idle_timeout=0,
        port_range=(18300, 18310), engine="unix:///nonexistent/tutor-kiosk-test.sock",
    )  # fmt: skip
    backend = ReplayBackend([STREAMS / "cold.jsonl"], connected_report())
    app = KioskApp(config, lessons_dir=UI_COURSE, backend=backend, engine_check_seconds=0)
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, WelcomeScreen) and app.preflight is not None)
        assert not [n for n in app._notifications if n.title == "Engine down"]
        down = no_engine_report()
        app.post_message(EngineStatusChanged(down))
        await wait_for(pilot, lambda: any(n.title == "Engine down" for n in app._notifications))
        note = next(n for n in app._notifications if n.title == "Engine down")
        assert note.severity == "error"
        assert note.message.startswith(f"The engine this seat builds on stopped answering: {down.problems[0].what}")
        assert "Your progress is saved" in note.message
        # Still down at the next check: not said again.
        app.post_message(EngineStatusChanged(down))
        await wait_for(pilot, lambda: app.engine_report is down)
        await pilot.pause(0.1)
        assert len([n for n in app._notifications if n.title == "Engine down"]) == 1
