"""Kiosk mode with Pilot: the learner cannot leave, the PIN unlocks, resets leave a clean seat.

Builds replay real recorded streams (tests/fixtures/streams).  The seat's engine
cleanup points at a socket that does not exist, so these tests never touch a
real engine; tests/docker/test_workshop.py covers the engine side.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import replace
from pathlib import Path

import pytest
import textual.app
from textual.app import SuspendNotSupported
from textual.widgets import Input, Static

from tests.conftest import STREAMS
from tests.ui.conftest import UI_COURSE, click, connected_report, no_engine_report, wait_for
from tutor import paths
from tutor.ui.backend import ReplayBackend
from tutor.ui.kiosk import (
    MAX_PIN_FAILURES,
    FinishScreen,
    InstructorMenu,
    KioskApp,
    PinScreen,
    WelcomeScreen,
)
from tutor.ui.screens.course_map import CourseMapScreen
from tutor.ui.screens.lesson import LessonScreen
from tutor.workshop import reset
from tutor.workshop.config import KioskConfig, hash_pin
from tutor.workshop.safety import SeatExerciseRun

PIN = "4321"
NO_ENGINE = "unix:///nonexistent/tutor-kiosk-test.sock"
SIZE = (140, 44)


@pytest.fixture(scope="module")
def pin_hash() -> str:
    return hash_pin(PIN)


@pytest.fixture
def config(tmp_path: Path, pin_hash: str) -> KioskConfig:
    return KioskConfig(
        seat="pytest",
        pin_hash=pin_hash,
        export_dir=tmp_path / "exports",
        idle_timeout=0,
        port_range=(18300, 18310),
        engine=NO_ENGINE,
    )


def make_kiosk(config: KioskConfig, *streams: str, report=None, **kwargs) -> KioskApp:
    recordings = [STREAMS / f"{name}.jsonl" for name in streams or ("cold",)]
    backend = ReplayBackend(recordings, report or connected_report())
    return KioskApp(config, lessons_dir=UI_COURSE, backend=backend, engine_check_seconds=0, **kwargs)


def top(app) -> object:
    return app.screen


async def welcome_ready(pilot) -> WelcomeScreen:
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, WelcomeScreen) and app.preflight is not None)
    return app.screen


async def start_session(pilot) -> None:
    await welcome_ready(pilot)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, CourseMapScreen))


async def enter_pin(pilot, pin: str) -> None:
    await pilot.press("ctrl+q")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, PinScreen))
    pilot.app.screen.query_one("#pin", Input).value = pin
    await pilot.press("enter")
    await pilot.pause()


async def settle(pilot) -> None:
    """Let freshly mounted headers finish their first title update before the app shuts down.

    (Textual's Header updates its title in a callback that fails if the app exits
    within a moment of the header mounting.)
    """
    await pilot.pause(0.3)


def notes(app) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


async def test_welcome_shows_the_seat_and_start_opens_the_course_map(config):
    app = make_kiosk(config)
    async with app.run_test(size=SIZE) as pilot:
        screen = await welcome_ready(pilot)
        assert "pytest" in str(screen.query_one("#welcome-seat", Static).render())
        assert "seat ready" in str(screen.query_one("#welcome-status", Static).render())
        assert not app.in_session
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, CourseMapScreen))
        assert app.in_session
        # The session started: its id names the export file later.
        assert (paths.seat_dir("pytest") / reset.SESSION_FILE).is_file()


async def test_quit_suspend_and_unsafe_palette_entries_are_blocked(config, monkeypatch):
    kills: list[tuple[int, int]] = []
    monkeypatch.setattr(textual.app.os, "kill", lambda pid, sig: kills.append((pid, sig)))
    app = make_kiosk(config)
    async with app.run_test(size=SIZE) as pilot:
        await start_session(pilot)
        # ctrl+q asks for the PIN instead of quitting.
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: isinstance(app.screen, PinScreen))
        assert app.return_code is None
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, CourseMapScreen))
        # ctrl+z and ctrl+c do nothing but say so; no SIGTSTP is ever sent.
        await pilot.press("ctrl+z")
        await pilot.press("ctrl+c")
        await pilot.pause()
        app.action_suspend_process()
        assert kills == []
        assert app.return_code is None and isinstance(app.screen, CourseMapScreen)
        await wait_for(pilot, lambda: any("Suspending the tutor is disabled" in n for n in notes(app)))
        # Nothing may take the terminal over (an editor could reach a shell).
        with pytest.raises(SuspendNotSupported):
            with app.suspend():
                pass
        # The palette has no Quit or Screenshot; the PIN-guarded Staff entry stays.
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Quit" not in titles and "Screenshot" not in titles
        assert any("Instructor" in t for t in titles)
        # Links do not open a browser.
        app.open_url("https://example.com/")
        await pilot.pause()
        await wait_for(pilot, lambda: any("example.com" in n and "disabled" in n for n in notes(app)))
        assert app.return_code is None


async def test_a_wrong_pin_does_not_unlock(config):
    app = make_kiosk(config)
    async with app.run_test(size=SIZE) as pilot:
        await start_session(pilot)
        await enter_pin(pilot, "9999")
        await wait_for(pilot, lambda: not isinstance(app.screen, PinScreen))
        assert not any(isinstance(s, InstructorMenu) for s in app.screen_stack)
        assert app.return_code is None
        await wait_for(pilot, lambda: any("Wrong PIN" in n for n in notes(app)))


async def test_the_pin_unlocks_exit(config):
    app = make_kiosk(config)
    async with app.run_test(size=SIZE) as pilot:
        await start_session(pilot)
        await enter_pin(pilot, PIN)
        await wait_for(pilot, lambda: isinstance(app.screen, InstructorMenu))
        await click(pilot, "#exit")
        await wait_for(pilot, lambda: app.return_code is not None)
    assert app.return_code == 0


async def test_repeated_wrong_pins_lock_the_prompt(config):
    now = [1000.0]
    app = make_kiosk(config, clock=lambda: now[0])
    async with app.run_test(size=SIZE) as pilot:
        await start_session(pilot)
        for _ in range(MAX_PIN_FAILURES):
            await enter_pin(pilot, "0000")
            await wait_for(pilot, lambda: not isinstance(app.screen, PinScreen))
        # Locked: even the right PIN gets no prompt now.
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert not isinstance(app.screen, PinScreen)
        await wait_for(pilot, lambda: any("Too many wrong PINs" in n for n in notes(app)))
        now[0] += 61
        await enter_pin(pilot, PIN)
        await wait_for(pilot, lambda: isinstance(app.screen, InstructorMenu))


async def build_first_exercise(pilot) -> LessonScreen:
    app = pilot.app
    await pilot.press("enter")  # open the highlighted lesson
    await wait_for(pilot, lambda: isinstance(app.screen, LessonScreen))
    screen = app.screen
    await pilot.press("b")
    await wait_for(pilot, lambda: screen.builds_started == 1 and not screen.building)
    return screen


async def test_reset_by_pin_exports_and_leaves_an_empty_workspace(config):
    app = make_kiosk(config, "cold")
    async with app.run_test(size=SIZE) as pilot:
        await start_session(pilot)
        lesson = await build_first_exercise(pilot)
        assert lesson.results and all(r.passed for r in lesson.results)
        workspace = paths.workspace_dir("pytest")
        assert any(workspace.rglob("Dockerfile"))  # the learner's copy is there before the reset
        await pilot.press("escape")
        await enter_pin(pilot, PIN)
        await wait_for(pilot, lambda: isinstance(app.screen, InstructorMenu))
        await pilot.press("r")
        await wait_for(pilot, lambda: app.last_reset is not None and isinstance(app.screen, WelcomeScreen), timeout=20)

        result = app.last_reset
        assert workspace.is_dir() and list(workspace.iterdir()) == []
        assert not paths.progress_file("pytest").exists()
        assert app.progress.exercises == {} and not app.in_session
        exported = json.loads(result.export.json_path.read_text())
        assert result.export.json_path.parent == config.export_dir
        assert exported["seat"] == "pytest" and exported["reason"] == "instructor"
        assert exported["summary"]["exercises_passed"] == 1
        assert exported["lessons"][0]["exercises"][0]["state"] == "passed"
        rows = list(csv.DictReader(result.export.csv_path.open()))
        assert [(r["seat"], r["reason"], r["exercises_passed"]) for r in rows] == [("pytest", "instructor", "1")]
        # This test's engine does not exist: the reset says the images stay until the next reset.
        assert result.engine.problem and "next reset" in result.engine.problem
        # The next learner starts a new session: a new export file, the course map under the welcome.
        assert isinstance(app.screen_stack[-2], CourseMapScreen)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, CourseMapScreen))
        assert reset.session("pytest")[0] != result.export.session


async def test_finish_saves_and_returns_to_the_welcome_screen(config):
    app = make_kiosk(config)
    async with app.run_test(size=SIZE) as pilot:
        await start_session(pilot)
        await pilot.press("ctrl+f")
        await wait_for(pilot, lambda: isinstance(app.screen, FinishScreen))
        await click(pilot, "#finish")
        await wait_for(pilot, lambda: app.last_reset is not None and isinstance(app.screen, WelcomeScreen), timeout=20)
        assert json.loads(app.last_reset.export.json_path.read_text())["reason"] == "finish"
        assert list(paths.workspace_dir("pytest").iterdir()) == []


async def test_an_idle_seat_starts_over(config):
    app = make_kiosk(replace(config, idle_timeout=0.6), idle_check_seconds=0.05)
    async with app.run_test(size=SIZE) as pilot:
        await start_session(pilot)
        await wait_for(pilot, lambda: any("Still there?" in n for n in notes(app)), timeout=5)
        await wait_for(pilot, lambda: app.last_reset is not None and isinstance(app.screen, WelcomeScreen), timeout=10)
        assert app.last_reset.reason == "idle"
        assert json.loads(app.last_reset.export.json_path.read_text())["reason"] == "idle"
        await settle(pilot)


async def test_a_seat_that_is_not_ready_says_why_and_does_not_start(config):
    app = make_kiosk(config, report=no_engine_report())
    async with app.run_test(size=SIZE) as pilot:
        screen = await welcome_ready(pilot)
        status = str(screen.query_one("#welcome-status", Static).render())
        assert "seat not ready:" in status and "fix:" in status
        assert "engine" in status.lower()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, WelcomeScreen) and not app.in_session
        await wait_for(pilot, lambda: any("Seat not ready" in n for n in notes(app)))


async def test_an_interrupted_reset_is_finished_at_start(config):
    # A reset that crashed after writing its marker: the learner's files are still there.
    workspace = paths.workspace_dir("pytest") / "first-build" / "build-it"
    workspace.mkdir(parents=True)
    (workspace / "Dockerfile").write_text("FROM alpine:latest\n")
    sid, _ = reset.session("pytest")
    marker = paths.data_dir() / "seats" / ".pytest.reset.json"
    marker.write_text(json.dumps({"session": sid, "reason": "idle", "exported": None}))
    app = make_kiosk(config)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.last_reset is not None and isinstance(app.screen, WelcomeScreen), timeout=20)
        assert not marker.exists()
        assert list(paths.workspace_dir("pytest").iterdir()) == []
        assert app.last_reset.export.json_path.name == f"pytest_{sid}.json"
        await settle(pilot)


async def test_builds_only_from_inside_the_workspace(config):
    app = make_kiosk(config, "cold")
    async with app.run_test(size=SIZE) as pilot:
        await start_session(pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, LessonScreen))
        screen = app.screen
        assert isinstance(app.new_exercise_run(screen.lesson, screen.exercise, screen._workspace), SeatExerciseRun)
        os.symlink("/etc/passwd", screen._workspace / "passwd")
        await pilot.press("b")
        await wait_for(pilot, lambda: any("symbolic link to /etc/passwd" in n for n in notes(app)))
        await wait_for(pilot, lambda: not screen.building)
        assert app.backend.requests == []  # refused before anything reached the engine
        assert app.progress.exercises == {}  # a refused build is not an attempt


async def test_the_kiosk_builds_with_the_builder_of_its_config(config: KioskConfig) -> None:
    """`builder = "classic"` in the seat's config: its status line and every build it asks for say so."""
    import dataclasses

    from tutor.ui.widgets.engine_status import EngineStatus, describe

    app = make_kiosk(dataclasses.replace(config, builder="classic"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.builder == "classic"
        status = app.screen.query_one(EngineStatus)
        await wait_for(pilot, lambda: status.report is not None)
        assert "classic builder" in describe(status.report, 140, status.builder).plain
