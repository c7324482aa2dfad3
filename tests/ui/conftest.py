"""UI tests drive the real app with Pilot.  Builds come from a backend that
replays REAL streams recorded from the engine (tests/fixtures/streams)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, STREAMS
from tutor.engine.doctor import DoctorReport, check, report_from_dict
from tutor.ui.app import TutorApp
from tutor.ui.backend import ReplayBackend

UI_COURSE = FIXTURES / "courses" / "ui"


def connected_report() -> DoctorReport:
    """`tutor doctor --json` as recorded on a machine with the engine and both stand-ins."""
    return report_from_dict(json.loads((FIXTURES / "doctor_connected.json").read_text()))


def no_engine_report() -> DoctorReport:
    """What the real doctor says about a socket that does not exist."""
    return check("unix:///nonexistent/docker.sock")


@pytest.fixture
def make_app() -> Callable[..., TutorApp]:
    def _make(*streams: str, report: DoctorReport | None = None, lessons: Path = UI_COURSE, speed: float = 0.0):
        recordings = [STREAMS / f"{name}.jsonl" if (STREAMS / f"{name}.jsonl").exists() else STREAMS / f"{name}.jsonl.gz" for name in streams]
        backend = ReplayBackend(recordings or [STREAMS / "cold.jsonl"], report or connected_report(), speed=speed)
        return TutorApp(lessons_dir=lessons, backend=backend, engine_check_seconds=0)

    return _make


async def wait_for(pilot, condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the app run until ``condition`` holds (builds run in a worker thread)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await pilot.pause(0.02)


async def click(pilot, selector, offset: tuple[int, int] = (0, 0), timeout: float = 10.0) -> None:
    """Click ``selector`` once it is on show.

    Pilot clicks where the widget is drawn; before its screen's first layout a widget has no region
    yet, and the click would land elsewhere (on a loaded machine that window is wide enough to hit).
    """

    def shown() -> bool:
        found = pilot.app.screen.query(selector)
        return bool(found) and found.first().region.area > 0

    await wait_for(pilot, shown, timeout)
    await pilot.click(selector, offset=offset)
