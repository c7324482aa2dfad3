"""Why a probe found nothing: a container the learner stopped is not a missing CMD."""

from __future__ import annotations

from tutor.engine.container_actions import _exit_story
from tutor.engine.containers import info_from_inspect


class _Api:
    def __init__(self, data: dict) -> None:
        self.data = data

    def inspect_container(self, _id: str) -> dict:
        return self.data


def _container(code: int, **state) -> dict:
    return {
        "Id": "c" * 64,
        "Name": "/tutor-pytest-go-app",
        "Path": "./main",
        "Args": [],
        "State": {"Status": "exited", "ExitCode": code, **state},
        "Config": {},
    }


def test_a_stopped_container_is_explained_as_stopped_not_as_a_missing_cmd():
    data = _container(143)
    story = _exit_story(_Api(data), info_from_inspect(data))  # type: ignore[arg-type]
    assert "It was stopped (exit code 143 is 128 + 15, SIGTERM)" in story
    assert "docker start tutor-pytest-go-app" in story
    assert "CMD" not in story


def test_a_container_that_exited_by_itself_points_at_its_cmd():
    data = _container(0)
    story = _exit_story(_Api(data), info_from_inspect(data))  # type: ignore[arg-type]
    assert "It ran `./main`" in story and "CMD" in story
    killed = _container(137, OOMKilled=True)
    assert "stopped" not in _exit_story(_Api(killed), info_from_inspect(killed)).split("\n", 1)[1]  # type: ignore[arg-type]
