"""Shared test set-up.

Every test runs with its own TUTOR_HOME (user data, progress, workspaces) and the
seat ``pytest``, so tests never touch a real learner's files and cleanup can
find exactly what the tests built on the engine.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
STREAMS = FIXTURES / "streams"
TEST_SEAT = "pytest"


def unavailable(message: str) -> None:
    """Something a real-engine test needs is missing: a skip on a developer's machine, a failure
    where TUTOR_REQUIRE_ENGINE=1 (CI), where a skipped Docker test would prove nothing."""
    if os.environ.get("TUTOR_REQUIRE_ENGINE") == "1":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)

os.environ["TUTOR_SEAT"] = TEST_SEAT


@pytest.fixture(autouse=True)
def tutor_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path_factory.mktemp("tutor-home")
    monkeypatch.setenv("TUTOR_HOME", str(home))
    monkeypatch.setenv("TUTOR_SEAT", TEST_SEAT)
    return home


@pytest.fixture
def stream_path():
    def _path(name: str) -> Path:
        path = STREAMS / f"{name}.jsonl"
        if not path.exists():
            path = STREAMS / f"{name}.jsonl.gz"
        return path

    return _path


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    docker_dir = ROOT / "tests" / "docker"
    for item in items:
        if docker_dir in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.docker)
