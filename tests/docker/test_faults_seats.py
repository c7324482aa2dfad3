"""Seats stay apart on a shared engine: a seat's build never reads another seat's images, and a
workshop seat builds only from the course's base images, its Dockerfile's stages and its own
images; its containers publish only on 127.0.0.1, on ports of its range.

Everything these tests make carries a seat of their own, removed at the end even when a test fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from tests.conftest import ROOT
from tutor.course.loader import load_course
from tutor.course.runner import ExerciseFinished, ExerciseRun
from tutor.engine import containers, labels, seat_rules
from tutor.engine.build import Build, BuildRequest
from tutor.engine.events import BuildFailed, BuildSucceeded, StepStarted
from tutor.paths import shipped_lessons


@pytest.fixture
def seats(engine_api: docker.APIClient, base_images) -> Iterator[tuple[str, str]]:
    """Two seats of this test alone: (this seat, another seat); both cleaned after."""
    mark = uuid.uuid4().hex[:8]
    pair = (f"pytest-a-{mark}", f"pytest-b-{mark}")
    yield pair
    for seat in pair:
        containers.cleanup_seat(engine_api, seat)


@pytest.fixture
def no_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(seat_rules.ENV_RULES, "")
    monkeypatch.setenv(seat_rules.ENV_PORTS, "")


@pytest.fixture
def workshop(monkeypatch: pytest.MonkeyPatch) -> tuple[int, int]:
    monkeypatch.setenv(seat_rules.ENV_RULES, "kiosk")
    monkeypatch.setenv(seat_rules.ENV_PORTS, "18760-18769")
    return (18760, 18769)


def _context(folder: Path, dockerfile: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Dockerfile").write_text(dockerfile)
    (folder / "secret.txt").write_text("seat b's work\n")
    return folder


def _build(context: Path, seat: str, name: str) -> list:
    request = BuildRequest(context, tag=f"tutor/{seat}/{name}:latest", labels=labels.managed_labels(seat))
    return list(Build(request).events())


@pytest.fixture
def other_seats_image(seats: tuple[str, str], tmp_path: Path) -> str:
    """seat b's image, holding its files."""
    _, b = seats
    events = _build(_context(tmp_path / "b", "FROM alpine:latest\nCOPY secret.txt /secret.txt\n"), b, "go_app")
    assert isinstance(events[-1], BuildSucceeded), events[-1]
    return f"tutor/{b}/go_app"


READS_SEAT_B = {  # the Dockerfile, and the line that reads seat b's image
    "from": ("FROM {image}\nRUN cat /secret.txt\n", 1),
    "copy-from": ("FROM alpine:latest\nCOPY --from={image} /secret.txt /leak.txt\nRUN cat /leak.txt\n", 2),
    "hidden-in-an-arg": ("ARG B={image}\nFROM alpine:latest AS x\nFROM ${{B}}\nRUN cat /secret.txt\n", 3),
}


@pytest.mark.parametrize("rules", ["own-machine", "workshop"])
@pytest.mark.parametrize("how", list(READS_SEAT_B))
def test_a_build_never_reads_another_seats_image(
    how: str, rules: str, seats, other_seats_image: str, tmp_path: Path, engine_api, request
) -> None:
    request.getfixturevalue("workshop" if rules == "workshop" else "no_rules")
    a, b = seats
    text, line = READS_SEAT_B[how]
    text = text.format(image=other_seats_image)
    events = _build(_context(tmp_path / "a", text), a, "leak")
    assert len(events) == 1 and isinstance(events[0], BuildFailed), events  # refused before anything was sent
    failure = events[0]
    assert failure.line == line and failure.message.startswith(f"line {line}: "), failure
    assert f"seat {b}" in failure.message and f"tutor/{a}/" in failure.message, failure.message
    assert not any(isinstance(e, StepStarted) for e in events)
    assert not engine_api.images(name=f"tutor/{a}/leak")


def test_tutor_build_refuses_another_seats_image(seats, other_seats_image: str, tmp_path: Path, no_rules) -> None:
    a, b = seats
    context = _context(tmp_path / "a", f"FROM alpine:latest\nCOPY --from={other_seats_image} /secret.txt /x\n")
    env = {**os.environ, "TUTOR_SEAT": a, "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "tutor", "build", str(context)], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120
    )
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert f"COPY --from {other_seats_image} reads another seat's image (seat {b})" in out, out
    assert "Traceback" not in out and "seat b's work" not in out, out


def test_a_retagged_image_of_another_seat_is_known_by_its_label(
    seats, other_seats_image: str, tmp_path: Path, engine_api, no_rules
) -> None:
    a, b = seats
    sneaky = f"pytest-sneaky-{uuid.uuid4().hex[:8]}"
    engine_api.tag(other_seats_image, sneaky, "latest")
    try:
        events = _build(_context(tmp_path / "a", f"FROM {sneaky}\nRUN cat /secret.txt\n"), a, "leak")
    finally:
        engine_api.remove_image(f"{sneaky}:latest")
    assert len(events) == 1 and isinstance(events[0], BuildFailed), events
    assert events[0].line == 1 and f"seat {b}" in events[0].message, events[0]


def test_a_workshop_seat_builds_from_base_images_stages_and_its_own(
    seats, tmp_path: Path, engine_api, workshop
) -> None:
    a, _ = seats
    ok = _build(_context(tmp_path / "ok", "FROM alpine:latest AS base\nFROM base\nCOPY secret.txt /s\n"), a, "mine")
    assert isinstance(ok[-1], BuildSucceeded), ok[-1]
    own = _build(_context(tmp_path / "own", f"FROM tutor/{a}/mine\nRUN cat /s\n"), a, "mine2")
    assert isinstance(own[-1], BuildSucceeded), own[-1]

    alpine_id = engine_api.inspect_image("alpine:latest")["Id"]
    for text in (f"FROM {alpine_id}\n", "FROM alpine:latest\nCOPY --from=alpine:3.0 /etc /etc\n"):
        events = _build(_context(tmp_path / "no", text), a, "no")
        assert len(events) == 1 and isinstance(events[0], BuildFailed), events
        assert "golang:1.24-alpine, alpine:latest" in events[0].message and f"tutor/{a}/" in events[0].message


def test_the_exercise_runner_refuses_another_seats_image(
    seats, other_seats_image: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_rules
) -> None:
    a, b = seats
    monkeypatch.setenv("TUTOR_SEAT", a)
    course = load_course(shipped_lessons())
    lesson = course.lessons[0]
    exercise = lesson.exercises[0]
    workspace = _context(tmp_path / "ws", f"FROM {other_seats_image}\nRUN cat /secret.txt\n")
    if exercise.dockerfile != "Dockerfile":
        (workspace / exercise.dockerfile).write_text((workspace / "Dockerfile").read_text())
    run = ExerciseRun(exercise, workspace, lesson.id, seat=a)
    events = list(run.events())
    failures = [e for e in events if isinstance(e, BuildFailed)]
    assert failures and f"seat {b}" in failures[0].message, events
    assert isinstance(events[-1], ExerciseFinished) and not events[-1].passed


def test_a_workshop_seat_publishes_only_inside_its_range(seats, engine_api, workshop) -> None:
    a, _ = seats
    low, high = workshop
    with pytest.raises(containers.ContainerError) as refused:
        containers.run_container(engine_api, "alpine:latest", ports={80: 8080}, seat=a, command="sleep 30")
    assert f"{low}-{high}" in refused.value.message and "80" in refused.value.message
    with pytest.raises(containers.ContainerError) as open_to_all:
        containers.run_container(
            engine_api, "alpine:latest", ports={low: 8080}, seat=a, command="sleep 30", bind_host="0.0.0.0"
        )
    assert "127.0.0.1 only" in open_to_all.value.message
    assert containers.list_containers(engine_api, a, all=True) == []  # nothing was created
