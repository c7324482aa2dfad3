"""The lesson screen of an exercise done with the docker CLI: the checks tick as the engine changes.

The engine's states are snapshots recorded from a real engine while the lesson's commands ran
(tests/fixtures/engine_states/docker-commands/); the backend hands them over one at a time, as
the engine's events would.
"""

from __future__ import annotations

import io
import json

from rich.console import Console
from textual.widgets import Static

from tests.conftest import ROOT
from tests.ui.conftest import connected_report, wait_for
from tutor.engine.engine_state import EngineSnapshot
from tutor.ui.app import TutorApp
from tutor.ui.backend import ReplayBackend
from tutor.ui.widgets.cache_pane import CachePane
from tutor.ui.widgets.exercise_panel import ExercisePanel

STATES = ROOT / "tests" / "fixtures" / "engine_states" / "docker-commands"


def snapshot(prefix: str) -> EngineSnapshot:
    path = next(STATES.glob(f"{prefix}-*.json"))
    return EngineSnapshot.from_dict(json.loads(path.read_text(encoding="utf-8")))


def panel_text(app: TutorApp) -> str:
    panel = app.screen.query_one(ExercisePanel)
    console = Console(width=70, file=io.StringIO(), record=True, color_system=None)
    console.print(panel.query_one("#exercise-text", Static).content)
    return " ".join(console.export_text().split())


async def test_the_checks_tick_as_the_learners_commands_change_the_engine() -> None:
    backend = ReplayBackend([], connected_report(), snapshots=[snapshot("03"), snapshot("04")])
    app = TutorApp(lessons_dir=ROOT / "lessons", backend=backend, engine_check_seconds=0)
    async with app.run_test(size=(120, 36)) as pilot:
        app.open_lesson("docker-commands", "run-published")
        await wait_for(pilot, lambda: getattr(getattr(app.screen, "exercise", None), "id", None) == "run-published")
        await pilot.press("3")
        # before `docker run -p ... --name hello`: quiet runs, hello does not exist
        await wait_for(pilot, lambda: "No container hello" in panel_text(app))
        text = panel_text(app)
        assert "✗ the container hello of myapp is running, port 8080 published and answering" in text
        assert "container quiet of myapp: running" in text
        assert "No build here" in str(app.screen.query_one(CachePane).query_one("#cache-text", Static).content)
        backend.engine_changed()  # the learner typed the command: the engine holds hello now
        await wait_for(pilot, lambda: "✓ the container hello" in panel_text(app))
        text = panel_text(app)
        assert 'hello is running, port 8080 published on 8080, and it answered 200 "Hello, Docker with Go!"' in text
        assert "container hello of myapp: running, 8080->8080" in text
        await wait_for(pilot, lambda: app.progress.exercise("docker-commands", "run-published").passed)
        await pilot.press("b")  # nothing to build: it says what to type instead
        await wait_for(pilot, lambda: any("builds nothing here" in str(n.message) for n in app._notifications))
