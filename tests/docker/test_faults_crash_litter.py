"""An engine killed mid-build leaves the step's container behind, exited, carrying only the labels
of the image it ran (the base image's): `tutor clean` still finds and removes it, from the
"Running in <id>" containers the seat's builds recorded.

The engine here is a private one (tests/second_engine.py): it is killed and started again.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from tests.conftest import TEST_SEAT
from tests.second_engine import SecondEngine, second_engine
from tutor.engine import labels, ledger
from tutor.engine.build import Build, BuildRequest
from tutor.engine.containers import cleanup_seat
from tutor.engine.events import BuildFailed, StepRunning

SLOW = "FROM alpine:latest\nRUN echo started && sleep 600\n"


@pytest.fixture
def engine(engine_api: docker.APIClient, base_images) -> Iterator[SecondEngine]:
    with second_engine() as private:
        api = docker.APIClient(base_url=private.url, version="auto", timeout=300)
        api.load_image(engine_api.get_image("alpine:latest"))
        api.close()
        yield private


def _api(engine: SecondEngine) -> docker.APIClient:
    return docker.APIClient(base_url=engine.url, version="auto", timeout=60)


def _kill_mid_build(engine: SecondEngine, context: Path) -> BuildFailed:
    """Build the slow step, kill the engine once its container runs, return the build's failure."""
    build = Build(
        BuildRequest(context, tag=f"tutor/{TEST_SEAT}/slow:latest", labels=labels.managed_labels(TEST_SEAT), engine=engine.url)
    )
    events: queue.Queue = queue.Queue()

    def consume() -> None:
        for event in build.events():
            events.put(event)
        events.put(None)

    worker = threading.Thread(target=consume, daemon=True)
    worker.start()
    failure = None
    killed = False
    while True:
        event = events.get(timeout=300)  # each event is waited on, never a fixed time
        if event is None:
            break
        if isinstance(event, StepRunning) and not killed:
            engine.kill()
            killed = True
        if isinstance(event, BuildFailed):
            failure = event
    worker.join(timeout=60)
    assert killed, "the slow step never ran"
    assert failure is not None and failure.engine_lost, failure
    return failure


def test_clean_removes_the_step_containers_a_killed_engine_left(engine: SecondEngine, tmp_path: Path) -> None:
    context = tmp_path / "slow"
    context.mkdir()
    (context / "Dockerfile").write_text(SLOW)
    for round_ in range(2):  # killed twice: two exited build containers
        _kill_mid_build(engine, context)
        engine.start()
        (context / "Dockerfile").write_text(SLOW.replace("started", f"started {round_}"))  # a new step each time

    api = _api(engine)
    try:
        left = api.containers(all=True)
        assert len(left) == 2, left  # what the issue saw: two exited build containers...
        for c in left:
            assert labels.SEAT not in (c.get("Labels") or {}), c  # ...that no seat label marks
        assert len(ledger.recorded_containers(TEST_SEAT)) == 2

        result = cleanup_seat(api, TEST_SEAT)
        assert api.containers(all=True) == [], result
        assert result.containers_removed >= 2, result
        assert not result.failures, result
        assert ledger.recorded_containers(TEST_SEAT) == set()  # the entries went with them
    finally:
        for c in api.containers(all=True):
            api.remove_container(c["Id"], force=True)
        api.close()


def test_clean_leaves_a_running_build_and_other_containers_alone(engine: SecondEngine) -> None:
    api = _api(engine)
    try:
        other = api.create_container("alpine:latest", command=["sleep", "600"])  # someone else's, unrecorded
        api.start(other["Id"])
        ledger.record_containers(TEST_SEAT, [other["Id"]])  # even when recorded: a running one stays
        cleanup_seat(api, TEST_SEAT)
        assert [c["Id"] for c in api.containers(all=True)] == [other["Id"]]
    finally:
        for c in api.containers(all=True):
            api.remove_container(c["Id"], force=True)
        api.close()
