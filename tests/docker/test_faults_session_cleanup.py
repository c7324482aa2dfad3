"""A test run that fails still leaves the engine as it found it.

A pytest session of its own runs a test that builds (a tagged `tutor/pytest/...` image, an
untagged one with no label), leaves a container on one of them and then fails, against a private
engine (tests/second_engine.py). Afterwards that engine holds what it held before, nothing more.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from tests.conftest import ROOT
from tests.second_engine import SecondEngine, second_engine

FAILING_TEST = '''
from pathlib import Path

from tutor.engine import labels
from tutor.engine.build import Build, BuildRequest
from tutor.engine.events import BuildSucceeded


def test_builds_then_fails(engine_api, tmp_path):
    made = []
    for name, tag, seat_labels in (("tagged", "tutor/pytest/failed:latest", True), ("bare", None, False)):
        context = tmp_path / name
        context.mkdir()
        (context / "f").write_text(name)
        (context / "Dockerfile").write_text("FROM scratch\\nCOPY f /f\\nCMD [\\"/f\\"]\\n")
        request = BuildRequest(context, tag=tag, labels=labels.managed_labels("pytest") if seat_labels else {})
        events = list(Build(request).events())
        assert isinstance(events[-1], BuildSucceeded), events[-1]
        made.append(events[-1].image_id)
    engine_api.create_container(made[1], command=["/f"])  # a container of no seat, on the bare image
    assert False, "this test fails on purpose"
'''


@pytest.fixture
def engine(engine_api: docker.APIClient) -> Iterator[SecondEngine]:
    with second_engine() as private:
        yield private


def test_a_failed_test_leaves_no_images_or_containers(engine: SecondEngine, tmp_path: Path) -> None:
    api = docker.APIClient(base_url=engine.url, version="auto", timeout=60)
    try:
        images_before = {i["Id"] for i in api.images(all=True)}
        test_file = tmp_path / "test_fails_on_purpose.py"
        test_file.write_text(FAILING_TEST)
        env = {**os.environ, "DOCKER_HOST": engine.url}
        run = subprocess.run(
            [
                sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                "-p", "tests.conftest", "-p", "tests.docker.conftest", "--rootdir", str(tmp_path), str(test_file),
            ],
            capture_output=True, text=True, env=env, cwd=ROOT, timeout=600,
        )
        out = run.stdout + run.stderr
        assert run.returncode == 1 and "this test fails on purpose" in out, out  # it did fail
        assert "1 failed" in out, out
        assert api.containers(all=True) == [], out
        left = [i for i in api.images(all=True) if i["Id"] not in images_before]
        assert left == [], (left, out)
    finally:
        for c in api.containers(all=True):
            api.remove_container(c["Id"], force=True)
        api.close()
