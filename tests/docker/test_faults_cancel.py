"""Cancel, and quit, in the middle of a build (the real TUI on the real engine).

The test course's Dockerfile has a slow, silent step (``RUN sleep 30``): the build
is stopped while the engine runs it in a temporary container.  Afterwards no
container of the build is left (neither the tutor's nor the builder's own
intermediate one), and the next build works.

These follow the classic builder's step containers; on BuildKit (no step containers, the RUN is a
process inside BuildKit) tests/docker/test_buildkit.py proves cancel leaves no process running.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import docker
import pytest

from tests.conftest import TEST_SEAT
from tests.ui.conftest import wait_for
from tutor.engine import labels
from tutor.ui.app import TutorApp
from tutor.ui.backend import EngineBackend
from tutor.ui.screens.course_map import CourseMapScreen
from tutor.ui.screens.lesson import LessonScreen

SIZE = (160, 48)
LESSON = """---
id: slow-step
title: A slow step
order: 1
exercises:
  - id: wait
    title: Wait for it
    goal: Build an image whose second step takes half a minute.
    base: app
    checks:
      - build: succeeds
---

# A slow step

Press **b**, then **c**.
"""


@pytest.fixture
def course(tmp_path: Path, base_images) -> tuple[Path, str]:
    """A one-lesson course; the mark makes its slow step new to the engine's cache."""
    mark = f"slow-{uuid.uuid4().hex[:12]}"
    lesson = tmp_path / "course" / "01-slow"
    (lesson / "app").mkdir(parents=True)
    (lesson / "lesson.md").write_text(LESSON)
    (lesson / "app" / "Dockerfile").write_text(f"FROM alpine:latest\nRUN sleep 30 && echo {mark}\n")
    return tmp_path / "course", mark


def _build_containers(api: docker.APIClient, mark: str, since: float) -> list[dict]:
    """Every container of this test's builds: the builder's (its command has the mark) and the tutor's."""
    found = [c for c in api.containers(all=True) if mark in (c.get("Command") or "")]
    found += [c for c in api.containers(all=True, filters=labels.seat_filter(TEST_SEAT)) if c["Created"] >= int(since)]
    return found


def _wait_until_gone(api: docker.APIClient, mark: str, since: float, timeout: float = 20) -> float:
    started = time.monotonic()
    while _build_containers(api, mark, since):
        if time.monotonic() - started > timeout:
            raise AssertionError(f"containers left after {timeout:.0f}s: {_build_containers(api, mark, since)}")
        time.sleep(0.2)
    return time.monotonic() - started


async def _start_slow_build(pilot, app: TutorApp, api: docker.APIClient, mark: str, since: float) -> tuple[LessonScreen, str]:
    """Open the lesson, press b, and wait until the engine runs the slow step; its container id
    (checked to be on the engine)."""
    await wait_for(pilot, lambda: isinstance(app.screen, CourseMapScreen))
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, LessonScreen))
    screen = app.screen
    await pilot.press("b")
    await wait_for(
        pilot, lambda: 2 in screen.record.steps and screen.record.steps[2].container_id is not None, timeout=120
    )
    container_id = screen.record.steps[2].container_id
    assert any(c["Id"].startswith(container_id) for c in _build_containers(api, mark, since))
    return screen, container_id


async def test_cancel_mid_build_leaves_no_container_and_the_next_build_works(
    course: tuple[Path, str], engine_api: docker.APIClient
) -> None:
    root, mark = course
    since = time.time() - 1
    app = TutorApp(lessons_dir=root, backend=EngineBackend(), engine_check_seconds=0, builder="classic")
    async with app.run_test(size=SIZE) as pilot:
        screen, container_id = await _start_slow_build(pilot, app, engine_api, mark, since)
        pressed = time.monotonic()
        await pilot.press("c")
        await wait_for(pilot, lambda: not screen.building, timeout=10)
        stopped = time.monotonic() - pressed
        failure = screen.record.failure
        assert failure is not None and failure.cancelled, failure
        assert stopped < 5, f"the build took {stopped:.1f}s to stop"
        assert screen.record.steps[2].status != "built"
        _wait_until_gone(engine_api, mark, since)
        with pytest.raises(docker.errors.NotFound):
            engine_api.inspect_container(container_id)

        # the next build works (the learner made the slow step quick)
        workspace = screen._workspace
        assert workspace is not None
        (workspace / "Dockerfile").write_text(f"FROM alpine:latest\nRUN echo quick && echo {mark}-next\n")
        before = screen.builds_started
        await pilot.press("b")
        await wait_for(pilot, lambda: screen.builds_started > before and not screen.building, timeout=120)
        assert screen.record.result is not None, screen.record.failure
        assert screen.results and all(r.passed for r in screen.results)
    _wait_until_gone(engine_api, mark, since)


async def test_quit_mid_build_leaves_no_container_and_the_next_build_works(
    course: tuple[Path, str], engine_api: docker.APIClient
) -> None:
    root, mark = course
    since = time.time() - 1
    app = TutorApp(lessons_dir=root, backend=EngineBackend(), engine_check_seconds=0, builder="classic")
    async with app.run_test(size=SIZE) as pilot:
        screen, container_id = await _start_slow_build(pilot, app, engine_api, mark, since)
        pressed = time.monotonic()
        await pilot.press("ctrl+q")
    quit_seconds = time.monotonic() - pressed
    assert quit_seconds < 5, f"quitting took {quit_seconds:.1f}s"
    gone_after = _wait_until_gone(engine_api, mark, since, timeout=15)
    assert gone_after < 10, f"the build's container was left running {gone_after:.1f}s after the quit"
    with pytest.raises(docker.errors.NotFound):
        engine_api.inspect_container(container_id)

    # a new session builds the (now quick) exercise
    app = TutorApp(lessons_dir=root, backend=EngineBackend(), engine_check_seconds=0, builder="classic")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, LessonScreen))  # resumes where the learner left off
        screen = app.screen
        assert screen._workspace is not None
        (screen._workspace / "Dockerfile").write_text(f"FROM alpine:latest\nRUN echo quick && echo {mark}-next\n")
        await pilot.press("b")
        await wait_for(pilot, lambda: screen.builds_started == 1 and not screen.building, timeout=120)
        assert screen.record.result is not None, screen.record.failure
    _wait_until_gone(engine_api, mark, since)
