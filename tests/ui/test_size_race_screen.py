"""The size race screen without an engine, fed with REAL sizes from recorded builds: the
single-stage go_app image (cold.jsonl), the multi-stage one (multistage.jsonl) and, as the floor,
the binary the multi-stage build copied into its final stage (its `COPY --from=builder` layer).
Labels come from the shipped course.  The real engine's side is in tests/docker/test_layer_contents_ui.py.
"""

from __future__ import annotations

import threading
from functools import cache

import pytest
from textual.app import App
from textual.widgets import LoadingIndicator, Static

from tests.conftest import STREAMS, TEST_SEAT
from tests.ui.conftest import wait_for
from tutor import paths
from tutor.course.loader import load_course
from tutor.engine.client import EngineUnavailable, diagnose
from tutor.engine.record import BuildRecord
from tutor.engine.replay import ReplayBuild
from tutor.engine.seat_race import (
    ExerciseName,
    Floor,
    SeatImage,
    SeatRace,
    assemble_race,
    course_names,
    fill_hint,
    readable_label,
)
from tutor.engine.sizerace import render_bars
from tutor.ui.screens.size_race import SizeRaceScreen

SINGLE = f"tutor/{TEST_SEAT}/meet-the-app-first-build:latest"
MULTI = f"tutor/{TEST_SEAT}/multi-stage-split-the-build:latest"
SIZE = (100, 30)


@cache
def recorded(name: str) -> BuildRecord:
    record = BuildRecord()
    for event in ReplayBuild(STREAMS / f"{name}.jsonl").events():
        record.apply(event)
    assert record.result is not None
    return record


@cache
def names() -> tuple[ExerciseName, ...]:
    return tuple(course_names(load_course(paths.shipped_lessons())))


def image(tag: str, name: str, lesson: str | None) -> SeatImage:
    record = recorded("cold" if "first-build" in tag else "multistage")
    return SeatImage(tag, record.result.image_id, record.result.image_size, name, "exercise", lesson)


def single() -> SeatImage:
    return image(SINGLE, "meet-the-app-first-build", "meet-the-app")


def multi() -> SeatImage:
    return image(MULTI, "multi-stage-split-the-build", "multi-stage")


def binary_floor() -> Floor:
    multistage = recorded("multistage")
    copy = next(s for s in multistage.ordered if s.instruction.startswith("COPY --from=builder"))
    return Floor(copy.size, MULTI, "/root/main")


def race_of(images: list[SeatImage], passed: set[tuple[str, str]], floor: Floor | None = None) -> SeatRace:
    return assemble_race(TEST_SEAT, images, floor or binary_floor(), names(), passed)


class Host(App):
    def __init__(self, screen: SizeRaceScreen) -> None:
        super().__init__()
        self.race_screen = screen

    def on_mount(self) -> None:
        self.push_screen(self.race_screen)


class Measure:
    def __init__(self, race: SeatRace | None = None, error: Exception | None = None, hold: bool = False) -> None:
        self.race, self.error = race, error
        self.calls = 0
        self.release = threading.Event()
        if not hold:
            self.release.set()

    def __call__(self) -> SeatRace:
        self.calls += 1
        self.release.wait(10)
        if self.error is not None:
            raise self.error
        assert self.race is not None
        return self.race


def text(screen: SizeRaceScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def test_readable_labels_come_from_the_course() -> None:
    assert readable_label(single(), names()) == "L1 Build and run the app"
    assert readable_label(multi(), names()) == "L7 Split the build in two"
    variant = SeatImage(f"tutor/{TEST_SEAT}/multi-stage-split-the-build-check-solution:latest", "0" * 12, 1,
                        "multi-stage-split-the-build-check-solution", "exercise", "multi-stage")
    assert readable_label(variant, names()) == "L7 Split the build in two (check-solution)"
    built = SeatImage(f"tutor/{TEST_SEAT}/go_app:latest", "1" * 12, 1, "go_app", "build", None)
    assert readable_label(built, names()) == "go_app (tutor build)"
    assert readable_label(multi(), ()) == "multi-stage-split-the-build"  # no course at hand: the tag's name


def test_the_race_is_biggest_first_with_the_binary_as_the_floor() -> None:
    race = race_of([single(), multi()], {("multi-stage", "split-the-build")})
    assert [r.label for r in race.rows] == ["L1 Build and run the app", "L7 Split the build in two",
                                            "the binary alone"]
    big, small, floor = race.rows
    assert floor.is_floor and floor.multiple == 1.0 and floor.bytes == binary_floor().bytes
    assert big.multiple > 30 and 1 < small.multiple < 1.5  # 330 MB vs 10.1 MB over an 8.1 MB binary
    assert race.champion is small and race.hint is None
    lines = render_bars(race.rows, 80)
    assert lines[0].count("█") > 30 and lines[1].count("█") < 3


def test_what_to_build_when_the_race_is_not_full() -> None:
    assert fill_hint([], names()) == "No images yet: build lessons 1 and 7 to compare single-stage and multi-stage."
    assert fill_hint([single()], names()) == "Only one image so far: build lesson 7 (multi-stage) to race it."
    assert fill_hint([multi()], names()).startswith("Only one image so far: build lesson 1")
    assert race_of([single()], set()).champion is None  # nothing passed: nothing counts


async def test_the_screen_draws_the_race_and_marks_the_smallest_image_that_passes() -> None:
    measure = Measure(race_of([single(), multi()], {("multi-stage", "split-the-build"), ("meet-the-app", "first-build")}))
    screen = SizeRaceScreen(TEST_SEAT, None, measure=measure)
    async with Host(screen).run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: screen.race is not None)
        await pilot.pause()
        bars = text(screen, "#race-bars").splitlines()
        assert len(bars) == 3
        assert bars[0].startswith("  L1 Build and run the app") and "330 MB" in bars[0] and "40×" in bars[0]
        assert bars[1].startswith("★ L7 Split the build in two") and "10.1 MB" in bars[1] and "1.2×" in bars[1]
        assert bars[2].startswith("  the binary alone") and "8.1 MB" in bars[2] and "1.0×" in bars[2]
        assert all(len(line) <= screen.query_one("#race-bars").content_region.width for line in bars)
        notes = text(screen, "#race-notes")
        assert "smallest image that passes its checks: L7 Split the build in two: 10.1 MB, 1.2× the binary." in notes
        assert "Floor: the Go binary /root/main, 8.1 MB, measured in L7 Split the build in two." in notes
        assert not screen.is_loading
        await pilot.resize_terminal(70, 30)
        await pilot.pause()
        assert all(len(line) <= 66 for line in text(screen, "#race-bars").splitlines())
        await pilot.press("escape")
        await pilot.pause()
        assert pilot.app.screen is not screen
    assert measure.calls == 1


async def test_fewer_than_two_images_say_what_to_build() -> None:
    measure = Measure(race_of([single()], set()), hold=True)
    screen = SizeRaceScreen(TEST_SEAT, None, measure=measure)
    async with Host(screen).run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: measure.calls == 1)
        assert screen.is_loading and screen.query_one(LoadingIndicator).display
        assert "Measuring your images" in text(screen, "#race-status")
        measure.release.set()
        await wait_for(pilot, lambda: screen.race is not None)
        notes = text(screen, "#race-notes")
        assert "No image here passes its exercise's checks yet" in notes
        assert "build lesson 7 (multi-stage) to race it." in notes
        assert not screen.is_loading and not screen.query_one("#race-status").display


async def test_no_images_at_all() -> None:
    measure = Measure(assemble_race(TEST_SEAT, [], None, names()))
    screen = SizeRaceScreen(TEST_SEAT, None, measure=measure)
    async with Host(screen).run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: screen.race is not None)
        assert not screen.query_one("#race-bars").display
        assert "build lessons 1 and 7 to compare single-stage and multi-stage" in text(screen, "#race-notes")


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (EngineUnavailable(diagnose("unix:///nonexistent/docker.sock")), "No Docker engine socket at /nonexistent/docker.sock"),
        (ConnectionError("Connection aborted"), "The images could not be measured: Connection aborted"),
    ],
)
async def test_errors_are_shown_and_r_measures_again(error: Exception, shown: str) -> None:
    measure = Measure(race_of([single(), multi()], set()), error=error)
    screen = SizeRaceScreen(TEST_SEAT, None, measure=measure)
    async with Host(screen).run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: shown in text(screen, "#race-status"))
        assert not screen.is_loading
        measure.error = None
        await pilot.press("r")
        await wait_for(pilot, lambda: screen.race is not None)
        assert len(text(screen, "#race-bars").splitlines()) == 3
    assert measure.calls == 2


async def test_without_a_floor_multiples_are_of_the_smallest_image() -> None:
    race = assemble_race(TEST_SEAT, [single(), multi()], None, names(), set(), problem="No /app/main in the image X.")
    screen = SizeRaceScreen(TEST_SEAT, None, measure=Measure(race))
    async with Host(screen).run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: screen.race is not None)
        bars = text(screen, "#race-bars").splitlines()
        assert len(bars) == 2 and "1.0×" in bars[1]
        assert "Multiples are of the smallest image instead." in text(screen, "#race-notes")


async def test_a_real_engine_that_is_not_there_is_explained() -> None:
    screen = SizeRaceScreen(TEST_SEAT, "unix:///nonexistent/docker.sock", names=names(), passed=set())
    async with Host(screen).run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "r: measure again" in text(screen, "#race-status"))
        assert "No Docker engine socket at /nonexistent/docker.sock" in text(screen, "#race-status")
