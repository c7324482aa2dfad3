"""Real-engine tests.  Without an engine they fail, never skip: a skipped Docker
test proves nothing.

At the end of the session, failed tests or not, every container and image of the
test seat is removed, then every container made since the session began on an
image made since then, then every image that was not on the engine when the
session began (the builds' step images included, on either image store): the
engine is left as it was found.  The course's base images are shared and stay.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from tests.conftest import ROOT, TEST_SEAT, missing
from tutor.engine import baseimages, standins
from tutor.engine.client import EngineUnavailable, connect
from tutor.engine.containers import cleanup_seat


@pytest.fixture(scope="session")
def engine_api() -> Iterator[docker.APIClient]:
    try:
        api = connect()
    except EngineUnavailable as exc:
        missing(f"no Docker engine: {exc.problem.reason} {exc.problem.fix}")
    images_before = {i["Id"] for i in api.images(all=True)}
    containers_before = {c["Id"] for c in api.containers(all=True)}
    yield api
    # Runs after failed tests as after passing ones; each part runs even when one before it failed.
    try:
        cleanup_seat(api, TEST_SEAT)  # what `tutor clean --seat pytest` removes
    finally:
        try:
            leave_containers_as_found(api, containers_before, images_before)
        finally:
            leave_images_as_found(api, images_before)
            api.close()


def leave_containers_as_found(api: docker.APIClient, before: set[str], images_before: set[str]) -> None:
    """Remove the containers made since the session began on images made since then.

    A failed test may leave one (of no seat, or of a seat of its own) before its cleanup ran, and
    a container holds its image: the images would stay too.
    """
    for c in api.containers(all=True):
        if c["Id"] in before or c.get("ImageID") in images_before:
            continue
        if c.get("State") == "running" and "io.tutor.managed" not in (c.get("Labels") or {}):
            # A build step running for someone else on a shared engine (the classic builder's step
            # containers carry no label); a test's own builds have ended or been cancelled by now.
            continue
        try:
            api.remove_container(c["Id"], force=True, v=True)
        except docker.errors.APIError:
            pass


def leave_images_as_found(api: docker.APIClient, before: set[str]) -> None:
    """Remove every image that was not on the engine before, children first.

    Each test has its own TUTOR_HOME, so no one seat ledger knows all the step images the
    tests' builds left; on the containerd image store those are top-level images that no
    `dangling` filter lists.
    """
    for _ in range(3):  # a child removed lets its parent go in the next round
        new = [
            i
            for i in api.images(all=True)
            if i["Id"] not in before and not set(i.get("RepoTags") or ()) & set(baseimages.COURSE_BASE_IMAGES)
        ]
        if not new:
            return
        parents = {i.get("ParentId") for i in new}
        for image in sorted(new, key=lambda i: i["Id"] in parents):  # leaves first
            try:
                api.remove_image(image["Id"], force=True)
            except docker.errors.APIError:
                pass


@pytest.fixture(scope="session")
def base_images(engine_api: docker.APIClient) -> list[baseimages.BaseImageStatus]:
    """The course's base images, made as offline stand-ins when no registry gave them."""
    statuses = baseimages.status(engine_api)
    if baseimages.missing(statuses):
        for _ in standins.make_standins(engine_api):
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
