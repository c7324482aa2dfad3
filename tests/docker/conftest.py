"""Real-engine tests.  Without an engine they fail, never skip: a skipped Docker
test proves nothing.

At the end of the session every container and image of the test seat is
removed, with the dangling intermediate images the builds left: the engine is
left as it was found.  The course's base images are shared and stay.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from tests.conftest import ROOT, TEST_SEAT, missing
from tutor.engine import baseimages
from tutor.engine.client import EngineUnavailable, connect
from tutor.engine.containers import cleanup_seat


@pytest.fixture(scope="session")
def engine_api() -> Iterator[docker.APIClient]:
    try:
        api = connect()
    except EngineUnavailable as exc:
        missing(f"no Docker engine: {exc.problem.reason} {exc.problem.fix}")
    dangling_before = {i["Id"] for i in api.images(filters={"dangling": True})}
    yield api
    cleanup_seat(api, TEST_SEAT)  # what `tutor clean --seat pytest` removes
    for image in api.images(filters={"dangling": True}):
        if image["Id"] not in dangling_before:
            try:
                api.remove_image(image["Id"])
            except docker.errors.APIError:
                pass
    api.close()


@pytest.fixture(scope="session")
def base_images(engine_api: docker.APIClient) -> list[baseimages.BaseImageStatus]:
    """The course's base images, made as offline stand-ins when no registry gave them."""
    statuses = baseimages.status(engine_api)
    if baseimages.missing(statuses):
        for _ in baseimages.make_standins(engine_api):
            pass
        statuses = baseimages.status(engine_api)
    assert not baseimages.missing(statuses), statuses
    return statuses


@pytest.fixture(autouse=True)
def _needs_engine(engine_api: docker.APIClient) -> None:
    """Every test in tests/docker needs the engine (skip or fail as above)."""


@pytest.fixture
def go_app(tmp_path: Path, base_images) -> Path:
    """A scratch copy of the sample app that a test may edit."""
    dest = tmp_path / "go_app"
    shutil.copytree(ROOT / "go_app", dest)
    return dest
