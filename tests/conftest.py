"""Shared test set-up.

Every test runs with its own TUTOR_HOME (user data, progress, workspaces) and the
seat ``pytest``, so tests never touch a real learner's files and cleanup can
find exactly what the tests built on the engine.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
STREAMS = FIXTURES / "streams"
TEST_SEAT = "pytest"


def missing(message: str) -> NoReturn:
    """Something a real-engine test needs is missing: the test fails, never skips (a skipped Docker
    test proves nothing). Without an engine, run the tests that need none: tests/unit tests/ui."""
    pytest.fail(f"{message} (tests that need no engine: pytest tests/unit tests/ui)", pytrace=False)

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
