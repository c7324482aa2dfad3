"""What the benchmarks build with, and how they leave the engine as they found it.

Every benchmark builds under seats of its own (``bench-<pid>-...``), so cleanup
removes exactly those images and containers, by label, and nothing else.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import docker

from tutor.engine import labels
from tutor.engine.build import Build, BuildRequest
from tutor.engine.client import connect
from tutor.engine.containers import cleanup_seat
from tutor.engine.events import BuildFailed, BuildSucceeded
from tutor.engine.record import BuildRecord

GO_APP = Path(__file__).resolve().parents[1] / "go_app"


def seat(name: str) -> str:
    return f"bench-{os.getpid()}-{name}"


@contextmanager
def scratch_go_app() -> Iterator[Path]:
    """A scratch copy of the sample app, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="tutor-bench-") as tmp:
        dest = Path(tmp) / "go_app"
        shutil.copytree(GO_APP, dest)
        yield dest


def request(context: Path, seat_name: str) -> BuildRequest:
    return BuildRequest(
        context,
        tag=labels.seat_tag(seat_name, context.name),
        labels=labels.managed_labels(seat_name, kind="benchmark"),
    )


def build(req: BuildRequest) -> BuildRecord:
    """One build, every event folded into a record; raises when it fails."""
    record = BuildRecord()
    for event in Build(req).events():
        record.apply(event)
    if record.result is None:
        failure = record.failure
        raise RuntimeError(
            f"the build of {req.context} failed: {failure.message if isinstance(failure, BuildFailed) else failure}"
        )
    assert isinstance(record.result, BuildSucceeded)
    return record


def remove_seat(seat_name: str, api: docker.APIClient | None = None) -> int:
    """Remove the containers and images of one seat, as `tutor clean --seat` does; how many images went."""
    own = api is None
    api = api or connect()
    try:
        return cleanup_seat(api, seat_name).images_removed
    finally:
        if own:
            api.close()
