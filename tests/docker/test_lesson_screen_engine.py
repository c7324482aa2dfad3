"""The lesson screen on the real engine, driven by keys as a learner would:
build go_app twice (the second time every row says CACHED), then r -> p -> s from the same screen."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from tests.conftest import FIXTURES
from tests.ui.conftest import wait_for
from tutor.engine.ports import engine_published_ports, find_free_port
from tutor.ui.app import TutorApp
from tutor.ui.backend import EngineBackend
from tutor.ui.dialogs.run_dialog import RunDialog
from tutor.ui.screens.course_map import CourseMapScreen
from tutor.ui.screens.lesson import LessonScreen
from tutor.ui.widgets.containers_pane import ContainersPane
from tutor.ui.widgets.layer_pane import LayerPane

UI_COURSE = FIXTURES / "courses" / "ui"


async def _build(pilot, screen: LessonScreen) -> None:
    before = screen.builds_started
    await pilot.press("b")
    await wait_for(pilot, lambda: screen.builds_started > before and not screen.building, timeout=900)


@pytest.mark.parametrize("builder", ["classic", "buildkit"])
async def test_build_twice_then_run_probe_stop(engine_api, base_images, builder: str):
    app = TutorApp(lessons_dir=UI_COURSE, backend=EngineBackend(), engine_check_seconds=0, builder=builder)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, CourseMapScreen))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, LessonScreen))
        screen = app.screen
        await _build(pilot, screen)
        assert screen.record.result is not None, screen.record.failure
        await _build(pilot, screen)
        table = screen.query_one(LayerPane)
        statuses = [str(table.get_row(str(n))[2]).split()[-1] for n in range(1, 10)]
        record = screen.record
        assert record.result is not None and {s.builder for s in record.ordered} == {builder}
        if builder == "classic":
            assert statuses == ["CACHED"] * 9 and record.cache_hits == 9
        else:  # BuildKit runs no step for ENV, EXPOSE, CMD: the pane says they make no layer
            config_only = [n for n in range(1, 10) if record.steps[n].keyword in ("ENV", "EXPOSE", "CMD", "LABEL")]
            assert config_only and all(statuses[n - 1] == "METADATA" for n in config_only), statuses
            assert statuses.count("CACHED") == 9 - len(config_only) == record.cache_hits

        pane = screen.query_one(ContainersPane)
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, RunDialog), timeout=20)
        free = find_free_port(18180, taken=engine_published_ports(engine_api))
        app.screen.query_one("#run-ports", Input).value = f"{free}:8080"
        await pilot.press("enter")
        await wait_for(pilot, lambda: pane.last_started is not None, timeout=60)

        await pilot.press("p")
        await wait_for(pilot, lambda: pane.last_probe is not None, timeout=60)
        probe = pane.last_probe
        assert probe.ok and probe.result.status == 200 and probe.result.body == "Hello, Docker with Go!\n"

        await pilot.press("s")
        await wait_for(pilot, lambda: pane.last_action is not None and pane.last_action.action == "stop", timeout=60)
        started = pane.last_started
        await pilot.press("ctrl+q")
    # quitting removed the container this app ran
    assert not engine_api.containers(all=True, filters={"id": started.id})
