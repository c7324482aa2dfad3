"""Which builder builds the exercises: chosen where the app starts, shown in the status line,
changed from the command palette, and carried by every build the app asks for."""

from __future__ import annotations

import dataclasses

import pytest

from tests.conftest import STREAMS
from tests.ui.conftest import UI_COURSE, connected_report, wait_for
from tests.ui.test_lesson_build import build, open_first_lesson
from tutor.engine.doctor import DoctorReport
from tutor.ui.app import TutorApp
from tutor.ui.backend import ReplayBackend
from tutor.ui.widgets.engine_status import EngineStatus, describe

BUILDX = "buildx 0.13.1 (docker buildx build)"


def _report(buildkit: str | None) -> DoctorReport:
    report = connected_report()
    return dataclasses.replace(report, engine=dataclasses.replace(report.engine, buildkit=buildkit))


@pytest.mark.parametrize(
    ("builder", "buildkit", "shown", "short"),
    [
        ("auto", BUILDX, "BuildKit", "BuildKit"),
        ("auto", None, "classic builder (no BuildKit here)", "classic"),
        ("buildkit", BUILDX, "BuildKit", "BuildKit"),
        ("buildkit", None, "BuildKit unavailable here", "no BuildKit"),
        ("classic", BUILDX, "classic builder", "classic"),
    ],
)
def test_the_status_line_says_what_builds(builder: str, buildkit: str | None, shown: str, short: str) -> None:
    line = " ".join(describe(_report(buildkit), 120, builder).plain.split())
    assert f" · {shown} · " in line, line
    narrow = describe(_report(buildkit), 36, builder).plain
    assert f" · {short} · " in narrow and len(narrow) <= 36, narrow  # a narrow terminal keeps it, short


async def test_the_palette_switches_the_builder_of_the_next_build() -> None:
    backend = ReplayBackend([STREAMS / "cold.jsonl"], _report(BUILDX))
    app = TutorApp(lessons_dir=UI_COURSE, backend=backend, engine_check_seconds=0, builder="auto")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_first_lesson(pilot)
        status = screen.query_one(EngineStatus)
        await wait_for(pilot, lambda: "BuildKit" in describe(status.report, 120, status.builder).plain)
        await build(pilot, screen)
        assert backend.requests[-1].builder == "auto"

        await pilot.press("ctrl+p")
        await pilot.press(*"Builder: classic")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.builder == "classic" and app.screen is screen)
        assert status.builder == "classic"
        assert "classic builder" in describe(status.report, 120, status.builder).plain
        await build(pilot, screen)
        assert backend.requests[-1].builder == "classic"


def test_an_unknown_builder_is_refused_before_the_app_opens(capsys: pytest.CaptureFixture[str]) -> None:
    from tutor.cli import main
    from tutor.commands.exit_codes import EXIT_USAGE

    assert main(["--builder", "kaniko"]) == EXIT_USAGE
    assert "error: --builder kaniko: choose one of auto, buildkit, classic" in capsys.readouterr().err


def test_the_layer_pane_and_the_cache_line_number_steps_as_the_builder_does() -> None:
    """BuildKit's "[builder 5/6]" shows as 5/6 beside its stage, a config-only instruction as —,
    and the cache line counts only the steps BuildKit ran: 6/6, not 6/9."""
    from tutor.engine.events import StepFinished, StepStarted
    from tutor.engine.record import BuildRecord
    from tutor.ui.widgets.cache_pane import describe as cache_line
    from tutor.ui.widgets.layer_pane import step_name

    record = BuildRecord()
    record.apply(StepStarted(1, 3, "FROM alpine:latest", 0, None, builder="buildkit", label="[1/2]"))
    record.apply(StepFinished(1, "", 0.0, cached=True))
    record.apply(StepStarted(2, 3, "ENV A=1", 0, None, builder="buildkit", metadata=True))
    record.apply(StepStarted(3, 3, "RUN true", 0, "builder", builder="buildkit", label="[builder 2/2]"))
    record.apply(StepFinished(3, "", 0.0, cached=True))
    assert [step_name(s) for s in record.ordered] == ["1/2", "—", "2/2"]
    assert "2 from cache · 0 rebuilt" in cache_line(record).plain and "2/2" in cache_line(record).plain

    classic = BuildRecord()
    classic.apply(StepStarted(2, 3, "ENV A=1", 0, None))
    assert step_name(classic.ordered[0]) == "2/3"
