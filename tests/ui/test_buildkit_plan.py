"""The layer pane names steps as the builder will, before and during a build: BuildKit's `5/6`
within a stage, `—` for config, and no row for a stage the target does not need. Replays of
real BuildKit builds of lesson 7's one-Dockerfile-three-images solution, target by target."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from tests.ui.conftest import connected_report, wait_for
from tutor.ui.screens.lesson import LessonScreen
from tutor.ui.widgets.layer_pane import LayerPane

ROOT = Path(__file__).resolve().parents[2]
SOLUTION = ROOT / "lessons" / "07-buildkit" / "solution-one-file-three-images" / "Dockerfile"
TARGETS = ("local", "staging", "production")


def rows(pane: LayerPane) -> dict[str, str]:
    """Row key -> the step column, in the order shown (stage header rows left out)."""
    shown = {}
    for row in pane.ordered_rows:
        key = str(row.key.value)
        if not key.startswith("stage-"):
            shown[key] = str(pane.get_row(key)[0])
    return shown


def buildkit_report():
    """The recorded doctor report, on an engine where BuildKit builds through buildx."""
    report = connected_report()
    return dataclasses.replace(report, engine=dataclasses.replace(report.engine, buildkit="buildx"))


async def test_the_plan_and_the_builds_follow_each_target(make_app):
    app = make_app(*(f"buildkit/buildx/target_{t}" for t in TARGETS), lessons=ROOT / "lessons", report=buildkit_report())
    async with app.run_test(size=(120, 36)) as pilot:
        app.open_lesson("buildkit", "one-file-three-images")
        await wait_for(pilot, lambda: isinstance(app.screen, LessonScreen))
        screen = app.screen
        assert isinstance(screen, LessonScreen)
        await wait_for(pilot, lambda: screen.session.workspace is not None)
        assert screen.session.workspace is not None
        shutil.copy(SOLUTION, screen.session.workspace / "Dockerfile")  # the learner's finished file
        screen._load_workspace()
        await pilot.pause()
        pane = screen.query_one(LayerPane)
        # Before building: what the first build, --target local, runs: builder's steps and local's
        before = rows(pane)
        assert list(before) == ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"]
        assert [before[k] for k in ("1", "2", "7", "8", "10")] == ["1/6", "—", "6/6", "—", "—"]
        assert [str(pane.get_row(key)[2]) for key in ("stage-0", "stage-1")] == ["in image", "the image"]

        await pilot.press("b")
        await wait_for(pilot, lambda: screen.builds_started > 0 and not screen.building)
        assert [r.target for r in app.backend.requests] == list(TARGETS)  # type: ignore[attr-defined]
        after = rows(pane)
        # The last build's (production) rows stay in the Dockerfile's order, named as BuildKit named them
        assert list(after) == ["1", "2", "3", "4", "5", "6", "7", "11", "12", "13", "14", "15"]
        assert [after[k] for k in ("1", "2", "7", "11", "13", "14")] == ["1/6", "—", "6/6", "1/3", "3/3", "—"]
        assert [str(pane.get_row(key)[2]) for key in ("stage-0", "stage-2")] == ["not kept", "the image"]
        assert all(r.passed for r in screen.session.results if r.kind != "http")


async def test_the_classic_builder_plans_every_instruction_with_its_number(make_app):
    report = connected_report()
    app = make_app("target_production", lessons=ROOT / "lessons", report=dataclasses.replace(report, engine=dataclasses.replace(report.engine, buildkit=None)))
    async with app.run_test(size=(120, 36)) as pilot:
        app.open_lesson("buildkit", "one-file-three-images")
        await wait_for(pilot, lambda: isinstance(app.screen, LessonScreen))
        screen = app.screen
        assert isinstance(screen, LessonScreen)
        await wait_for(pilot, lambda: screen.session.workspace is not None)
        assert screen.session.workspace is not None
        shutil.copy(SOLUTION, screen.session.workspace / "Dockerfile")
        screen._load_workspace()
        await pilot.pause()
        shown = rows(screen.query_one(LayerPane))
        assert list(shown) == [str(n) for n in range(1, 18)] and shown["8"] == "8/17"
