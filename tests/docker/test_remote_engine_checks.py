"""Lesson 1's exercise on a remote (tcp://) engine: its http check asks the container from the
engine's side, through a labelled helper container that is gone afterwards."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import docker
import pytest

from tests.conftest import ROOT
from tests.pool_engines import pool_engines
from tutor.course.loader import load_course
from tutor.course.runner import ExerciseFinished, ExerciseRun
from tutor.engine import engine_probe, labels
from tutor.workshop.safety import SeatExerciseRun

SEAT = "pytest-remote"


def _probe_helpers_started(api: docker.APIClient, since: float) -> list[dict]:
    events = api.events(
        since=int(since), until=int(time.time()) + 1, decode=True,
        filters={"type": "container", "event": "start", "label": [f"{labels.KIND}={engine_probe.KIND}"]},
    )  # fmt: skip
    return list(events)


@pytest.mark.timeout(900)
def test_lesson_one_passes_its_http_check_on_a_tcp_engine(tmp_path: Path):
    lesson = load_course(ROOT / "lessons").lesson("meet-the-app")
    exercise = lesson.exercises[0]
    assert any(check.kind == "http" for check in exercise.checks)
    workspace = tmp_path / "workspace" / "go_app"
    shutil.copytree(ROOT / "go_app", workspace)
    with pool_engines(1) as (engine,):
        assert engine.url.startswith("tcp://") and engine_probe.engine_side(engine.url)
        api = docker.APIClient(base_url=engine.url, version="auto")
        started = time.time()
        events = list(ExerciseRun(exercise, workspace, lesson.id, seat=SEAT, engine=engine.url).events())
        finished = events[-1]
        assert isinstance(finished, ExerciseFinished)
        assert finished.passed, [(r.name, r.passed, r.found) for r in finished.results]
        helpers = _probe_helpers_started(api, started)
        assert len(helpers) == 1  # the engine-side path was taken: one helper asked the app
        assert helpers[0]["Actor"]["Attributes"][labels.SEAT] == SEAT
        # A workshop seat (its ports from a range) takes the same path; the build is cached by now.
        started = time.time()
        seat_run = SeatExerciseRun(
            exercise, workspace, lesson.id, seat=SEAT, engine=engine.url,
            workspace_root=tmp_path / "workspace", port_range=(18100, 18109),
        )  # fmt: skip
        finished = list(seat_run.events())[-1]
        assert finished.passed, [(r.name, r.passed, r.found) for r in finished.results]
        assert len(_probe_helpers_started(api, started)) == 1
        # Nothing of the checks stays: the app's container and the helpers are removed.
        assert api.containers(all=True, filters={"label": f"{labels.SEAT}={SEAT}"}) == []


@pytest.mark.timeout(300)
def test_an_app_that_does_not_answer_is_reported_from_the_engine_side(tmp_path: Path):
    with pool_engines(1) as (engine,):
        api = docker.APIClient(base_url=engine.url, version="auto")
        silent = api.create_container(
            "alpine:latest", command=["sleep", "600"], labels=labels.managed_labels(SEAT, kind="container")
        )["Id"]
        api.start(silent)
        try:
            answer = engine_probe.probe_from_engine(api, silent, 8080, "/", seat=SEAT, timeout=2)
        finally:
            api.remove_container(silent, force=True)
        assert answer.status is None and not answer.ok
        assert "Connection refused" in (answer.error or "")
        assert answer.cli.startswith("docker run --rm --network bridge alpine:latest wget -qO- http://")
        assert api.containers(all=True, filters={"label": f"{labels.MANAGED}=true"}) == []
